-- 序时进度: the value expected at each period's end date. A straight line from the baseline (the actual
-- at the first period with data, at that period's end date) to the target at the deadline, through the
-- configured milestones if any; the target itself from the deadline on. Indicators judged month by month
-- (deadline month_end, month-on-month values) expect the full target every month.

with

actual as (
    select * from {{ ref('int_indicator_values_actual') }}
),

milestones as (
    select * from {{ ref('stg_ref__indicator_milestones') }}
),

baselines as (
    select
        indicator_code,
        unit_id,
        min(period_no) as baseline_period_no,
        arg_min(actual, period_no) as baseline,
        arg_min(period_end_date, period_no) as baseline_date,
    from actual
    where is_present and actual is not null
    group by all
),

with_baseline as (
    select
        actual.*,
        baselines.baseline_period_no,
        baselines.baseline,
        baselines.baseline_date,
    from actual
    left join baselines
        on actual.indicator_code = baselines.indicator_code
        and actual.unit_id = baselines.unit_id
),

-- milestones after the baseline, as the points the line runs through
milestone_points as (
    select
        with_baseline.indicator_code,
        with_baseline.unit_id,
        with_baseline.period_no,
        max(milestones.milestone_date) filter (where milestones.milestone_date <= with_baseline.period_end_date)
            as previous_milestone_date,
        arg_max(milestones.milestone_value, milestones.milestone_date)
            filter (where milestones.milestone_date <= with_baseline.period_end_date) as previous_milestone_value,
        min(milestones.milestone_date) filter (where milestones.milestone_date > with_baseline.period_end_date)
            as next_milestone_date,
        arg_min(milestones.milestone_value, milestones.milestone_date)
            filter (where milestones.milestone_date > with_baseline.period_end_date) as next_milestone_value,
    from with_baseline
    inner join milestones
        on with_baseline.indicator_code = milestones.indicator_code
        and milestones.milestone_date > with_baseline.baseline_date
    group by all
),

segments as (
    select
        with_baseline.*,
        coalesce(milestone_points.previous_milestone_date, with_baseline.baseline_date) as from_date,
        coalesce(milestone_points.previous_milestone_value, with_baseline.baseline) as from_value,
        case
            when milestone_points.next_milestone_date < with_baseline.deadline
                then milestone_points.next_milestone_date
            else with_baseline.deadline
        end as to_date,
        case
            when milestone_points.next_milestone_date < with_baseline.deadline
                then milestone_points.next_milestone_value
            else with_baseline.target
        end as to_value,
    from with_baseline
    left join milestone_points
        on with_baseline.indicator_code = milestone_points.indicator_code
        and with_baseline.unit_id = milestone_points.unit_id
        and with_baseline.period_no = milestone_points.period_no
),

final as (
    select
        segments.* exclude (from_date, from_value, to_date, to_value),
        case
            when target is null then null
            when deadline_rule = 'month_end' or value_rule = 'month_on_month_decrease' then target
            when baseline_period_no is null or period_no < baseline_period_no then null
            when deadline is null or period_end_date >= deadline then target
            when baseline >= target then target
            when to_date <= from_date then to_value
            else least(
                target,
                from_value + (to_value - from_value)
                    * date_diff('day', from_date, period_end_date) / date_diff('day', from_date, to_date)
            )
        end as expected,
    from segments
)

select * from final
