-- The records each period's files reported, one per (form, period, subject unit, record key), with every
-- file row that reported it (current accepted submissions only). Their values: int_form_values_current.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_form_periods('unnest(submission_ids)') }}",
) }}

-- Incremental by (form, period): see macros/current_form_periods.sql.

with

submissions as (
    select * from {{ ref('int_submissions_ranked') }}
    where is_current {{ only_changed_form_periods('unnest(submission_ids)') }}
),

form_values as (
    select * from {{ ref('stg_raw__form_values') }}
    {% if is_incremental() %}
        where submission_id in (select submission_id from submissions)
    {% endif %}
),

form_rows as (
    select distinct
        submission_id,
        form_code,
        subject_unit_id,
        record_key,
        row_ref,
    from form_values
),

final as (
    select
        form_rows.form_code,
        submissions.period_no,
        form_rows.subject_unit_id,
        form_rows.record_key,
        list_sort(list(distinct form_rows.row_ref)) as row_refs,
        list_sort(list(distinct submissions.unit_id)) as submitter_unit_ids,
        max(submissions.received_at) as last_received_at,
        list_sort(list(distinct submissions.submission_id)) as submission_ids,
    from form_rows
    inner join submissions on form_rows.submission_id = submissions.submission_id
    group by form_rows.form_code, submissions.period_no, form_rows.subject_unit_id, form_rows.record_key
)

select * from final
