"""
### roadsafe_weekly — weekly bulletin (工作通报) and dispatch list (工作调度单)

**Schedule:** every day at the time of `reports.weekly_bulletin` in the campaign definition
(17:00 Asia/Shanghai for jiujiang-2022), read from campaign.yml when the file is parsed.
The due day itself moves with holidays (days after the period end, rolled to the next working day),
so `is_bulletin_day` asks `roadsafe.schedule` at run time and short-circuits on other days.

**Tasks:** `is_bulletin_day` → `freeze_edition` (the edition's data, from the published snapshot)
→ `render_bulletin` and `render_dispatch` (HTML, PDF, XLSX) → `deliver` (e-mail).
Everything is derived from the run's logical date: re-running a day rebuilds the same edition.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from application.airflow.tasks import campaign_report_cron

CRON, TZ = campaign_report_cron("weekly_bulletin")


@dag(
    dag_id="roadsafe_weekly",
    schedule=CronTriggerTimetable(CRON, timezone=TZ),
    start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["roadsafe", "reports", "weekly"],
    default_args={"owner": "roadsafe", "retries": 2, "retry_delay": pendulum.duration(minutes=2)},
    doc_md=__doc__,
)
def roadsafe_weekly():
    @task.short_circuit
    def is_bulletin_day(logical_date=None) -> bool:
        """True when the weekly bulletin is due on the run's date (campaign schedule + calendar)."""
        from application.airflow.tasks import is_bulletin_day as ask

        return ask(logical_date)

    @task
    def freeze_edition(logical_date=None) -> str:
        """Freeze the edition for the run's date; returns its folder."""
        from application.airflow.tasks import weekly_edition

        return weekly_edition(logical_date)

    @task
    def render_bulletin(edition_dir: str) -> list[str]:
        """工作通报: HTML, PDF, XLSX."""
        from application.airflow.tasks import render_edition

        return render_edition(edition_dir, "bulletin")

    @task
    def render_dispatch(edition_dir: str) -> list[str]:
        """工作调度单: HTML, PDF, XLSX."""
        from application.airflow.tasks import render_edition

        return render_edition(edition_dir, "dispatch")

    @task
    def deliver(edition_dir: str):
        """E-mail the rendered edition to the campaign's recipients."""
        from application.airflow.tasks import deliver_edition

        return deliver_edition(edition_dir)

    edition = freeze_edition()
    is_bulletin_day() >> edition
    [render_bulletin(edition), render_dispatch(edition)] >> deliver(edition)


roadsafe_weekly()
