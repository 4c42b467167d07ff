with

source as (
    select * from {{ source('ref', 'indicator_tasks') }}
),

renamed as (
    select
        indicator_code,
        cast(task_no as integer) as task_no,
    from source
)

select * from renamed
