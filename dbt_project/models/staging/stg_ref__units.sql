with

source as (
    select * from {{ source('ref', 'units') }}
),

renamed as (
    select
        unit_id,
        name as unit_name,
        kind as unit_kind,
        code as unit_code,
        cast(sort_order as integer) as sort_order,
    from source
)

select * from renamed
