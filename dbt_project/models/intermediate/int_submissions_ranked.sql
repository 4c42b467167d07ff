-- Every accepted submission of the active campaign, numbered per (form, unit, period) in order of
-- arrival. The latest accepted one is current and counts in the figures; earlier ones stay on record.
-- superseded_by / replaces: the next / previous accepted version of the same (form, unit, period).
-- A file the office returned (退回, ref.office_returns) does not count, nor any earlier version it had
-- replaced: the (form, unit, period) has no figures until a file received after the returned one.

with

submissions as (
    select * from {{ ref('stg_raw__submissions') }}
),

campaign as (
    select * from {{ ref('stg_ref__campaign') }}
),

office_returns as (
    select * from {{ ref('stg_ref__office_returns') }}
),

accepted as (
    select submissions.*
    from submissions
    inner join campaign on submissions.campaign_code = campaign.campaign_code
    where
        submissions.status = 'accepted'
        and submissions.form_code is not null
        and submissions.unit_id is not null
        and submissions.period_no is not null
),

returned_upto as (
    select
        accepted.form_code,
        accepted.unit_id,
        accepted.period_no,
        max(accepted.received_at) as returned_upto,
    from accepted
    inner join office_returns on accepted.submission_id = office_returns.submission_id
    group by accepted.form_code, accepted.unit_id, accepted.period_no
),

counted as (
    select accepted.*
    from accepted
    left join returned_upto
        on accepted.form_code = returned_upto.form_code
        and accepted.unit_id = returned_upto.unit_id
        and accepted.period_no = returned_upto.period_no
    where returned_upto.returned_upto is null or accepted.received_at > returned_upto.returned_upto
),

numbered as (
    select
        submission_id,
        form_code,
        unit_id,
        period_no,
        received_at,
        row_count,
        warning_count,
        row_number() over version_order as version_no,
        count(*) over (partition by form_code, unit_id, period_no) as versions,
        lead(submission_id) over version_order as superseded_by,
        lag(submission_id) over version_order as replaces,
    from counted
    window version_order as (partition by form_code, unit_id, period_no order by received_at, submission_id)
),

final as (
    select
        submission_id,
        form_code,
        unit_id,
        period_no,
        received_at,
        row_count,
        warning_count,
        version_no,
        versions,
        version_no = versions as is_current,
        superseded_by,
        replaces,
    from numbered
)

select * from final
