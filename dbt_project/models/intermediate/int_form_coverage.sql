-- Whether a county's data of a form is there for a period (grain form, county, period):
-- county forms: the county's row came in (from whoever may report it);
-- ledgers: an accepted ledger for the period came in from the county itself or from a unit that
-- reports on every county (a city department). Missing data is 数据缺报 downstream, never a zero.

with

submissions as (
    select * from {{ ref('int_submissions_ranked') }}
    where is_current
),

records as (
    select * from {{ ref('int_form_records_current') }}
),

forms as (
    select * from {{ ref('stg_ref__forms') }}
    where form_grain in ('county', 'record')
),

units as (
    select * from {{ ref('stg_ref__units') }}
),

periods as (
    select * from {{ ref('stg_ref__periods') }}
),

spine as (
    select
        forms.form_code,
        forms.form_grain,
        units.unit_id,
        periods.period_no,
    from forms
    cross join units
    cross join periods
    where units.unit_kind = 'county'
),

county_rows as (
    select
        form_code,
        subject_unit_id as unit_id,
        period_no,
        count(*) as row_count,
    from records
    group by all
),

ledger_submitters as (
    select
        submissions.form_code,
        submissions.period_no,
        submissions.unit_id as submitter_unit_id,
        units.unit_kind as submitter_kind,
    from submissions
    inner join units on submissions.unit_id = units.unit_id
),

ledgers_for_every_county as (
    select distinct
        form_code,
        period_no,
    from ledger_submitters
    where submitter_kind <> 'county'
),

final as (
    select
        spine.form_code,
        spine.unit_id,
        spine.period_no,
        case
            when spine.form_grain = 'county' then county_rows.row_count is not null
            else own_ledger.submitter_unit_id is not null or every_county.form_code is not null
        end as has_data,
    from spine
    left join county_rows
        on spine.form_code = county_rows.form_code
        and spine.unit_id = county_rows.unit_id
        and spine.period_no = county_rows.period_no
    left join ledger_submitters as own_ledger
        on spine.form_code = own_ledger.form_code
        and spine.period_no = own_ledger.period_no
        and spine.unit_id = own_ledger.submitter_unit_id
    left join ledgers_for_every_county as every_county
        on spine.form_code = every_county.form_code
        and spine.period_no = every_county.period_no
)

select * from final
