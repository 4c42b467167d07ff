with

source as (
    select * from {{ source('ref', 'indicator_conditions') }}
),

renamed as (
    select
        indicator_code,
        term,
        column_key,
        op,
        "values" as condition_values,
    from source
)

select * from renamed
