"""
### roadsafe_build — dbt build and snapshot publication

One DAG per campaign of the deployment (`roadsafe_build__<code>` when it runs several, see
`application.airflow.campaigns`).

**Starts by itself** after every `roadsafe_ingest` run that updated `Asset("roadsafe_raw")`.

`dbt_build` rewrites the `ref.*` tables from the campaign definition, runs `dbt build`
(staging → intermediate → marts, with tests) and publishes the read-only snapshot
`$ROADSAFE_HOME/published/warehouse.duckdb` for reports, the site and the portal
(`application.build.run_build`). It writes DuckDB, so it runs in the campaign's pool `roadsafe_duckdb`
(1 slot), never at the same time as the campaign's ingest; another campaign's build runs alongside.

**Outlet:** `Asset("roadsafe_marts")` on success.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from application.airflow.campaigns import CampaignWiring, default_args, wired_campaigns


def build_dag(c: CampaignWiring):
    @dag(
        dag_id=c.dag_id("build"),
        schedule=[Asset(c.asset("raw"))],
        start_date=pendulum.datetime(2022, 4, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        tags=["roadsafe", "dbt", c.code],
        default_args=default_args(retries=1, retry_delay=pendulum.duration(seconds=30)),
        doc_md=__doc__,
    )
    def roadsafe_build():
        @task(pool=c.pool, outlets=[Asset(c.asset("marts"))])
        def dbt_build(campaign: str = c.code):
            """Write ref tables, run dbt build, publish the snapshot; returns the BuildResult."""
            from application.airflow.tasks import build_marts

            return build_marts(campaign)

        dbt_build(campaign=c.code)

    return roadsafe_build()


for _c in wired_campaigns():
    globals()[_c.dag_id("build")] = build_dag(_c)
