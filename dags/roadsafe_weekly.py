"""
### roadsafe_weekly — weekly bulletin (工作通报) and dispatch list (工作调度单)

One DAG per campaign of the deployment (`roadsafe_weekly__<code>` when it runs several).

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

from application.airflow.campaigns import CampaignWiring, default_args, wired_campaigns
from application.airflow.tasks import campaign_report_cron


def weekly_dag(c: CampaignWiring):
    cron, tz = campaign_report_cron("weekly_bulletin", campaign=c.code)

    @dag(
        dag_id=c.dag_id("weekly"),
        schedule=CronTriggerTimetable(cron, timezone=tz),
        start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        tags=["roadsafe", "reports", "weekly", c.code],
        default_args=default_args(retries=2, retry_delay=pendulum.duration(minutes=2)),
        doc_md=__doc__,
    )
    def roadsafe_weekly():
        @task.short_circuit
        def is_bulletin_day(campaign: str = c.code, logical_date=None) -> bool:
            """True when the weekly bulletin is due on the run's date (campaign schedule + calendar)."""
            from application.airflow.tasks import is_bulletin_day as ask

            return ask(logical_date, campaign)

        @task
        def freeze_edition(campaign: str = c.code, logical_date=None) -> str:
            """Freeze the edition for the run's date; returns its folder."""
            from application.airflow.tasks import weekly_edition

            return weekly_edition(logical_date, campaign)

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
        def deliver(edition_dir: str, campaign: str = c.code):
            """E-mail the rendered edition to the campaign's recipients."""
            from application.airflow.tasks import deliver_edition

            return deliver_edition(edition_dir, campaign)

        edition = freeze_edition(campaign=c.code)
        is_bulletin_day(campaign=c.code) >> edition
        [render_bulletin(edition), render_dispatch(edition)] >> deliver(edition, campaign=c.code)

    return roadsafe_weekly()


for _c in wired_campaigns():
    globals()[_c.dag_id("weekly")] = weekly_dag(_c)
