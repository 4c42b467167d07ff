with

source as (
    select * from {{ source('ref', 'office_returns') }}
),

renamed as (
    select
        return_id,
        submission_id,
        reason as return_reason,
        decided_by as returned_by,
        decided_at as returned_at,
    from source
)

select * from renamed
