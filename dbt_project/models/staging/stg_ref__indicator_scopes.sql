with

source as (
    select * from {{ source('ref', 'indicator_scopes') }}
),

renamed as (
    select
        indicator_code,
        unit_id,
    from source
)

select * from renamed
