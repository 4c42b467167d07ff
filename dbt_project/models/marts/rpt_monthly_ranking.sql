-- The monthly league tables (一月一排名): county units and city departments.
-- score = the unit's points in rpt_ranking_breakdown (0-100), shown to 2 decimals.
-- Order: score, then the tie breakers configured (ranking.tie_breakers, e.g. attainment then timeliness);
-- units equal on all of them share the rank and the next rank is skipped (1, 2, 2, 4).
-- judged_periods: the reporting periods the month's ranking judged (those due before it is issued).
-- rank_change = last month's rank - this month's rank (positive: moved up; null in the first month).
-- is_bottom marks the last `ranking.bottom_marked` places (排名靠后); a unit sharing the rank of a marked
-- place is marked too.

with

breakdown as (
    select * from {{ ref('rpt_ranking_breakdown') }}
),

weights as (
    select * from {{ ref('stg_ref__ranking_weights') }}
),

campaign as (
    select * from {{ ref('stg_ref__campaign') }}
),

components as (
    select
        breakdown.month,
        breakdown.scope,
        breakdown.unit_id,
        breakdown.component,
        any_value(breakdown.unit_name) as unit_name,
        any_value(breakdown.unit_sort_order) as unit_sort_order,
        any_value(breakdown.judged_periods) as judged_periods,
        sum(breakdown.points) as points,
        sum(breakdown.points) / nullif(sum(breakdown.weight), 0) as value,
    from breakdown
    group by breakdown.month, breakdown.scope, breakdown.unit_id, breakdown.component
),

units_scored as (
    select
        components.month,
        components.scope,
        components.unit_id,
        any_value(components.unit_name) as unit_name,
        any_value(components.unit_sort_order) as unit_sort_order,
        any_value(components.judged_periods) as judged_periods,
        max(components.value) filter (where components.component = 'attainment') as attainment,
        max(components.value) filter (where components.component = 'timeliness') as timeliness,
        max(components.value) filter (where components.component = 'quality') as quality,
        max(components.points) filter (where components.component = 'attainment') as attainment_points,
        max(components.points) filter (where components.component = 'timeliness') as timeliness_points,
        max(components.points) filter (where components.component = 'quality') as quality_points,
        sum(components.points) as raw_score,
        max(components.value) filter (where weights.tie_break_order = 1) as tie_breaker_1,
        max(components.value) filter (where weights.tie_break_order = 2) as tie_breaker_2,
        max(components.value) filter (where weights.tie_break_order = 3) as tie_breaker_3,
    from components
    inner join weights
        on components.scope = weights.scope
        and components.component = weights.component
    group by components.month, components.scope, components.unit_id
),

ranked as (
    select
        *,
        round(raw_score, 2) as score,
        rank() over (
            partition by month, scope
            order by
                round(raw_score, 2) desc,
                round(coalesce(tie_breaker_1, 0), 6) desc,
                round(coalesce(tie_breaker_2, 0), 6) desc,
                round(coalesce(tie_breaker_3, 0), 6) desc
        ) as rank,
        row_number() over (
            partition by month, scope
            order by
                round(raw_score, 2) desc,
                round(coalesce(tie_breaker_1, 0), 6) desc,
                round(coalesce(tie_breaker_2, 0), 6) desc,
                round(coalesce(tie_breaker_3, 0), 6) desc,
                unit_sort_order
        ) as position,
        count(*) over (partition by month, scope) as units_ranked,
    from units_scored
),

with_change as (
    select
        *,
        lag(rank) over (partition by scope, unit_id order by month) as previous_rank,
    from ranked
),

-- the best rank among the last `bottom_marked` places: every unit ranked there or lower is marked,
-- so units sharing a rank share the mark
bottom_line as (
    select
        ranked.month,
        ranked.scope,
        min(ranked.rank) as bottom_rank,
    from ranked
    cross join campaign
    where ranked.position > ranked.units_ranked - campaign.ranking_bottom_marked
    group by ranked.month, ranked.scope
),

final as (
    select
        with_change.month,
        with_change.scope,
        with_change.unit_id,
        with_change.unit_name,
        with_change.unit_sort_order,
        with_change.judged_periods,
        with_change.score,
        with_change.attainment,
        with_change.timeliness,
        with_change.quality,
        with_change.attainment_points,
        with_change.timeliness_points,
        with_change.quality_points,
        with_change.rank,
        with_change.units_ranked,
        with_change.previous_rank,
        with_change.previous_rank - with_change.rank as rank_change,
        coalesce(with_change.rank >= bottom_line.bottom_rank, false) as is_bottom,
        case when with_change.rank >= bottom_line.bottom_rank then '排名靠后' end as mark,
    from with_change
    cross join campaign
    left join bottom_line
        on with_change.month = bottom_line.month
        and with_change.scope = bottom_line.scope
)

select * from final
