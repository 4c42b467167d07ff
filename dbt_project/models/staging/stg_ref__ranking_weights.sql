with

source as (
    select * from {{ source('ref', 'ranking_weights') }}
),

renamed as (
    select
        scope,
        component,
        cast(weight as double) as weight,
        cast(tie_break_order as integer) as tie_break_order,
    from source
)

select * from renamed
