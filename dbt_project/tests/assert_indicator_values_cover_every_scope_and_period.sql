-- One fact per indicator scope and period: nothing dropped, never a silent gap.
with

expected as (
    select scopes.indicator_code, scopes.unit_id, periods.period_no
    from {{ ref('stg_ref__indicator_scopes') }} as scopes
    cross join {{ ref('stg_ref__periods') }} as periods
),

actual as (
    select indicator_code, unit_id, period_no from {{ ref('fct_indicator_values') }}
)

select * from expected
except
select * from actual
