-- Each lead unit's latest report on each task it leads (the task-grain form, e.g. F9), as of every
-- period: the row of the latest period at or before it. Grain (task, lead unit, period).
-- Which columns hold status / progress / difficulties: vars task_report_* in dbt_project.yml.

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

reports as (
    select
        task_records.task_no,
        task_records.subject_unit_id as unit_id,
        task_records.period_no as report_period_no,
        any_value(task_records.last_received_at) as received_at,
        any_value(task_records.row_refs) as row_refs,
        max(record_values.value_as_text) filter (
            where record_values.column_key = '{{ var("task_report_status_column") }}'
        ) as report_status,
        max(record_values.value_as_text) filter (
            where record_values.column_key = '{{ var("task_report_progress_column") }}'
        ) as progress,
        max(record_values.value_as_text) filter (
            where record_values.column_key = '{{ var("task_report_difficulties_column") }}'
        ) as difficulties,
    from task_records
    left join record_values
        on task_records.form_code = record_values.form_code
        and task_records.period_no = record_values.period_no
        and task_records.subject_unit_id = record_values.subject_unit_id
        and task_records.record_key = record_values.record_key
    group by task_records.task_no, task_records.subject_unit_id, task_records.period_no
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
        reports.report_period_no,
        reports.report_status,
        nullif(trim(reports.progress), '') as progress,
        nullif(trim(reports.difficulties), '') as difficulties,
        reports.row_refs,
    from spine
    left join reports
        on spine.task_no = reports.task_no
        and spine.unit_id = reports.unit_id
        and reports.report_period_no <= spine.period_no
    qualify row_number() over (
        partition by spine.task_no, spine.unit_id, spine.period_no
        order by reports.report_period_no desc nulls last, reports.received_at desc nulls last
    ) = 1
)

select * from final
