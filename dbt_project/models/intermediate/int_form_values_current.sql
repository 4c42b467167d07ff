-- The values that count, one per (form, period, subject unit, record key, column): from current accepted
-- submissions only (a resubmission replaces the unit's earlier file). When several units reported the
-- same record in a period (a city department and the county itself, or two departments each filling
-- their own columns of a shared form, as 市公安局 and 市城管局 do in F7), each column takes the latest
-- file that gave it a value; a blank cell does not wipe out another unit's figure.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_form_periods('submission_id') }}",
) }}

-- Incremental by (form, period): see macros/current_form_periods.sql.

with

submissions as (
    select * from {{ ref('int_submissions_ranked') }}
    where is_current {{ only_changed_form_periods('submission_id') }}
),

form_values as (
    select * from {{ ref('stg_raw__form_values') }}
    {% if is_incremental() %}
        where submission_id in (select submission_id from submissions)
    {% endif %}
),

given as (
    select
        form_values.form_code,
        submissions.period_no,
        form_values.subject_unit_id,
        form_values.record_key,
        form_values.column_key,
        form_values.value_num,
        form_values.value_text,
        form_values.value_date,
        form_values.value_as_text,
        form_values.submission_id,
        form_values.source_row,
        form_values.row_ref,
        submissions.unit_id as submitter_unit_id,
        submissions.received_at,
    from form_values
    inner join submissions on form_values.submission_id = submissions.submission_id
    where nullif(trim(form_values.value_as_text), '') is not null
),

final as (
    select *
    from given
    qualify row_number() over (
        partition by form_code, period_no, subject_unit_id, record_key, column_key
        order by received_at desc, submission_id desc, source_row desc
    ) = 1
)

select * from final
