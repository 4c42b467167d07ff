"""
### roadsafe_reminders — reminders, overdue notices and escalations

One DAG per campaign of the deployment (`roadsafe_reminders__<code>` when it runs several).

**Schedule:** every hour from 08:00 to 18:00 in the campaign's time zone
(`application.reminders.REMINDER_HOURS`).

`send_reminders` covers the window from the previous run slot to this run's logical date and, for
every expected submission without an accepted file received by then, produces the notices that fall
in the window, using the lead and lag hours of `reminders` in the campaign definition:
a reminder `before_due_hours` before the due time, an overdue notice `overdue_after_hours` after it,
and an escalation to `escalate_to` after `escalate_after_hours`. Each notice belongs to exactly one
run. The notices are delivered to the units' contacts (e-mail, group robots) and every attempt is
recorded in the warehouse ledger `ops.notice_attempts`, so a retried run sends only what did not go.
It reads the published snapshot; its two short ledger writes take turns in the warehouse writers'
queue, not the `roadsafe_duckdb` pool (a slow robot must not hold up ingestion while it is sent).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from application.airflow.campaigns import CampaignWiring, default_args, wired_campaigns
from application.airflow.tasks import campaign_timezone
from application.reminders import reminder_cron


def reminders_dag(c: CampaignWiring):
    @dag(
        dag_id=c.dag_id("reminders"),
        schedule=CronTriggerTimetable(reminder_cron(), timezone=campaign_timezone(c.code)),
        start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        tags=["roadsafe", "reminders", c.code],
        default_args=default_args(retries=1, retry_delay=pendulum.duration(minutes=5)),
        doc_md=__doc__,
    )
    def roadsafe_reminders():
        @task
        def send_reminders(campaign: str = c.code, logical_date=None):
            """Select, write and deliver this run's reminders / overdue notices / escalations."""
            from application.airflow.tasks import send_reminders as run

            return run(logical_date, campaign)

        send_reminders(campaign=c.code)

    return roadsafe_reminders()


for _c in wired_campaigns():
    globals()[_c.dag_id("reminders")] = reminders_dag(_c)
