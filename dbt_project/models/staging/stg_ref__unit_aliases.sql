with

source as (
    select * from {{ source('ref', 'unit_aliases') }}
),

renamed as (
    select
        alias,
        unit_id,
    from source
)

select * from renamed
