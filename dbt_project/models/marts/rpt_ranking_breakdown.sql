-- Every point of the monthly ranking explained: one row per (month, scope, unit, component, item).
-- A month judges only the periods whose forms are due before the ranking is issued (ref.months.ranking_at;
-- all of the month's periods when the campaign issues no monthly ranking): a period ending in the month but
-- due after the ranking (2022: 第13周, 06-30 only, due 07-01 12:00) is left out of that month's ranking.
-- The month is judged at the last of its judged periods; judged_periods says which periods were judged.
--
--   attainment  county: each target-bearing indicator reported for the county, scored
--                 已完成 → 1, 数据缺报 → 0, otherwise min(actual / expected, 1) (0 when unknown);
--               department (and a county without indicators): each task it leads, 1 when the task is
--                 已完成 or 正常推进, else 0. Items weigh the same.
--   timeliness  per form: expected submissions of the month's periods received on time or excused by the
--               office (已说明, ref.office_excuses) / expected; forms weigh by their number of expected
--               submissions. A returned file (退回) not yet resubmitted counts as missing.
--   quality     per form: accepted attempts / (accepted + rejected attempts), i.e. 1 - rejection rate;
--               forms weigh by their attempts.
-- A component without any item (nothing expected, nothing sent) scores 0, shown as item "—".
-- weight = the points the item can earn (component weight share of 100, split over its items);
-- points = weight × value; the points of a unit add up to its score.

with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

task_status as (
    select * from {{ ref('fct_task_status') }}
),

compliance as (
    select * from {{ ref('fct_submission_compliance') }}
),

periods as (
    select * from {{ ref('stg_ref__periods') }}
),

months as (
    select * from {{ ref('stg_ref__months') }}
),

units as (
    select * from {{ ref('stg_ref__units') }}
),

forms as (
    select * from {{ ref('stg_ref__forms') }}
),

task_units as (
    select * from {{ ref('stg_ref__task_units') }}
),

weights as (
    select * from {{ ref('stg_ref__ranking_weights') }}
),

judged_periods as (
    select
        months.month,
        periods.period_no,
        periods.period_label,
    from months
    inner join periods on months.month = periods.month
    where months.ranking_at is null or periods.due_at <= months.ranking_at
),

month_last_periods as (
    select
        month,
        max(period_no) as last_period_no,
        case
            when count(*) = 1 then any_value(period_label)
            else arg_min(period_label, period_no) || '至' || arg_max(period_label, period_no)
        end as judged_periods,
    from judged_periods
    group by month
),

task_leads as (
    select distinct
        task_no,
        unit_id,
    from task_units
    where role = 'lead'
),

units_with_duties as (
    select unit_id from task_leads
    union
    select unit_id from compliance
),

ranked_units as (
    select
        units.unit_id,
        units.unit_name,
        units.sort_order,
        case units.unit_kind when 'county' then 'county' else 'department' end as scope,
    from units
    where
        units.unit_kind = 'county'
        or (units.unit_kind = 'department' and units.unit_id in (select unit_id from units_with_duties))
),

population as (
    select
        month_last_periods.month,
        month_last_periods.last_period_no,
        month_last_periods.judged_periods,
        ranked_units.*,
    from month_last_periods
    cross join ranked_units
),

indicator_items as (
    select
        population.month,
        population.scope,
        population.unit_id,
        'attainment' as component,
        indicator_values.indicator_code as item,
        indicator_values.indicator_code || ' ' || indicator_values.indicator_name as item_label,
        1.0 as item_weight,
        case
            when indicator_values.status = '数据缺报' then 0.0
            when indicator_values.status = '已完成' then 1.0
            when indicator_values.actual is null or indicator_values.expected is null then 0.0
            when indicator_values.expected > 0
                then greatest(0.0, least(indicator_values.actual / indicator_values.expected, 1.0))
            when indicator_values.actual >= indicator_values.expected then 1.0
            else 0.0
        end as value,
        indicator_values.period_label || '：' || indicator_values.status
        || '，实际' || {{ format_figure('indicator_values.actual', 'indicator_values.indicator_kind') }}
        || '，序时进度' || {{ format_figure('indicator_values.expected', 'indicator_values.indicator_kind') }}
            as detail,
    from population
    inner join indicator_values
        on population.unit_id = indicator_values.unit_id
        and population.last_period_no = indicator_values.period_no
    where indicator_values.direction <> 'none'
),

task_items as (
    select
        population.month,
        population.scope,
        population.unit_id,
        'attainment' as component,
        'T' || task_status.task_no as item,
        '任务' || task_status.task_no || ' ' || task_status.task_title as item_label,
        1.0 as item_weight,
        case when task_status.status in ('已完成', '正常推进') then 1.0 else 0.0 end as value,
        task_status.period_label || '：' || task_status.status as detail,
    from population
    inner join task_leads on population.unit_id = task_leads.unit_id
    inner join task_status
        on task_leads.task_no = task_status.task_no
        and population.last_period_no = task_status.period_no
    anti join indicator_items
        on population.month = indicator_items.month
        and population.unit_id = indicator_items.unit_id
),

timeliness_items as (
    select
        population.month,
        population.scope,
        population.unit_id,
        'timeliness' as component,
        compliance.form_code as item,
        compliance.form_code || ' ' || any_value(forms.form_name) as item_label,
        count(*) * 1.0 as item_weight,
        count(*) filter (where compliance.on_time or compliance.excused) / count(*) as value,
        '应报' || count(*) || '份，按时' || count(*) filter (where compliance.on_time)
        || '份，迟报' || count(*) filter (where compliance.is_late)
        || '份，缺报' || count(*) filter (where compliance.missing) || '份'
        || case when count(*) filter (where compliance.returned) > 0
            then '（其中退回未重报' || count(*) filter (where compliance.returned) || '份）' else '' end
        || case when count(*) filter (where compliance.excused) > 0
            then '，已说明' || count(*) filter (where compliance.excused) || '份（按按时计）' else '' end
            as detail,
    from population
    inner join compliance
        on population.unit_id = compliance.unit_id
        and population.month = compliance.month
    inner join judged_periods
        on compliance.month = judged_periods.month
        and compliance.period_no = judged_periods.period_no
    inner join forms on compliance.form_code = forms.form_code
    group by population.month, population.scope, population.unit_id, compliance.form_code
),

quality_items as (
    select
        population.month,
        population.scope,
        population.unit_id,
        'quality' as component,
        compliance.form_code as item,
        compliance.form_code || ' ' || any_value(forms.form_name) as item_label,
        sum(compliance.attempts) * 1.0 as item_weight,
        sum(compliance.accepted_attempts) / sum(compliance.attempts) as value,
        '报送' || sum(compliance.attempts) || '次，被退回' || sum(compliance.rejected_attempts) || '次' as detail,
    from population
    inner join compliance
        on population.unit_id = compliance.unit_id
        and population.month = compliance.month
    inner join judged_periods
        on compliance.month = judged_periods.month
        and compliance.period_no = judged_periods.period_no
    inner join forms on compliance.form_code = forms.form_code
    group by population.month, population.scope, population.unit_id, compliance.form_code
    having sum(compliance.attempts) > 0
),

items as (
    select * from indicator_items
    union all
    select * from task_items
    union all
    select * from timeliness_items
    union all
    select * from quality_items
),

empty_components as (
    select
        population.month,
        population.scope,
        population.unit_id,
        weights.component,
        '—' as item,
        '本月无应计事项' as item_label,
        1.0 as item_weight,
        0.0 as value,
        '本月无应计事项，不得分' as detail,
    from population
    inner join weights on population.scope = weights.scope
    anti join items
        on population.month = items.month
        and population.unit_id = items.unit_id
        and weights.component = items.component
),

all_items as (
    select * from items
    union all
    select * from empty_components
),

scope_weights as (
    select
        scope,
        component,
        weight,
        weight * 100.0 / sum(weight) over (partition by scope) as component_points,
    from weights
),

final as (
    select
        all_items.month,
        all_items.scope,
        all_items.unit_id,
        all_items.component,
        all_items.item,
        population.unit_name,
        population.sort_order as unit_sort_order,
        population.last_period_no as judged_period_no,
        population.judged_periods,
        all_items.item_label,
        all_items.value,
        scope_weights.component_points * all_items.item_weight
            / sum(all_items.item_weight) over component_items as weight,
        scope_weights.component_points * all_items.item_weight
            / sum(all_items.item_weight) over component_items * all_items.value as points,
        all_items.detail,
    from all_items
    inner join scope_weights
        on all_items.scope = scope_weights.scope
        and all_items.component = scope_weights.component
    inner join population
        on all_items.month = population.month
        and all_items.unit_id = population.unit_id
    window component_items as (partition by all_items.month, all_items.unit_id, all_items.component)
)

select * from final
