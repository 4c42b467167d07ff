-- Every written document attempt (ingest.documents): the registry row of raw.submissions with the
-- document's occurrence (''/YYYY-MM/YYYY of its one-off), format, pages, title and plain text.

with

documents as (
    select * from {{ source('raw', 'documents') }}
),

submissions as (
    select * from {{ source('raw', 'submissions') }}
),

renamed as (
    select
        submissions.submission_id,
        submissions.campaign_code,
        documents.document_code,
        documents.oneoff_code,
        documents.occurrence,
        submissions.unit_id,
        submissions.status,
        submissions.received_at,
        submissions.due_at as declared_due_at,
        submissions.minutes_late as declared_minutes_late,
        submissions.superseded_by,
        submissions.original_name,
        submissions.channel,
        documents.file_format,
        documents.page_count,
        documents.title,
        documents.body_text,
        documents.has_macros,
    from documents
    inner join submissions on documents.submission_id = submissions.submission_id
)

select * from renamed
