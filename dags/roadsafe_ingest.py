"""
### roadsafe_ingest — event-driven ingestion of submissions

**Starts by itself** whenever `Asset("roadsafe_inbox")` gets an event:

* the `inbox_watcher` (`application.airflow.triggers.InboxTrigger`, running in the triggerer) announces every
  new or changed file under `$ROADSAFE_HOME/inbox/<unit>/` once its size has been stable for 2 s.
  It never deletes or moves the file and remembers what it announced in the asset state store;
* the upload portal posts an event on the same asset through the REST API
  (`POST /api/v2/assets/events {"asset_id": <id of roadsafe_inbox>, "extra": {...}}`).

**What it does:** `ingest_pending` lands and loads **every** pending inbox file, not only the ones
named in the triggering events (two events 20 ms apart can be folded into one run). It writes
DuckDB, so it runs in pool `roadsafe_duckdb` (1 slot).

**Historical submissions:** a run started with the conf `{"history_manifest": DIR, "until": ISO time}`
first imports the submissions of that manifest received up to `until`, with their original receive
times (what `roadsafe import-history` does; the demo replays the 2022 sample campaign this way).

**Outlet:** `announce_raw` updates `Asset("roadsafe_raw")` (which starts `roadsafe_build`) only when
the run wrote at least one submission to `raw.*` (accepted, rejected or duplicate); otherwise it is
*skipped* and no asset event is emitted.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetWatcher, dag, task

from application.airflow.tasks import inbox_path
from application.airflow.triggers import InboxTrigger

INBOX = Asset(
    "roadsafe_inbox",
    watchers=[
        AssetWatcher(
            name="inbox_watcher",
            trigger=InboxTrigger(inbox=inbox_path(), settle_seconds=2.0, poll_interval=2.0),
        )
    ],
)
RAW = Asset("roadsafe_raw")


@dag(
    dag_id="roadsafe_ingest",
    schedule=[INBOX],
    start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["roadsafe", "ingest"],
    default_args={"owner": "roadsafe", "retries": 2, "retry_delay": pendulum.duration(seconds=30)},
    doc_md=__doc__,
)
def roadsafe_ingest():
    @task(pool="roadsafe_duckdb")
    def ingest_pending(dag_run=None):
        """Land and load every pending inbox file; returns a summary of the receipts."""
        from application.airflow.tasks import ingest_pending as run

        return run(dag_run.conf if dag_run else None)

    @task(outlets=[RAW])
    def announce_raw(summary: dict) -> int:
        """Emit the `roadsafe_raw` asset event, or skip (no event) when nothing reached `raw.*`."""
        from airflow.sdk.exceptions import AirflowSkipException

        from application.airflow.tasks import raw_changed

        if not raw_changed(summary):
            raise AirflowSkipException("no submission written to raw.*: roadsafe_raw not updated")
        return int(summary["receipts"])

    announce_raw(ingest_pending())


roadsafe_ingest()
