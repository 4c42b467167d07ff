{#-
  Incremental rebuilds of the models that hold what each period's current files say.

  Their rows for a (form, period) depend only on that form and period's current submissions and those
  submissions' values, so a build after a new file need only redo the (form, period) pairs whose set of
  current submissions differs from the one the table was built from: the new file's pair, and the pair of
  any file it superseded. The comparison is of sets, not of a time watermark, so a file imported late with
  an old receive time, or a table left behind by an interrupted build, is caught the same way.

  `submission_id` is the expression over {{ this }} giving the submission(s) each row was built from
  (`submission_id`, or `unnest(submission_ids)` where a row lists several).
-#}

{% macro changed_form_periods(submission_id) %}
    {%- set built_from -%}
        select distinct form_code, period_no, {{ submission_id }} as submission_id from {{ this }}
    {%- endset %}
    select form_code, period_no
    from (
        (
            select form_code, period_no, submission_id from {{ ref('int_submissions_ranked') }} where is_current
            except
            select form_code, period_no, submission_id from ({{ built_from }})
        )
        union all
        (
            select form_code, period_no, submission_id from ({{ built_from }})
            except
            select form_code, period_no, submission_id from {{ ref('int_submissions_ranked') }} where is_current
        )
    )
    group by form_code, period_no
{% endmacro %}

{#- pre-hook: remove the changed pairs' rows; the model then inserts them anew (append). -#}
{% macro delete_changed_form_periods(submission_id) %}
    {% if is_incremental() %}
        delete from {{ this }}
        where (form_code, period_no) in ({{ changed_form_periods(submission_id) }})
    {% endif %}
{% endmacro %}

{#- the model's filter on current submissions: every pair on a full build, the changed ones otherwise -#}
{% macro only_changed_form_periods(submission_id) %}
    {% if is_incremental() %}
        and (form_code, period_no) in ({{ changed_form_periods(submission_id) }})
    {% endif %}
{% endmacro %}
