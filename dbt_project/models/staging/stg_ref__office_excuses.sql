with

source as (
    select * from {{ source('ref', 'office_excuses') }}
),

renamed as (
    select
        excuse_id,
        form_code,
        unit_id,
        cast(period_no as integer) as period_no,
        reason as excuse_reason,
        decided_by as excused_by,
        decided_at as excused_at,
    from source
)

select * from renamed
