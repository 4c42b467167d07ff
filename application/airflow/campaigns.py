"""The campaigns of this deployment as the DAG files wire them: one place that names their Airflow objects.

One campaign (``$ROADSAFE_CAMPAIGNS`` unset): DAGs ``roadsafe_<kind>``, pool ``roadsafe_duckdb``, assets
``roadsafe_inbox`` / ``roadsafe_raw`` / ``roadsafe_marts``. Several: the same per campaign, named
``roadsafe_<kind>__<code>``, ``roadsafe_duckdb_<code>`` and ``roadsafe_<asset>/<code>`` (see
docs/ARCHITECTURE.md, "Several campaigns on one deployment").

Imported by every DAG file at parse time: the standard library and ``roadsafe.settings`` only.
``python -m application.airflow.campaigns pools`` prints the pools as the JSON ``airflow pools import`` reads.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from application.airflow.callbacks import on_failure_callback
from roadsafe.settings import Settings

__all__ = ["DEFAULT_ARGS", "KINDS", "CampaignWiring", "default_args", "pools", "wired_campaigns"]

KINDS = ("ingest", "build", "weekly", "monthly", "span", "reminders")
DEFAULT_ARGS: dict = {"owner": "roadsafe", "on_failure_callback": on_failure_callback}
"""The default_args every roadsafe DAG shares (a DAG adds its own retries): change them here, once."""


def default_args(retries: int, retry_delay: timedelta) -> dict:
    """:data:`DEFAULT_ARGS` with a DAG's own retries."""
    return {**DEFAULT_ARGS, "retries": retries, "retry_delay": retry_delay}


@dataclass(frozen=True)
class CampaignWiring:
    """One campaign of the deployment and the names of its Airflow objects."""

    settings: Settings

    @property
    def code(self) -> str:
        return self.settings.campaign_code

    def dag_id(self, kind: str) -> str:
        """``roadsafe_<kind>``, or ``roadsafe_<kind>__<code>`` when the deployment runs several campaigns."""
        if kind not in KINDS:
            raise ValueError(f"unknown DAG kind {kind!r}: one of {', '.join(KINDS)}")
        return self.settings.airflow_name(f"roadsafe_{kind}", sep="__")

    @property
    def pool(self) -> str:
        """The campaign's single-writer pool (1 slot): its ingest and build take turns on it."""
        return self.settings.airflow_name("roadsafe_duckdb", sep="_")

    def asset(self, kind: str) -> str:
        """``roadsafe_<kind>`` (``inbox``, ``raw``, ``marts``), per campaign ``roadsafe_<kind>/<code>``."""
        return self.settings.airflow_name(f"roadsafe_{kind}")

    @property
    def inbox(self) -> str:
        """The campaign's drop folders (absolute), what its inbox watcher scans."""
        return str(self.settings.inbox)


def wired_campaigns(environ: Mapping[str, str] | None = None) -> list[CampaignWiring]:
    """Every campaign of the deployment (``$ROADSAFE_CAMPAIGNS``, else the one ``$ROADSAFE_CAMPAIGN``), the
    variables read from ``environ`` (default ``os.environ``)."""
    return [CampaignWiring(s) for s in Settings.all_from_env(environ)]


def pools(environ: Mapping[str, str] | None = None) -> dict[str, dict]:
    """The deployment's pools, as ``airflow pools import`` reads them: one slot per campaign's warehouse."""
    return {
        c.pool: {"slots": 1, "description": f"DuckDB single writer of {c.code}", "include_deferred": False}
        for c in wired_campaigns(environ)
    }


if __name__ == "__main__":  # pragma: no cover - a tiny command for docker-compose's airflow-init
    if sys.argv[1:] != ["pools"]:
        sys.exit("usage: python -m application.airflow.campaigns pools")
    print(json.dumps(pools(), indent=2))
