with

source as (
    select * from {{ source('ref', 'months') }}
),

renamed as (
    select
        month,
        start_date as month_start_date,
        end_date as month_end_date,
        last_working_day,
        ranking_at,
    from source
)

select * from renamed
