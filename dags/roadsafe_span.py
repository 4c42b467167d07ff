"""
### roadsafe_span — half-year summary (半年工作总结), yearly assessment (年度考核), final assessment (总结评估)

One DAG per campaign of the deployment (`roadsafe_span__<code>` when it runs several).

**Schedule:** daily at every time of day of the campaign's span reports in campaign.yml (17:00 and 18:00
Asia/Shanghai for the long-term plan; 18:00 for jiujiang-2022's final assessment). `spans_due` asks
`roadsafe.schedule` at run time which of them are due at the run's time (days after the period or the
campaign end, rolled to working days) and short-circuits when none is.

**Tasks:** `spans_due` → `issue` (freeze the edition from the published snapshot and render HTML, PDF,
XLSX) → `deliver` (e-mail).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from application.airflow.campaigns import CampaignWiring, default_args, wired_campaigns
from application.airflow.tasks import span_report_cron


def span_dag(c: CampaignWiring):
    cron, tz = span_report_cron(c.code)

    @dag(
        dag_id=c.dag_id("span"),
        schedule=CronTriggerTimetable(cron, timezone=tz),
        start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        tags=["roadsafe", "reports", "span", c.code],
        default_args=default_args(retries=2, retry_delay=pendulum.duration(minutes=2)),
        doc_md=__doc__,
    )
    def roadsafe_span():
        @task.short_circuit
        def spans_due(campaign: str = c.code, logical_date=None) -> list[dict]:
            """The span reports due at the run's time (empty: the rest is skipped)."""
            from application.airflow.tasks import spans_due as ask

            return ask(logical_date, campaign)

        @task
        def issue(reports: list[dict], campaign: str = c.code) -> list[str]:
            """Freeze and render each due report; returns their folders."""
            from application.airflow.tasks import span_editions

            return span_editions(reports, campaign)

        @task
        def deliver(folders: list[str], campaign: str = c.code) -> list[dict]:
            """E-mail each rendered edition to the campaign's recipients."""
            from application.airflow.tasks import deliver_edition

            return [deliver_edition(folder, campaign) for folder in folders]

        deliver(issue(spans_due(campaign=c.code), campaign=c.code), campaign=c.code)

    return roadsafe_span()


for _c in wired_campaigns():
    globals()[_c.dag_id("span")] = span_dag(_c)
