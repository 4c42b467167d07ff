-- The record version each period's figures read, one per (form, period, subject unit, record key):
-- county and task forms take that period's record; ledgers (grain `record`) carry each record's latest
-- reported state forward until a later period reports it again. data_period_no names the version.

with

records as (
    select * from {{ ref('int_form_records_current') }}
),

forms as (
    select * from {{ ref('stg_ref__forms') }}
),

periods as (
    select * from {{ ref('stg_ref__periods') }}
),

with_grain as (
    select
        records.*,
        forms.form_grain,
    from records
    inner join forms on records.form_code = forms.form_code
),

ledger_versions as (
    select
        *,
        lead(period_no) over (
            partition by form_code, subject_unit_id, record_key order by period_no
        ) as next_version_period_no,
    from with_grain
    where form_grain = 'record'
),

ledger_by_period as (
    select
        ledger_versions.form_code,
        periods.period_no,
        ledger_versions.subject_unit_id,
        ledger_versions.record_key,
        ledger_versions.period_no as data_period_no,
        ledger_versions.row_refs,
    from ledger_versions
    inner join periods
        on periods.period_no >= ledger_versions.period_no
        and (
            ledger_versions.next_version_period_no is null
            or periods.period_no < ledger_versions.next_version_period_no
        )
),

periodic as (
    select
        form_code,
        period_no,
        subject_unit_id,
        record_key,
        period_no as data_period_no,
        row_refs,
    from with_grain
    where form_grain <> 'record'
),

final as (
    select * from ledger_by_period
    union all
    select * from periodic
)

select * from final
