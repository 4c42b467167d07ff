-- Submission compliance per unit and period: expected, received, on time, late, missing, excused (已说明),
-- returned (退回, among the missing), attempts.

with

compliance as (
    select * from {{ ref('fct_submission_compliance') }}
),

units as (
    select * from {{ ref('stg_ref__units') }}
),

totals as (
    select
        unit_id,
        period_no,
        any_value(month) as month,
        count(*) as expected_count,
        count(*) filter (where received) as received_count,
        count(*) filter (where on_time) as on_time_count,
        count(*) filter (where is_late) as late_count,
        count(*) filter (where missing) as missing_count,
        count(*) filter (where excused) as excused_count,
        count(*) filter (where returned) as returned_count,
        max(minutes_late) as max_minutes_late,
        sum(attempts) as attempts,
        sum(rejected_attempts) as rejected_attempts,
        sum(warning_count) as warning_count,
    from compliance
    group by unit_id, period_no
),

final as (
    select
        totals.unit_id,
        totals.period_no,
        units.unit_name,
        units.unit_kind,
        totals.month,
        totals.expected_count,
        totals.received_count,
        totals.on_time_count,
        totals.late_count,
        totals.missing_count,
        totals.excused_count,
        totals.returned_count,
        totals.max_minutes_late,
        totals.attempts,
        totals.rejected_attempts,
        totals.warning_count,
        totals.on_time_count / totals.expected_count as on_time_rate,
        totals.received_count / totals.expected_count as received_rate,
    from totals
    inner join units on totals.unit_id = units.unit_id
)

select * from final
