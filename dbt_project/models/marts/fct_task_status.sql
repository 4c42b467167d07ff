-- Every task in every period.
-- Tasks with target-bearing indicators: the worst status of those indicators at their widest scope
-- (the city or a group; counties only where an indicator has no wider scope).
-- Other tasks (milestones, or tasks whose indicators are reported without target): from each lead
-- unit's latest task report at or before the period (its report_stage, from the order of the status
-- column's values in forms.yml; in jiujiang-2022 未启动 / 推进中 / 已完成) —
--   done → 已完成; in_progress → 正常推进; not_started → 未启动; no report → 数据缺报;
--   not done when the period ends on or after the deadline → 逾期未完成 —
-- and the worst lead wins, so the task is 已完成 only when every lead says so.
-- Worst-first order: 逾期未完成, 数据缺报, 未启动, 滞后, 正常推进, 已完成.

with

tasks as (
    select * from {{ ref('stg_ref__tasks') }}
),

periods as (
    select * from {{ ref('stg_ref__periods') }}
),

units as (
    select * from {{ ref('stg_ref__units') }}
),

indicator_tasks as (
    select * from {{ ref('stg_ref__indicator_tasks') }}
),

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

reports as (
    select * from {{ ref('fct_task_reports') }}
),

task_indicator_values as (
    select
        indicator_tasks.task_no,
        indicator_values.*,
        max(case when indicator_values.unit_kind <> 'county' then 1 else 0 end) over (
            partition by indicator_tasks.task_no, indicator_values.indicator_code
        ) as has_wide_scope,
    from indicator_tasks
    inner join indicator_values on indicator_tasks.indicator_code = indicator_values.indicator_code
    where indicator_values.direction <> 'none'
),

widest_scope as (
    select *
    from task_indicator_values
    where unit_kind <> 'county' or has_wide_scope = 0
),

by_indicators as (
    select
        task_no,
        period_no,
        min({{ status_severity('status') }}) as severity,
        count(*) as indicator_figures,
        string_agg(
            indicator_code || ' ' || indicator_name || '（' || unit_name || '）' || status
            || '：实际' || {{ format_figure('actual', 'indicator_kind') }}
            || '，序时' || {{ format_figure('expected', 'indicator_kind') }}
            || '，目标' || {{ format_figure('target', 'indicator_kind') }},
            '；' order by indicator_code, unit_sort_order
        ) as indicator_summary,
    from widest_scope
    group by all
),

lead_reports as (
    select
        reports.*,
        tasks.task_deadline,
        periods.period_end_date,
        periods.period_label,
        units.unit_name,
        units.sort_order,
        report_period.period_label as report_period_label,
        case
            when reports.report_stage = 'done' then '已完成'
            when reports.report_status is null then '数据缺报'
            when periods.period_end_date >= tasks.task_deadline then '逾期未完成'
            when reports.report_stage = 'in_progress' then '正常推进'
            when reports.report_stage = 'not_started' then '未启动'
            else '数据缺报'
        end as lead_status,
    from reports
    inner join tasks on reports.task_no = tasks.task_no
    inner join periods on reports.period_no = periods.period_no
    inner join units on reports.unit_id = units.unit_id
    left join periods as report_period on reports.report_period_no = report_period.period_no
),

by_leads as (
    select
        task_no,
        period_no,
        min({{ status_severity('lead_status') }}) as severity,
        count(*) as leads_expected,
        count(report_status) as leads_reporting,
        string_agg(
            unit_name || '：' || coalesce(report_status, '未报送')
            || case when report_period_no < period_no then '（' || report_period_label || '）' else '' end,
            '；' order by sort_order
        ) as lead_report_status,
        string_agg(
            unit_name
            || case when report_period_no < period_no then '（' || report_period_label || '）' else '' end
            || '：' || progress,
            '；' order by sort_order
        ) filter (where progress is not null) as progress_text,
        string_agg(
            unit_name
            || case when report_period_no < period_no then '（' || report_period_label || '）' else '' end
            || '：' || difficulties,
            '；' order by sort_order
        ) filter (where difficulties is not null) as difficulties,
        list_sort(flatten(list(source_rows) filter (where source_rows is not null))) as source_rows,
    from lead_reports
    group by all
),

spine as (
    select
        tasks.*,
        periods.period_no,
        periods.period_label,
        periods.period_start_date,
        periods.period_end_date,
        periods.month,
    from tasks
    cross join periods
),

judged as (
    select
        spine.*,
        by_indicators.task_no is not null as judged_on_indicators,
        {{ status_of_severity('coalesce(by_indicators.severity, by_leads.severity, 2)') }} as status,
        by_indicators.indicator_summary,
        by_indicators.indicator_figures,
        by_leads.lead_report_status,
        by_leads.progress_text,
        by_leads.difficulties,
        coalesce(by_leads.leads_expected, 0) as leads_expected,
        coalesce(by_leads.leads_reporting, 0) as leads_reporting,
        by_leads.source_rows,
    from spine
    left join by_indicators
        on spine.task_no = by_indicators.task_no
        and spine.period_no = by_indicators.period_no
    left join by_leads
        on spine.task_no = by_leads.task_no
        and spine.period_no = by_leads.period_no
),

final as (
    select
        task_no,
        period_no,
        section_no,
        section_title,
        task_title,
        task_deadline,
        is_milestone,
        period_label,
        period_end_date,
        month,
        case when judged_on_indicators then 'indicators' else 'task_reports' end as status_basis,
        status,
        min(case when status = '已完成' then period_no end) over so_far as first_done_period_no,
        coalesce(
            min(case when status = '已完成' then period_start_date end) over so_far > task_deadline, false
        ) as done_after_deadline,
        indicator_summary,
        coalesce(indicator_figures, 0) as indicator_figures,
        lead_report_status,
        progress_text,
        difficulties,
        leads_expected,
        leads_reporting,
        source_rows,
    from judged
    window so_far as (partition by task_no order by period_no rows between unbounded preceding and current row)
)

select * from final
