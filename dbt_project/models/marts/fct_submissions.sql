-- Every submission attempt of the active campaign (accepted, rejected, duplicate): grain submission_id.
-- What readers need for the correction log, the receipts and the upload portal, without the landing
-- details (stored_path, submitted_by, file hash stay in raw.submissions).
--   receipt_id         the landing receipt the attempt was loaded from (the portal matches its pending
--                      uploads with it; an opaque id, nothing of the file's place or its sender)
--   period_no          as declared or detected; may lie outside the campaign (in_campaign_period false)
--                      or be unknown, for rejected attempts; form_code and unit_id may be unknown too
--   due_at, minutes_late  as ingest told the submitter on the receipt (0 = on time)
--   version_no, is_current, superseded_by, replaces
--                      accepted files only, in order of arrival per (form, unit, period)
--                      (int_submissions_ranked): the current one counts in the figures; replaces is the
--                      accepted file it took over from (a correction), superseded_by the one that took over
--   returned_at, return_reason
--                      the office returned this file (退回, ref.office_returns): it and the versions before
--                      it do not count (no version_no) until a later file comes

with

submissions as (
    select * from {{ ref('stg_raw__submissions') }}
),

campaign as (
    select * from {{ ref('stg_ref__campaign') }}
),

versions as (
    select * from {{ ref('int_submissions_ranked') }}
),

periods as (
    select * from {{ ref('stg_ref__periods') }}
),

office_returns as (
    select * from {{ ref('stg_ref__office_returns') }}
),

final as (
    select
        submissions.submission_id,
        submissions.form_code,
        submissions.unit_id,
        submissions.period_no,
        periods.period_no is not null as in_campaign_period,
        submissions.status,
        submissions.received_at,
        submissions.declared_due_at as due_at,
        submissions.declared_minutes_late as minutes_late,
        versions.version_no,
        coalesce(versions.is_current, false) as is_current,
        versions.superseded_by,
        versions.replaces,
        submissions.row_count,
        submissions.error_count,
        submissions.warning_count,
        submissions.original_name,
        submissions.size_bytes,
        submissions.channel,
        submissions.receipt_id,
        office_returns.returned_at,
        office_returns.return_reason,
    from submissions
    inner join campaign on submissions.campaign_code = campaign.campaign_code
    left join versions on submissions.submission_id = versions.submission_id
    left join periods on submissions.period_no = periods.period_no
    left join office_returns on submissions.submission_id = office_returns.submission_id
)

select * from final
