{#- The grain test: no two rows share the same values in `combination_of_columns` (dbt_utils is not
    available offline, so this is the small local version). -#}
{% test unique_combination(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
