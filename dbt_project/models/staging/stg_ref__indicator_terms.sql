with

source as (
    select * from {{ source('ref', 'indicator_terms') }}
),

renamed as (
    select
        indicator_code,
        term,
        column_key,
        form_code,
        agg,
        "window" as term_window,
    from source
)

select * from renamed
