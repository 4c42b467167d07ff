-- Every lead unit's latest task report (the task-grain form, F9 in jiujiang-2022) on every task it leads,
-- as of every period: grain (task, lead unit, period). A period without a new report carries the latest
-- earlier one (report_period_no says which; reported_this_period = sent for this very period); no report
-- yet leaves the report columns empty. The columns come from their role in forms.yml, report_stage
-- (not_started / in_progress / done) from the order of the status column's values: see
-- int_task_reports_latest. The text is the lead unit's own words, as loaded.

with

reports as (
    select * from {{ ref('int_task_reports_latest') }}
),

final as (
    select
        task_no,
        unit_id,
        period_no,
        report_period_no,
        coalesce(report_period_no = period_no, false) as reported_this_period,
        form_code,
        submission_id,
        received_at,
        report_status,
        report_stage,
        progress,
        difficulties,
        evidence,
        row_refs as source_rows,
    from reports
)

select * from final
