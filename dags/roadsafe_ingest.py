"""
### roadsafe_ingest — event-driven ingestion of submissions

One DAG per campaign of the deployment (`roadsafe_ingest__<code>`, watching `roadsafe_inbox/<code>`, when it
runs several; see `application.airflow.campaigns`).

**Starts by itself** whenever `Asset("roadsafe_inbox")` gets an event:

* the `inbox_watcher` (`application.airflow.triggers.InboxTrigger`, running in the triggerer) announces every
  new or changed file under `$ROADSAFE_HOME/inbox/<unit>/` once its size has been stable for 2 s.
  It never deletes or moves the file and remembers what it announced in the asset state store;
* the upload portal posts an event on the same asset through the REST API
  (`POST /api/v2/assets/events {"asset_id": <id of roadsafe_inbox>, "extra": {...}}`).

**What it does:** `ingest_pending` lands and loads **every** pending inbox file, not only the ones
named in the triggering events (two events 20 ms apart can be folded into one run). It writes
DuckDB, so it runs in the campaign's pool `roadsafe_duckdb` (1 slot).

**Historical submissions:** a run started with the conf `{"history_manifest": DIR, "until": ISO time}`
first imports the submissions of that manifest received up to `until`, with their original receive
times (what `roadsafe import-history` does; the demo replays the 2022 sample campaign this way).

**Outlet:** `ingest_pending` updates `Asset("roadsafe_raw")` (which starts `roadsafe_build`) only when
the run wrote at least one submission to `raw.*` (accepted, rejected or duplicate); otherwise the task is
*skipped* and no asset event is emitted. One task, not a second one for the event: each task start costs
the event path a scheduler round and a task process.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetWatcher, dag, task

from application.airflow.campaigns import CampaignWiring, default_args, wired_campaigns
from application.airflow.triggers import InboxTrigger


def ingest_dag(c: CampaignWiring):
    inbox = Asset(
        c.asset("inbox"),
        watchers=[
            AssetWatcher(
                name=c.settings.airflow_name("inbox_watcher", sep="__"),
                trigger=InboxTrigger(inbox=c.inbox, settle_seconds=2.0, poll_interval=1.0),
            )
        ],
    )

    @dag(
        dag_id=c.dag_id("ingest"),
        schedule=[inbox],
        start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        tags=["roadsafe", "ingest", c.code],
        default_args=default_args(retries=2, retry_delay=pendulum.duration(seconds=30)),
        doc_md=__doc__,
    )
    def roadsafe_ingest():
        @task(pool=c.pool, outlets=[Asset(c.asset("raw"))])
        def ingest_pending(campaign: str = c.code, dag_run=None):
            """Land and load every pending inbox file; skipped (no `roadsafe_raw` event) when nothing
            reached `raw.*`. Returns a summary of the receipts."""
            from application.airflow.tasks import ingest_announcing_raw

            return ingest_announcing_raw(dag_run.conf if dag_run else None, campaign)

        ingest_pending(campaign=c.code)

    return roadsafe_ingest()


for _c in wired_campaigns():
    globals()[_c.dag_id("ingest")] = ingest_dag(_c)
