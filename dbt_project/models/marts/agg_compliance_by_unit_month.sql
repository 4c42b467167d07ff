-- Submission compliance per unit and month (a period counts for the month its end date falls in): the
-- per-period totals of agg_compliance_by_unit_period added up, so both grains count the same way.

with

periods as (
    select * from {{ ref('agg_compliance_by_unit_period') }}
),

totals as (
    select
        unit_id,
        month,
        unit_name,
        unit_kind,
        sum(expected_count)::bigint as expected_count,
        sum(received_count)::bigint as received_count,
        sum(on_time_count)::bigint as on_time_count,
        sum(late_count)::bigint as late_count,
        sum(missing_count)::bigint as missing_count,
        sum(excused_count)::bigint as excused_count,
        sum(returned_count)::bigint as returned_count,
        max(max_minutes_late) as max_minutes_late,
        sum(attempts) as attempts,
        sum(rejected_attempts) as rejected_attempts,
        sum(warning_count) as warning_count,
    from periods
    group by unit_id, month, unit_name, unit_kind
),

final as (
    select
        *,
        on_time_count / expected_count as on_time_rate,
        received_count / expected_count as received_rate,
    from totals
)

select * from final
