"""
### roadsafe_build — dbt build and snapshot publication

**Starts by itself** after every `roadsafe_ingest` run that updated `Asset("roadsafe_raw")`.

`dbt_build` rewrites the `ref.*` tables from the campaign definition, runs `dbt build`
(staging → intermediate → marts, with tests) and publishes the read-only snapshot
`$ROADSAFE_HOME/published/warehouse.duckdb` for reports, the site and the portal
(`application.build.run_build`). It writes DuckDB, so it runs in pool `roadsafe_duckdb` (1 slot),
never at the same time as an ingest.

**Outlet:** `Asset("roadsafe_marts")` on success.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

RAW = Asset("roadsafe_raw")
MARTS = Asset("roadsafe_marts")


@dag(
    dag_id="roadsafe_build",
    schedule=[RAW],
    start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["roadsafe", "dbt"],
    default_args={"owner": "roadsafe", "retries": 1, "retry_delay": pendulum.duration(seconds=30)},
    doc_md=__doc__,
)
def roadsafe_build():
    @task(pool="roadsafe_duckdb", outlets=[MARTS])
    def dbt_build():
        """Write ref tables, run dbt build, publish the snapshot; returns the BuildResult."""
        from application.airflow.tasks import build_marts

        return build_marts()

    dbt_build()


roadsafe_build()
