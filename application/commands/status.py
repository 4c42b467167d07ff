"""``roadsafe status [--json]``: the state of the deployment for the operator (computed by
:mod:`roadsafe.opstatus`): per campaign the last file of each unit, the last ingest, build and edition;
running and failed Airflow tasks; the Celery queue's depth; the disk use of ``$ROADSAFE_HOME``.

Airflow is read from its metadata database: ``$ROADSAFE_AIRFLOW_DATABASE_URL`` (or Airflow's own setting,
as in a container of docker-compose.yml), else in the prod profile the local PostgreSQL that ``make up
ROADSAFE_PROFILE=prod`` uses, else in the embedded profile the SQLite file under ``$ROADSAFE_HOME/airflow``;
without one, the REST API at ``$ROADSAFE_AIRFLOW_URL`` (``ROADSAFE_AIRFLOW_USER``/``PASSWORD`` or
``TOKEN``). The queue is read from the prod profile's broker (``$ROADSAFE_CELERY_BROKER_URL``, Airflow's own
setting, or the local Redis). Exit 0; 1 when a task failed in the last 24 hours or Airflow could not be
reached (for a monitoring probe).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["airflow_source", "broker_url", "register"]


def _profile(env: Mapping[str, str]) -> str:
    return env.get("ROADSAFE_PROFILE") or "embedded"


def airflow_source(root: Path, environ: Mapping[str, str] | None = None):
    """Where ``roadsafe status`` reads Airflow from (see the module docstring); None when nowhere."""
    from application.airflow.local import LOCAL_DATABASE_URL
    from roadsafe.opstatus import AirflowDatabase, AirflowRest

    env = os.environ if environ is None else environ
    for key in ("ROADSAFE_AIRFLOW_DATABASE_URL", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):  # the latter in a container
        if env.get(key):
            return AirflowDatabase(env[key])
    if _profile(env) == "prod":
        return AirflowDatabase(LOCAL_DATABASE_URL)
    embedded = Path(root) / "airflow" / "airflow.db"
    if embedded.is_file():
        return AirflowDatabase(f"sqlite:///{embedded}")
    if env.get("ROADSAFE_AIRFLOW_URL"):
        return AirflowRest(env["ROADSAFE_AIRFLOW_URL"], env.get("ROADSAFE_AIRFLOW_USER"),
                           env.get("ROADSAFE_AIRFLOW_PASSWORD"), env.get("ROADSAFE_AIRFLOW_TOKEN"))  # fmt: skip
    return None


def broker_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The Celery broker of the prod profile; None in the embedded profile (no queue)."""
    from application.airflow.local import LOCAL_BROKER_URL

    env = os.environ if environ is None else environ
    for key in ("ROADSAFE_CELERY_BROKER_URL", "AIRFLOW__CELERY__BROKER_URL"):
        if env.get(key):
            return env[key]
    return LOCAL_BROKER_URL if _profile(env) == "prod" else None


def _status(args: argparse.Namespace) -> int:
    from roadsafe.opstatus import collect
    from roadsafe.settings import Settings, deployment_campaigns

    root = args.settings.root
    campaigns = [Settings.from_env(campaign=c, home=root) for c in deployment_campaigns()] or [args.settings]
    status = collect(campaigns, root=root, airflow=airflow_source(root), broker_url=broker_url())
    print(status.to_json() if args.json else status.text())
    return 0 if status.airflow.connected and not status.airflow.failed else 1


def register(sub) -> None:
    p = sub.add_parser(
        "status",
        help="state of the deployment: last files, ingest, build, edition, Airflow tasks, queue, disk",
        description="运行状态：各活动各单位最近报送、最近入库/构建/报告、Airflow 运行中和失败的任务、任务队列积压、数据目录占用。"
        "退出码：0 正常，1 近24小时有失败任务或 Airflow 未连接。",
    )
    p.add_argument("--json", action="store_true", help="machine-readable JSON instead of the Chinese report")
    p.set_defaults(func=_status)
