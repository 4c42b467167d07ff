-- Each lead unit's latest report on each task it leads (the task-grain form, e.g. F9), as of every
-- period: the row of the latest period at or before it. Grain (task, lead unit, period).
-- Which columns hold the status / progress / difficulties / evidence: their `role` in forms.yml
-- (ref.form_columns.role), never their keys. The status words come from the status column's `values`
-- in the order written: the first means not started, the last done, any between under way
-- (report_stage not_started / in_progress / done; null for a word not in the list).

with

records as (
    select * from {{ ref('int_form_records_current') }}
),

record_values as (
    select * from {{ ref('int_form_values_current') }}
),

forms as (
    select * from {{ ref('stg_ref__forms') }}
),

form_columns as (
    select * from {{ ref('stg_ref__form_columns') }}
),

task_units as (
    select * from {{ ref('stg_ref__task_units') }}
),

periods as (
    select * from {{ ref('stg_ref__periods') }}
),

task_records as (
    select
        records.*,
        try_cast(records.record_key as integer) as task_no,
    from records
    inner join forms on records.form_code = forms.form_code
    where forms.form_grain = 'task'
),

status_words as (
    select
        form_code,
        allowed_values,
    from form_columns
    where column_role = 'task_status'
),

reports as (
    select
        task_records.task_no,
        task_records.subject_unit_id as unit_id,
        task_records.period_no as report_period_no,
        any_value(task_records.form_code) as form_code,
        any_value(task_records.last_received_at) as received_at,
        any_value(task_records.row_refs) as row_refs,
        -- task grain: one submitter per record, so every value comes from its current file
        arg_max(record_values.submission_id, record_values.received_at) as submission_id,
        max(record_values.value_as_text) filter (where form_columns.column_role = 'task_status')
            as report_status,
        max(record_values.value_as_text) filter (where form_columns.column_role = 'task_progress')
            as progress,
        max(record_values.value_as_text) filter (where form_columns.column_role = 'task_difficulties')
            as difficulties,
        max(record_values.value_as_text) filter (where form_columns.column_role = 'task_evidence')
            as evidence,
    from task_records
    left join record_values
        on task_records.form_code = record_values.form_code
        and task_records.period_no = record_values.period_no
        and task_records.subject_unit_id = record_values.subject_unit_id
        and task_records.record_key = record_values.record_key
    left join form_columns
        on record_values.form_code = form_columns.form_code
        and record_values.column_key = form_columns.column_key
    group by task_records.task_no, task_records.subject_unit_id, task_records.period_no
),

staged as (
    select
        reports.*,
        list_position(status_words.allowed_values, reports.report_status) as status_position,
        len(status_words.allowed_values) as status_words,
    from reports
    left join status_words on reports.form_code = status_words.form_code
),

leads as (
    select distinct
        task_no,
        unit_id,
    from task_units
    where role = 'lead'
),

spine as (
    select
        leads.task_no,
        leads.unit_id,
        periods.period_no,
    from leads
    cross join periods
),

final as (
    select
        spine.task_no,
        spine.unit_id,
        spine.period_no,
        staged.report_period_no,
        staged.form_code,
        staged.submission_id,
        staged.received_at,
        staged.report_status,
        case
            when staged.status_position is null or staged.status_position = 0 then null
            when staged.status_position = staged.status_words then 'done'
            when staged.status_position = 1 then 'not_started'
            else 'in_progress'
        end as report_stage,
        nullif(trim(staged.progress), '') as progress,
        nullif(trim(staged.difficulties), '') as difficulties,
        nullif(trim(staged.evidence), '') as evidence,
        staged.row_refs,
    from spine
    left join staged
        on spine.task_no = staged.task_no
        and spine.unit_id = staged.unit_id
        and staged.report_period_no <= spine.period_no
    qualify row_number() over (
        partition by spine.task_no, spine.unit_id, spine.period_no
        order by staged.report_period_no desc nulls last, staged.received_at desc nulls last
    ) = 1
)

select * from final
