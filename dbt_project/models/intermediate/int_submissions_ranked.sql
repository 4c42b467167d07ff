-- Every accepted submission of the active campaign, numbered per (form, unit, period) in order of
-- arrival. The latest accepted one is current and counts in the figures; earlier ones stay on record.
-- superseded_by / replaces: the next / previous accepted version of the same (form, unit, period).

with

submissions as (
    select * from {{ ref('stg_raw__submissions') }}
),

campaign as (
    select * from {{ ref('stg_ref__campaign') }}
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
    from accepted
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
