-- Numerator and denominator of every indicator for every county and period, with the rows they came from.

with

term_values as (
    select * from {{ ref('int_indicator_term_values') }}
),

final as (
    select
        indicator_code,
        unit_id,
        period_no,
        sum(term_value) filter (where term = 'numerator') as numerator,
        sum(term_value) filter (where term = 'denominator') as denominator,
        bool_and(is_present) as is_present,
        bool_and(term_window = 'period') filter (where term = 'numerator') as is_period_window,
        list_sort(list_distinct(flatten(list(row_refs)))) as source_rows,
        min(periods_covered) as periods_covered,
        max(periods_in_window) as periods_in_window,
    from term_values
    group by indicator_code, unit_id, period_no
)

select * from final
