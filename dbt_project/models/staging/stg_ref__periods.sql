with

source as (
    select * from {{ source('ref', 'periods') }}
),

renamed as (
    select
        cast(period_no as integer) as period_no,
        label as period_label,
        start_date as period_start_date,
        end_date as period_end_date,
        due_at,
        month,
    from source
)

select * from renamed
