with

source as (
    select * from {{ source('ref', 'tasks') }}
),

renamed as (
    select
        cast(task_no as integer) as task_no,
        cast(section_no as integer) as section_no,
        section_title,
        title as task_title,
        summary as task_summary,
        deadline as task_deadline,
        is_milestone,
    from source
)

select * from renamed
