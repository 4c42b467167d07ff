with

source as (
    select * from {{ source('raw', 'form_values') }}
),

renamed as (
    select
        submission_id,
        form_code,
        sheet,
        cast(source_row as integer) as source_row,
        subject_unit_id,
        record_key,
        column_key,
        cast(value_num as double) as value_num,
        value_text,
        cast(value_date as date) as value_date,
        -- the value as text, for where-conditions (eq / in) on any column type
        coalesce(
            value_text,
            cast(value_date as varchar),
            case
                when value_num = trunc(value_num) then cast(cast(value_num as bigint) as varchar)
                else cast(value_num as varchar)
            end
        ) as value_as_text,
        -- where a figure comes from: submission:sheet:row (the Excel row the submitter sees)
        submission_id || ':' || coalesce(sheet, '') || ':' || cast(source_row as varchar) as row_ref,
    from source
)

select * from renamed
