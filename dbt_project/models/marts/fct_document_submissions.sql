-- The units' written documents (实施方案, 月度小结, 总结) against their one-off due times: grain
-- (oneoff_code, occurrence, unit_id), every responsible unit for every occurrence (ref.oneoffs).
--   received        an accepted document is on record
--   on_time         the first accepted document arrived by the due time (a later version does not make it late)
--   minutes_late    of the first accepted one (0 when on time)
--   submission_id, title, page_count, excerpt, file_format, original_name
--                   of the current accepted document (the last received); excerpt: its first 300 characters
--   month           YYYY-MM of the due date (campaign time zone)

with

expected as (
    select * from {{ ref('stg_ref__oneoffs') }}
),

campaign as (
    select * from {{ ref('stg_ref__campaign') }}
),

documents as (
    select documents.*
    from {{ ref('stg_raw__documents') }} as documents
    inner join campaign on documents.campaign_code = campaign.campaign_code
    where documents.status = 'accepted'
),

firsts as (
    select oneoff_code, occurrence, unit_id, min(received_at) as first_received_at, count(*) as versions,
    from documents
    group by all
),

current_documents as (
    select *
    from documents
    where superseded_by is null
    qualify row_number() over (
        partition by oneoff_code, occurrence, unit_id order by received_at desc, submission_id desc
    ) = 1
),

final as (
    select
        expected.oneoff_code,
        expected.occurrence,
        expected.unit_id,
        expected.oneoff_name,
        expected.due_at,
        strftime(timezone(campaign.timezone, expected.due_at), '%Y-%m') as month,
        firsts.first_received_at is not null as received,
        firsts.first_received_at,
        coalesce(firsts.first_received_at <= expected.due_at, false) as on_time,
        coalesce(firsts.first_received_at > expected.due_at, false) as is_late,
        case
            when firsts.first_received_at is not null
                then cast(greatest(0, ceil((epoch(firsts.first_received_at) - epoch(expected.due_at)) / 60)) as integer)
        end as minutes_late,
        coalesce(firsts.versions, 0) as versions,
        current_documents.submission_id,
        current_documents.document_code,
        current_documents.received_at as last_received_at,
        current_documents.title,
        current_documents.page_count,
        current_documents.file_format,
        current_documents.original_name,
        left(regexp_replace(current_documents.body_text, '\s+', ' ', 'g'), 300) as excerpt,
    from expected
    cross join campaign
    left join firsts
        on expected.oneoff_code = firsts.oneoff_code
        and expected.occurrence = firsts.occurrence
        and expected.unit_id = firsts.unit_id
    left join current_documents
        on expected.oneoff_code = current_documents.oneoff_code
        and expected.occurrence = current_documents.occurrence
        and expected.unit_id = current_documents.unit_id
)

select * from final
