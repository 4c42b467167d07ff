with

source as (
    select * from {{ source('ref', 'indicators') }}
),

renamed as (
    select
        indicator_code,
        name as indicator_name,
        kind as indicator_kind,
        value_rule,
        direction,
        deadline as fixed_deadline,
        deadline_rule,
        is_goal,
    from source
)

select * from renamed
