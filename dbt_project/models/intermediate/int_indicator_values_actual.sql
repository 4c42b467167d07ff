-- The actual value of every indicator for every scope and period, with its target and deadline.
--   ratio                    numerator / denominator
--   amount                   numerator
--   decrease                 1 - numerator / denominator            (year on year, e.g. deaths)
--   month_on_month_decrease  1 - numerator at this month's last period / numerator at the previous
--                            month's last period (the first month compares with the first period with
--                            data); defined at month-end periods, other periods carry the latest one.
-- A zero or missing denominator leaves the actual unknown (null).

with

terms_by_scope as (
    select * from {{ ref('int_indicator_terms_by_scope') }}
),

indicators as (
    select * from {{ ref('stg_ref__indicators') }}
),

targets as (
    select * from {{ ref('stg_ref__indicator_targets') }}
),

periods as (
    select * from {{ ref('stg_ref__periods') }}
),

units as (
    select * from {{ ref('stg_ref__units') }}
),

month_ends as (
    select
        month,
        max(period_no) as last_period_no,
    from periods
    group by month
),

previous_month_ends as (
    select
        month,
        last_period_no,
        lag(last_period_no) over (order by month) as previous_last_period_no,
    from month_ends
),

periods_in_month as (
    select
        periods.*,
        periods.period_no = previous_month_ends.last_period_no as is_month_end,
        previous_month_ends.previous_last_period_no,
    from periods
    inner join previous_month_ends on periods.month = previous_month_ends.month
),

base as (
    select
        terms_by_scope.*,
        indicators.indicator_name,
        indicators.indicator_kind,
        indicators.value_rule,
        indicators.direction,
        indicators.deadline_rule,
        indicators.fixed_deadline,
        indicators.is_goal,
        units.unit_name,
        units.unit_kind,
        units.sort_order as unit_sort_order,
        periods_in_month.period_label,
        periods_in_month.period_start_date,
        periods_in_month.period_end_date,
        periods_in_month.month,
        periods_in_month.is_month_end,
        periods_in_month.previous_last_period_no,
    from terms_by_scope
    inner join indicators on terms_by_scope.indicator_code = indicators.indicator_code
    inner join units on terms_by_scope.unit_id = units.unit_id
    inner join periods_in_month on terms_by_scope.period_no = periods_in_month.period_no
),

first_data as (
    select
        indicator_code,
        unit_id,
        min(period_no) as first_data_period_no,
    from base
    where is_complete
    group by all
),

-- month on month: the comparison period of each month-end period
month_on_month as (
    select
        base.indicator_code,
        base.unit_id,
        base.period_no,
        coalesce(base.previous_last_period_no, first_data.first_data_period_no) as reference_period_no,
    from base
    left join first_data
        on base.indicator_code = first_data.indicator_code
        and base.unit_id = first_data.unit_id
    where base.value_rule = 'month_on_month_decrease' and base.is_month_end
),

month_end_values as (
    select
        month_on_month.indicator_code,
        month_on_month.unit_id,
        month_on_month.period_no,
        month_on_month.reference_period_no,
        reference.numerator as reference_numerator,
        current_period.is_complete and coalesce(reference.is_complete, false) as is_present,
        case
            when current_period.is_complete and reference.is_complete and reference.numerator > 0
                then 1 - current_period.numerator / reference.numerator
        end as month_end_actual,
        list_sort(list_distinct(list_concat(current_period.source_rows, coalesce(reference.source_rows, []))))
            as month_end_source_rows,
    from month_on_month
    inner join base as current_period
        on month_on_month.indicator_code = current_period.indicator_code
        and month_on_month.unit_id = current_period.unit_id
        and month_on_month.period_no = current_period.period_no
    left join base as reference
        on month_on_month.indicator_code = reference.indicator_code
        and month_on_month.unit_id = reference.unit_id
        and month_on_month.reference_period_no = reference.period_no
),

