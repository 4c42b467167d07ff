with

source as (
    select * from {{ source('ref', 'form_columns') }}
),

renamed as (
    select
        form_code,
        column_key,
        header as column_header,
        data_type,
        measure,
        monotone,
        cast(position as integer) as position,
    from source
)

select * from renamed
