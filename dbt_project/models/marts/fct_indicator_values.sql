-- Every indicator for every scope (county, city, group) and period: the figures, the target, 序时进度 and
-- the status, with the submission rows (submission:sheet:row) the figure was computed from.
-- target_is_assumption: the target is the office's assumption, not a figure of the plan (shown （暂定）).
--
-- Status, first rule that applies:
--   数据缺报    the data for this scope and period is not all there (a form or a member county missing;
--               for a running amount, any period so far)
--   正常推进    the indicator has no target (direction none): reported only
--   已完成      a rate over a zero denominator with a zero numerator (nothing due, no deaths either year)
--   滞后 / 逾期未完成  a rate over a zero denominator with a positive numerator (deaths up from none)
--   未启动      the value cannot be computed yet (no month closed for month-on-month)
--   已完成      actual >= target
--   逾期未完成  the period ends on or after the deadline and the target is not met
--   未启动      actual = 0 and baseline = 0
--   正常推进    actual >= expected (序时进度)
--   滞后        otherwise

with

expected as (
    select * from {{ ref('int_indicator_values_expected') }}
),

judged as (
    select
        *,
        case
            when not is_present then '数据缺报'
            when direction = 'none' or target is null then '正常推进'
            -- a rate over nothing (no deaths last year, nothing due): met when nothing happened either
            when actual is null and value_rule in ('ratio', 'decrease') and denominator = 0 and numerator = 0
                then '已完成'
            when actual is null and value_rule in ('ratio', 'decrease') and denominator = 0
                then case when deadline is not null and period_end_date >= deadline then '逾期未完成' else '滞后' end
            when actual is null then '未启动'
            when actual >= target - {{ var('epsilon') }} then '已完成'
            when deadline is not null and period_end_date >= deadline then '逾期未完成'
            when actual = 0 and coalesce(baseline, 0) = 0 then '未启动'
            when expected is null or actual >= expected - {{ var('epsilon') }} then '正常推进'
            else '滞后'
        end as status,
    from expected
),

final as (
    select
        indicator_code,
        unit_id,
        period_no,
        indicator_name,
        indicator_kind,
        value_rule,
        direction,
        is_goal,
        unit_name,
        unit_kind,
        unit_sort_order,
        period_label,
        period_start_date,
        period_end_date,
        month,
        is_month_end,
        case when is_present then numerator end as numerator,
        case when is_present then denominator end as denominator,
        case when is_present then actual end as actual,
        case when is_present then value_period_no end as value_period_no,
        actual_to_date,
        case when is_present then actual end
            - lag(case when is_present then actual end) over (
                partition by indicator_code, unit_id order by period_no
            ) as week_change,
        target,
        target_from_denominator,
        target_is_assumption,
        deadline,
        baseline,
        baseline_period_no,
        expected,
        case when is_present then actual end - expected as gap,
        status,
        is_present,
        members_reporting,
        members_expected,
        members_reporting / members_expected as coverage,
        periods_covered,
        periods_in_window,
        source_rows,
    from judged
)

select * from final
