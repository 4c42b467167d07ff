-- One value per (indicator, term, term column, county, period): the indicator's where-conditions
-- applied (all must hold), then sum / count / count_distinct over the county's rows of that period.
-- Stock columns, counts and window `period` take the period's own value. A blank (unknown) value in a
-- summed column makes the term unknown for that county and period, never a zero.
-- Window `to_date` on a flow column adds up the periods so far:
--   ratio / decrease: over the periods in which all the indicator's terms came in (numerator and
--     denominator then cover the same weeks, so a week missing long ago does not hide the figure);
--     the figure is there when this period's data is; periods_covered / periods_in_window say how much;
--   amount (a running total on its own): every period so far is needed, else 数据缺报.

with

terms as (
    select * from {{ ref('stg_ref__indicator_terms') }}
),

conditions as (
    select * from {{ ref('stg_ref__indicator_conditions') }}
),

form_columns as (
    select * from {{ ref('stg_ref__form_columns') }}
),

records as (
    select * from {{ ref('int_form_records_current') }}
),

records_by_period as (
    select * from {{ ref('int_form_records_by_period') }}
),

record_values as (
    select * from {{ ref('int_form_values_current') }}
),

coverage as (
    select * from {{ ref('int_form_coverage') }}
),

indicators as (
    select * from {{ ref('stg_ref__indicators') }}
),

term_forms as (
    select distinct
        indicator_code,
        term,
        form_code,
    from terms
),

-- each record version (the record as reported in one period) is judged once, then reused by every
-- period that carries it
condition_checks as (
    select
        term_forms.indicator_code,
        term_forms.term,
        records.form_code,
        records.period_no as data_period_no,
        records.subject_unit_id,
        records.record_key,
        bool_and(
            case
                when conditions.column_key is null then true
                when conditions.op = 'eq' then coalesce(record_values.value_as_text = conditions.condition_values[1], false)
                when conditions.op = 'in'
                    then coalesce(list_contains(conditions.condition_values, record_values.value_as_text), false)
                when conditions.op = 'not_null' then record_values.value_as_text is not null
                else false
            end
        ) as passes,
    from term_forms
    inner join records on term_forms.form_code = records.form_code
    left join conditions
        on term_forms.indicator_code = conditions.indicator_code
        and term_forms.term = conditions.term
    left join record_values
        on records.form_code = record_values.form_code
        and records.period_no = record_values.period_no
        and records.subject_unit_id = record_values.subject_unit_id
        and records.record_key = record_values.record_key
        and conditions.column_key = record_values.column_key
    group by all
),

term_columns as (
    select
        terms.indicator_code,
        terms.term,
        coalesce(terms.column_key, '') as term_column,
        terms.column_key,
        terms.form_code,
        terms.agg,
        terms.term_window,
        coalesce(
            terms.agg = 'sum' and terms.term_window = 'to_date' and form_columns.measure = 'flow', false
        ) as is_running_total,
    from terms
    left join form_columns
        on terms.form_code = form_columns.form_code
        and terms.column_key = form_columns.column_key
),

passing_values as (
    select
        term_columns.indicator_code,
        term_columns.term,
        term_columns.term_column,
        term_columns.agg,
        condition_checks.form_code,
        condition_checks.data_period_no,
        condition_checks.subject_unit_id,
        condition_checks.record_key,
        record_values.value_num,
        record_values.value_as_text,
    from condition_checks
    inner join term_columns
        on condition_checks.indicator_code = term_columns.indicator_code
        and condition_checks.term = term_columns.term
    left join record_values
        on condition_checks.form_code = record_values.form_code
        and condition_checks.data_period_no = record_values.period_no
        and condition_checks.subject_unit_id = record_values.subject_unit_id
        and condition_checks.record_key = record_values.record_key
        and term_columns.column_key = record_values.column_key
    where condition_checks.passes
),

