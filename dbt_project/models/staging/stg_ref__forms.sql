with

source as (
    select * from {{ source('ref', 'forms') }}
),

renamed as (
    select
        form_code,
        name as form_name,
        grain as form_grain,
        key_column,
    from source
)

select * from renamed
