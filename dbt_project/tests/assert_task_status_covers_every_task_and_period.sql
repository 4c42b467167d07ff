-- One status per task and period.
select tasks.task_no, periods.period_no
from {{ ref('stg_ref__tasks') }} as tasks
cross join {{ ref('stg_ref__periods') }} as periods
except
select task_no, period_no from {{ ref('fct_task_status') }}