period_values as (
    select
        passing_values.indicator_code,
        passing_values.term,
        passing_values.term_column,
        records_by_period.subject_unit_id as unit_id,
        records_by_period.period_no,
        case any_value(passing_values.agg)
            when 'sum' then coalesce(sum(passing_values.value_num), 0)
            when 'count' then count(*)
            when 'count_distinct' then count(distinct passing_values.value_as_text)
        end as period_value,
        list_sort(list_distinct(flatten(list(records_by_period.row_refs)))) as row_refs,
        -- a blank or "—" in a summed column is unknown, not zero: the term is then not there
        coalesce(bool_and(passing_values.value_num is not null) filter (where passing_values.agg = 'sum'), true)
            as values_known,
    from passing_values
    inner join records_by_period
        on passing_values.form_code = records_by_period.form_code
        and passing_values.data_period_no = records_by_period.data_period_no
        and passing_values.subject_unit_id = records_by_period.subject_unit_id
        and passing_values.record_key = records_by_period.record_key
    group by passing_values.indicator_code, passing_values.term, passing_values.term_column,
        records_by_period.subject_unit_id, records_by_period.period_no
),

spine as (
    select
        term_columns.indicator_code,
        term_columns.term,
        term_columns.term_column,
        term_columns.term_window,
        term_columns.is_running_total,
        coverage.unit_id,
        coverage.period_no,
        coverage.has_data,
    from term_columns
    inner join coverage on term_columns.form_code = coverage.form_code
),

terms_with_values as (
    select
        spine.* exclude (has_data),
        spine.has_data and coalesce(period_values.values_known, true) as has_data,
        case when spine.has_data then coalesce(period_values.period_value, 0) end as period_value,
        coalesce(period_values.row_refs, []) as period_row_refs,
    from spine
    left join period_values
        on spine.indicator_code = period_values.indicator_code
        and spine.term = period_values.term
        and spine.term_column = period_values.term_column
        and spine.unit_id = period_values.unit_id
        and spine.period_no = period_values.period_no
),

-- whether every term of the indicator has the county's data in the period
indicator_periods as (
    select
        indicator_code,
        unit_id,
        period_no,
        bool_and(has_data) as all_terms_present,
    from terms_with_values
    group by all
),

with_values as (
    select
        terms_with_values.*,
        indicators.value_rule in ('ratio', 'decrease') as runs_over_covered_periods,
        indicator_periods.all_terms_present,
    from terms_with_values
    inner join indicators on terms_with_values.indicator_code = indicators.indicator_code
    inner join indicator_periods
        on terms_with_values.indicator_code = indicator_periods.indicator_code
        and terms_with_values.unit_id = indicator_periods.unit_id
        and terms_with_values.period_no = indicator_periods.period_no
),

final as (
    select
        indicator_code,
        term,
        term_column,
        term_window,
        is_running_total,
        unit_id,
        period_no,
        case
            when not is_running_total then has_data
            when runs_over_covered_periods then all_terms_present
            else bool_and(has_data) over so_far
        end as is_present,
        case
            when not is_running_total then period_value
            when runs_over_covered_periods then
                case when all_terms_present then
                    coalesce(sum(case when all_terms_present then period_value end) over so_far, 0)
                end
            when bool_and(has_data) over so_far then sum(period_value) over so_far
        end as term_value,
        case
            when not is_running_total then period_row_refs
            when runs_over_covered_periods
                then flatten(list(case when all_terms_present then period_row_refs else [] end) over so_far)
            else flatten(list(period_row_refs) over so_far)
        end as row_refs,
        case
            when is_running_total and runs_over_covered_periods then count_if(all_terms_present) over so_far
            when is_running_total then count_if(has_data) over so_far
        end as periods_covered,
        case when is_running_total then count(*) over so_far end as periods_in_window,
    from with_values
    window so_far as (
        partition by indicator_code, term, term_column, unit_id
        order by period_no
        rows between unbounded preceding and current row
    )
)

select * from final
