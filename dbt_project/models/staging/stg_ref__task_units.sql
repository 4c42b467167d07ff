with

source as (
    select * from {{ source('ref', 'task_units') }}
),

renamed as (
    select
        cast(task_no as integer) as task_no,
        unit_id,
        role,
    from source
)

select * from renamed
