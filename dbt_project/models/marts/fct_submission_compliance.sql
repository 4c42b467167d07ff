-- Every expected submission (form, unit, period) and what came of it.
--   received        an accepted file that counts is on record (a file the office returned does not count)
--   on_time         the first counting file arrived by the due time (a later correction does not make it
--                   late; after a return (退回) the file sent after it is the first that counts)
--   minutes_late    minutes after the due time of the first counting file (0 when on time)
--   excused         late or missing, and the office recorded a 情况说明 (ref.office_excuses): neither late
--                   nor missing then
--   is_late         the first counting file arrived after the due time, not excused
--   missing         nothing counting yet, not excused
--   returned        the office returned the unit's file and nothing came after it (returned_at, return_reason)
--   timeliness      按时 / 逾期 / 未报 / 退回 / 已说明 (excused wins over 逾期 and 未报, 退回 over 未报)
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

office_returns as (
    select * from {{ ref('stg_ref__office_returns') }}
),

office_excuses as (
    select * from {{ ref('stg_ref__office_excuses') }}
),

returned as (
    select
        submissions.form_code,
        submissions.unit_id,
        submissions.period_no,
        max(submissions.received_at) as returned_file_received_at,
        arg_max(office_returns.returned_at, submissions.received_at) as returned_at,
        arg_max(office_returns.return_reason, submissions.received_at) as return_reason,
    from office_returns
    inner join submissions on office_returns.submission_id = submissions.submission_id
    group by submissions.form_code, submissions.unit_id, submissions.period_no
),

counting as (
    select
        form_code,
        unit_id,
        period_no,
        min(received_at) as first_received_at,
        max(received_at) as last_received_at,
    from accepted
    group by form_code, unit_id, period_no
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
        counting.first_received_at,
        counting.last_received_at,
        current_accepted.accepted_submission_id,
        current_accepted.warning_count,
        returned.returned_at,
        returned.return_reason,
        office_excuses.excused_at,
        office_excuses.excuse_reason,
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
    left join counting
        on expected.form_code = counting.form_code
        and expected.unit_id = counting.unit_id
        and expected.period_no = counting.period_no
    left join returned
        on expected.form_code = returned.form_code
        and expected.unit_id = returned.unit_id
        and expected.period_no = returned.period_no
    left join office_excuses
        on expected.form_code = office_excuses.form_code
        and expected.unit_id = office_excuses.unit_id
        and expected.period_no = office_excuses.period_no
),

judged as (
    select
        *,
        coalesce(first_received_at <= due_at, false) as on_time,
        accepted_submission_id is null and returned_at is not null as returned,
        excused_at is not null and not coalesce(first_received_at <= due_at, false) as excused,
    from joined
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
        on_time,
        coalesce(first_received_at > due_at, false) and not excused as is_late,
        case
            when first_received_at is not null
                then cast(greatest(0, ceil((epoch(first_received_at) - epoch(due_at)) / 60)) as integer)
        end as minutes_late,
        accepted_submission_id is null and not excused as missing,
        attempts,
        accepted_attempts,
        rejected_attempts,
        duplicate_attempts,
        first_attempt_at,
        coalesce(warning_count, 0) as warning_count,
        accepted_submission_id,
        returned,
        case when returned then returned_at end as returned_at,
        case when returned then return_reason end as return_reason,
        excused,
        case when excused then excused_at end as excused_at,
        case when excused then excuse_reason end as excuse_reason,
        case
            when on_time then '按时'
            when excused then '已说明'
            when first_received_at is not null then '逾期'
            when returned then '退回'
            else '未报'
        end as timeliness,
    from judged
)

select * from final
