-- Every expected submission (form, unit, period) and what came of it.
--   received        an accepted file is on record
--   on_time         the first accepted file arrived by the due time (a later correction does not make it late)
--   minutes_late    minutes after the due time of the first accepted file (0 when on time)
--   missing         nothing accepted yet
--   attempts        accepted + rejected attempts (duplicates of a file already sent are not counted)
--   warning_count   data-quality warnings on the current accepted file

with

expected as (
    select * from {{ ref('stg_ref__expected_submissions') }}
),

submissions as (
    select * from {{ ref('stg_raw__submissions') }}
),

campaign as (
    select * from {{ ref('stg_ref__campaign') }}
),

accepted as (
    select * from {{ ref('int_submissions_ranked') }}
),

periods as (
    select * from {{ ref('stg_ref__periods') }}
),

attempts as (
    select
        submissions.form_code,
        submissions.unit_id,
        submissions.period_no,
        count(*) filter (where submissions.status in ('accepted', 'rejected')) as attempts,
        count(*) filter (where submissions.status = 'accepted') as accepted_attempts,
        count(*) filter (where submissions.status = 'rejected') as rejected_attempts,
        count(*) filter (where submissions.status = 'duplicate') as duplicate_attempts,
        min(submissions.received_at) as first_attempt_at,
        min(submissions.received_at) filter (where submissions.status = 'accepted') as first_received_at,
        max(submissions.received_at) filter (where submissions.status = 'accepted') as last_received_at,
    from submissions
    inner join campaign on submissions.campaign_code = campaign.campaign_code
    group by all
),

current_accepted as (
    select
        form_code,
        unit_id,
        period_no,
        submission_id as accepted_submission_id,
        warning_count,
    from accepted
    where is_current
),

joined as (
    select
        expected.form_code,
        expected.unit_id,
        expected.period_no,
        periods.month,
        expected.due_at,
        coalesce(attempts.attempts, 0) as attempts,
        coalesce(attempts.accepted_attempts, 0) as accepted_attempts,
        coalesce(attempts.rejected_attempts, 0) as rejected_attempts,
        coalesce(attempts.duplicate_attempts, 0) as duplicate_attempts,
        attempts.first_attempt_at,
        attempts.first_received_at,
        attempts.last_received_at,
        current_accepted.accepted_submission_id,
        current_accepted.warning_count,
    from expected
    inner join periods on expected.period_no = periods.period_no
    left join attempts
        on expected.form_code = attempts.form_code
        and expected.unit_id = attempts.unit_id
        and expected.period_no = attempts.period_no
    left join current_accepted
        on expected.form_code = current_accepted.form_code
        and expected.unit_id = current_accepted.unit_id
        and expected.period_no = current_accepted.period_no
),

final as (
    select
        form_code,
        unit_id,
        period_no,
        month,
        due_at,
        accepted_submission_id is not null as received,
        first_received_at,
        last_received_at,
        coalesce(first_received_at <= due_at, false) as on_time,
        coalesce(first_received_at > due_at, false) as is_late,
        case
            when first_received_at is not null
                then cast(greatest(0, ceil((epoch(first_received_at) - epoch(due_at)) / 60)) as integer)
        end as minutes_late,
        accepted_submission_id is null as missing,
        attempts,
        accepted_attempts,
        rejected_attempts,
        duplicate_attempts,
        first_attempt_at,
        coalesce(warning_count, 0) as warning_count,
        accepted_submission_id,
    from joined
)

select * from final