with_month_end as (
    select
        base.*,
        month_end_values.is_present as month_end_is_present,
        month_end_values.month_end_actual,
        month_end_values.reference_numerator,
        month_end_values.month_end_source_rows,
        max(case when month_end_values.month_end_actual is not null then base.period_no end) over (
            partition by base.indicator_code, base.unit_id
            order by base.period_no
            rows between unbounded preceding and current row
        ) as month_end_value_period_no,
    from base
    left join month_end_values
        on base.indicator_code = month_end_values.indicator_code
        and base.unit_id = month_end_values.unit_id
        and base.period_no = month_end_values.period_no
),

valued as (
    select
        with_month_end.*,
        case with_month_end.value_rule
            when 'ratio' then
                case when with_month_end.denominator <> 0 then with_month_end.numerator / with_month_end.denominator end
            when 'amount' then with_month_end.numerator
            when 'decrease' then
                case when with_month_end.denominator <> 0 then 1 - with_month_end.numerator / with_month_end.denominator end
            when 'month_on_month_decrease' then carried.month_end_actual
        end as actual,
        case
            when with_month_end.value_rule <> 'month_on_month_decrease' then with_month_end.period_no
            else with_month_end.month_end_value_period_no
        end as value_period_no,
        case
            when with_month_end.value_rule <> 'month_on_month_decrease' then with_month_end.numerator
            else carried.numerator
        end as figure_numerator,
        case
            when with_month_end.value_rule <> 'month_on_month_decrease' then with_month_end.denominator
            else carried.reference_numerator
        end as comparison_denominator,
        case
            when with_month_end.value_rule = 'month_on_month_decrease' and with_month_end.is_month_end
                then with_month_end.month_end_is_present
            else with_month_end.is_complete
        end as is_present,
        case
            when with_month_end.value_rule = 'month_on_month_decrease' and with_month_end.is_month_end
                then with_month_end.month_end_source_rows
            when with_month_end.value_rule = 'month_on_month_decrease' and carried.period_no is not null
                then list_sort(list_distinct(list_concat(with_month_end.source_rows, carried.month_end_source_rows)))
            else with_month_end.source_rows
        end as figure_source_rows,
    from with_month_end
    left join with_month_end as carried
        on with_month_end.indicator_code = carried.indicator_code
        and with_month_end.unit_id = carried.unit_id
        and with_month_end.month_end_value_period_no = carried.period_no
),

final as (
    select
        valued.indicator_code,
        valued.unit_id,
        valued.period_no,
        valued.indicator_name,
        valued.indicator_kind,
        valued.value_rule,
        valued.direction,
        valued.is_goal,
        valued.unit_name,
        valued.unit_kind,
        valued.unit_sort_order,
        valued.period_label,
        valued.period_start_date,
        valued.period_end_date,
        valued.month,
        valued.is_month_end,
        valued.figure_numerator as numerator,
        valued.comparison_denominator as denominator,
        valued.actual,
        valued.value_period_no,
        case
            when valued.value_rule = 'amount' and valued.is_period_window
                then case
                    when bool_and(valued.is_complete) over so_far then sum(valued.numerator) over so_far
                end
        end as actual_to_date,
        case
            when targets.target_from_denominator then valued.denominator
            else targets.fixed_target
        end as target,
        coalesce(targets.target_from_denominator, false) as target_from_denominator,
        -- the office's assumption, not a figure of the plan: reports show it as （暂定）
        coalesce(targets.target_is_assumption, false) as target_is_assumption,
        valued.deadline_rule,
        case valued.deadline_rule
            when 'fixed' then valued.fixed_deadline
            when 'month_end' then last_day(valued.period_end_date)
        end as deadline,
        valued.is_present,
        valued.members_expected,
        valued.members_reporting,
        valued.periods_covered,
        valued.periods_in_window,
        valued.figure_source_rows as source_rows,
    from valued
    left join targets
        on valued.indicator_code = targets.indicator_code
        and valued.unit_id = targets.unit_id
    window so_far as (
        partition by valued.indicator_code, valued.unit_id
        order by valued.period_no
        rows between unbounded preceding and current row
    )
)

select * from final
