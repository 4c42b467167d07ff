-- Every expected submission has its compliance row, and only those.
with

expected as (
    select form_code, unit_id, period_no from {{ ref('stg_ref__expected_submissions') }}
),

compliance as (
    select form_code, unit_id, period_no from {{ ref('fct_submission_compliance') }}
),

missing_rows as (
    select * from expected
    except
    select * from compliance
),

extra_rows as (
    select * from compliance
    except
    select * from expected
)

select 'missing' as problem, * from missing_rows
union all
select 'extra' as problem, * from extra_rows
