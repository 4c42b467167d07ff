with

source as (
    select * from {{ source('ref', 'group_members') }}
),

renamed as (
    select
        group_id,
        unit_id as member_unit_id,
    from source
)

select * from renamed
