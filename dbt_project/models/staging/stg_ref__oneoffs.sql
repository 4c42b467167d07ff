with

source as (
    select * from {{ source('ref', 'oneoffs') }}
),

renamed as (
    select
        code as oneoff_code,
        occurrence,
        unit_id,
        name as oneoff_name,
        due_at,
    from source
)

select * from renamed
