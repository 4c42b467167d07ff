-- Every score is explained: the breakdown points of a unit add up to its score (to the 2 decimals shown).
with

breakdown as (
    select month, scope, unit_id, sum(points) as points
    from {{ ref('rpt_ranking_breakdown') }}
    group by all
),

ranking as (
    select * from {{ ref('rpt_monthly_ranking') }}
)

select ranking.month, ranking.scope, ranking.unit_id, ranking.score, breakdown.points
from ranking
full outer join breakdown
    on ranking.month = breakdown.month
    and ranking.scope = breakdown.scope
    and ranking.unit_id = breakdown.unit_id
where breakdown.points is null or ranking.score is null or abs(ranking.score - breakdown.points) > 0.005 + 0.000001
