-- Numerator and denominator for every scope an indicator is reported for: a county as it is; the city
-- and named groups recomputed from their member counties' terms (never an average of rates).
-- A scope with any member missing that period is incomplete (数据缺报 downstream), with its coverage.
-- For running totals, periods_covered / periods_in_window add up the members' county-periods.

with

terms_by_county as (
    select * from {{ ref('int_indicator_terms_by_county') }}
),

scopes as (
    select * from {{ ref('stg_ref__indicator_scopes') }}
),

units as (
    select * from {{ ref('stg_ref__units') }}
),

group_members as (
    select * from {{ ref('stg_ref__group_members') }}
),

scope_members as (
    select
        scopes.indicator_code,
        scopes.unit_id,
        case when units.unit_kind = 'county' then scopes.unit_id else group_members.member_unit_id end
            as member_unit_id,
    from scopes
    inner join units on scopes.unit_id = units.unit_id
    left join group_members
        on scopes.unit_id = group_members.group_id
        and units.unit_kind <> 'county'
),

rolled_up as (
    select
        scope_members.indicator_code,
        scope_members.unit_id,
        terms_by_county.period_no,
        count(*) as members_expected,
        count(*) filter (where terms_by_county.is_present) as members_reporting,
        sum(terms_by_county.numerator) filter (where terms_by_county.is_present) as numerator_reported,
        sum(terms_by_county.denominator) filter (where terms_by_county.is_present) as denominator_reported,
        bool_and(terms_by_county.is_period_window) as is_period_window,
        list_sort(list_distinct(flatten(list(terms_by_county.source_rows)))) as source_rows,
        sum(terms_by_county.periods_covered) as periods_covered,
        sum(terms_by_county.periods_in_window) as periods_in_window,
    from scope_members
    inner join terms_by_county
        on scope_members.indicator_code = terms_by_county.indicator_code
        and scope_members.member_unit_id = terms_by_county.unit_id
    group by all
),

final as (
    select
        indicator_code,
        unit_id,
        period_no,
        members_expected,
        members_reporting,
        members_reporting = members_expected as is_complete,
        case when members_reporting = members_expected then numerator_reported end as numerator,
        case when members_reporting = members_expected then denominator_reported end as denominator,
        coalesce(is_period_window, false) as is_period_window,
        source_rows,
        periods_covered,
        periods_in_window,
    from rolled_up
)

select * from final
