with

source as (
    select * from {{ source('ref', 'indicator_milestones') }}
),

renamed as (
    select
        indicator_code,
        on_date as milestone_date,
        cast(value as double) as milestone_value,
    from source
)

select * from renamed
