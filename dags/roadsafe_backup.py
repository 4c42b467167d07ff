"""
### roadsafe_backup — nightly backup of every campaign, with retention

**Schedule:** every day at 02:30 Asia/Shanghai.

One task per campaign of the deployment (`backup_<code>`): `roadsafe backup` of the campaign's home
(warehouse copied under the writer's lock, the landing zone, the published snapshot, the editions, the
portal's accounts; `application.backup`) into `$ROADSAFE_BACKUP_DIR` (default `$ROADSAFE_HOME/backups`),
then the old archives pruned: the newest of each of the last `ROADSAFE_BACKUP_KEEP_DAILY` days (7) and of
each of the last `ROADSAFE_BACKUP_KEEP_MONTHLY` months (12) are kept (`application.backup.retention`).
The backup takes its turn among the campaign's warehouse writers itself (it waits for a running build),
so it needs no pool slot. The restore drill is in docs/DEPLOY.md.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from application.airflow.campaigns import default_args, wired_campaigns


@dag(
    dag_id="roadsafe_backup",
    schedule=CronTriggerTimetable("30 2 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["roadsafe", "backup"],
    default_args=default_args(retries=2, retry_delay=pendulum.duration(minutes=10)),
    doc_md=__doc__,
)
def roadsafe_backup():
    for c in wired_campaigns():

        @task(task_id=f"backup_{c.code}")
        def backup(campaign: str):
            """Archive the campaign's home, then prune the old archives; returns what was kept and removed."""
            from application.backup.retention import backup_campaign

            return backup_campaign(campaign)

        backup(campaign=c.code)


roadsafe_backup()
