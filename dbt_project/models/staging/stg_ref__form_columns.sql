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
        -- what the column means to the task status (task-grain forms): task_status / task_progress /
        -- task_difficulties / task_evidence; null for other columns
        role as column_role,
        -- an enum's values in the order written (the task_status column: not started first, done last)
        "values" as allowed_values,
    from source
)

select * from renamed
