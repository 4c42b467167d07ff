with

source as (
    select * from {{ source('raw', 'submission_messages') }}
),

renamed as (
    select
        submission_id,
        cast(seq as integer) as seq,
        severity,
        sheet,
        cast(row_no as integer) as row_no,
        column_header,
        value,
        message,
    from source
)

select * from renamed
