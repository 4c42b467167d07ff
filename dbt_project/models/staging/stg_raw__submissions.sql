-- Every submission attempt of a form (documents: stg_raw__documents).
with

source as (
    select * from {{ source('raw', 'submissions') }}
),

renamed as (
    select
        submission_id,
        receipt_id,
        campaign_code,
        form_code,
        unit_id,
        cast(period_no as integer) as period_no,
        file_sha256,
        original_name,
        cast(size_bytes as bigint) as size_bytes,
        stored_path,
        channel,
        submitted_by,
        received_at,
        due_at as declared_due_at,
        minutes_late as declared_minutes_late,
        status,
        superseded_by,
        cast(row_count as integer) as row_count,
        cast(error_count as integer) as error_count,
        cast(warning_count as integer) as warning_count,
    from source
    -- written documents (raw.documents) have no rows of figures: they are read through stg_raw__documents
    where submission_id not in (select submission_id from {{ source('raw', 'documents') }})
)

select * from renamed
