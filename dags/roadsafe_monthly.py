"""
### roadsafe_monthly — monthly ranking (工作排名) and summary (工作小结)

One DAG per campaign of the deployment (`roadsafe_monthly__<code>` when it runs several).

**Schedule:** at the time of `reports.monthly_ranking` in the campaign definition (18:00
Asia/Shanghai for jiujiang-2022) on days 20-31 of every month (`CronTriggerTimetable`), and
`is_last_working_day` short-circuits unless the run's date is the last working day of its month
according to the working-day calendar (`calendar/cn-workdays.yml`, with 调休).

A year missing from the calendar **fails** the run with the calendar's Chinese message
(e.g. "工作日历中没有2027年的节假日安排…"), it does not skip silently.

**Tasks:** `is_last_working_day` → `freeze_edition` → `render_ranking` and `render_summary`
(HTML, PDF, XLSX) → `deliver`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from application.airflow.campaigns import CampaignWiring, default_args, wired_campaigns
from application.airflow.tasks import campaign_report_cron


def monthly_dag(c: CampaignWiring):
    cron, tz = campaign_report_cron("monthly_ranking", days="20-31", campaign=c.code)

    @dag(
        dag_id=c.dag_id("monthly"),
        schedule=CronTriggerTimetable(cron, timezone=tz),
        start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        tags=["roadsafe", "reports", "monthly", c.code],
        default_args=default_args(retries=2, retry_delay=pendulum.duration(minutes=2)),
        doc_md=__doc__,
    )
    def roadsafe_monthly():
        @task.short_circuit
        def is_last_working_day(campaign: str = c.code, logical_date=None) -> bool:
            """True on the last working day of the month; fails when the calendar lacks the year."""
            from application.airflow.tasks import is_last_working_day as ask

            return ask(logical_date, campaign=campaign)

        @task
        def freeze_edition(campaign: str = c.code, logical_date=None) -> str:
            """Freeze the month's edition; returns its folder."""
            from application.airflow.tasks import monthly_edition

            return monthly_edition(logical_date, campaign)

        @task
        def render_ranking(edition_dir: str) -> list[str]:
            """工作排名: HTML, PDF, XLSX."""
            from application.airflow.tasks import render_edition

            return render_edition(edition_dir, "ranking")

        @task
        def render_summary(edition_dir: str) -> list[str]:
            """工作小结: HTML, PDF, XLSX."""
            from application.airflow.tasks import render_edition

            return render_edition(edition_dir, "summary")

        @task
        def deliver(edition_dir: str, campaign: str = c.code):
            """E-mail the rendered edition to the campaign's recipients."""
            from application.airflow.tasks import deliver_edition

            return deliver_edition(edition_dir, campaign)

        edition = freeze_edition(campaign=c.code)
        is_last_working_day(campaign=c.code) >> edition
        [render_ranking(edition), render_summary(edition)] >> deliver(edition, campaign=c.code)

    return roadsafe_monthly()


for _c in wired_campaigns():
    globals()[_c.dag_id("monthly")] = monthly_dag(_c)
