with

source as (
    select * from {{ source('ref', 'indicator_targets') }}
),

renamed as (
    select
        indicator_code,
        unit_id,
        cast(target as double) as fixed_target,
        coalesce(from_denominator, false) as target_from_denominator,
        coalesce(is_assumption, false) as target_is_assumption,
    from source
)

select * from renamed
