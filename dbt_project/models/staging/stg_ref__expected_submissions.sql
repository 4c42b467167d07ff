with

source as (
    select * from {{ source('ref', 'expected_submissions') }}
),

renamed as (
    select
        form_code,
        unit_id,
        cast(period_no as integer) as period_no,
        due_at,
    from source
)

select * from renamed
