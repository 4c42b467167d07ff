with

source as (
    select * from {{ source('ref', 'campaign') }}
),

renamed as (
    select
        campaign_code,
        name as campaign_name,
        document,
        city_unit_id,
        start_date,
        end_date,
        timezone,
        coalesce(ranking_bottom_marked, 0) as ranking_bottom_marked,
    from source
)

select * from renamed
