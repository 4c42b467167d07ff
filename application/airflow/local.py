"""Airflow's environment: the one place that computes it, for every component, CLI call and demo run.

Two profiles share everything but the engine underneath:

* ``embedded`` (the default): metadata in SQLite under ``$ROADSAFE_HOME/airflow``, the LocalExecutor; no
  services needed (``make up``, ``make demo``, most tests).
* ``prod``: metadata in PostgreSQL, the CeleryExecutor with a Redis broker and the Celery results in
  PostgreSQL; workers on any host that sees the same ``$ROADSAFE_HOME`` take tasks
  (``make up ROADSAFE_PROFILE=prod``, tests/production, docker-compose.yml).

The prod profile reads its service addresses from ``ROADSAFE_AIRFLOW_DATABASE_URL`` (an SQLAlchemy URL,
``postgresql+psycopg2://…``) and ``ROADSAFE_CELERY_BROKER_URL`` (``redis://…/<db>``), defaulting to the
local services on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "AIRFLOW",
    "DAGS_FOLDER",
    "PROFILES",
    "airflow_env",
    "component_argv",
    "components",
    "profile_from_env",
    "run_airflow",
    "set_pools",
]

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
PROFILES = ("embedded", "prod")
LOCAL_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/roadsafe_airflow"
LOCAL_BROKER_URL = "redis://127.0.0.1:6379/0"
SIMPLE_AUTH = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def profile_from_env(environ: dict[str, str] | None = None) -> str:
    """``$ROADSAFE_PROFILE`` (``embedded`` when unset); anything else is refused with the choices."""
    profile = (os.environ if environ is None else environ).get("ROADSAFE_PROFILE") or "embedded"
    if profile not in PROFILES:
        raise ValueError(f"ROADSAFE_PROFILE={profile!r}: choose one of {', '.join(PROFILES)}")
    return profile


def components(profile: str, workers: int = 2) -> tuple[str, ...]:
    """The long-running processes of a profile, by name (``worker-1`` … run ``airflow celery worker``)."""
    base = ("scheduler", "dag-processor", "triggerer", "api-server")
    if profile == "prod":
        return base + tuple(f"worker-{i}" for i in range(1, workers + 1))
    return base


def component_argv(name: str) -> list[str]:
    """The command line of one component named as in :func:`components`."""
    if name.startswith("worker-"):
        return [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--without-mingle"]
    return [AIRFLOW, name]


def airflow_env(
    home: Path,
    *,
    port: int | None = None,
    base: dict[str, str] | None = None,
    profile: str = "embedded",
    database_url: str | None = None,
    broker_url: str | None = None,
    campaigns: Sequence[str] | None = None,
) -> dict[str, str]:
    """Environment for Airflow on ``home`` (ROADSAFE_HOME) in ``profile``.

    ``port`` also configures the api-server (and the execution API the tasks report to). Inherited
    ``AIRFLOW*`` variables are dropped so a developer's own Airflow never leaks in. The prod profile
    takes ``database_url`` / ``broker_url``, else ``$ROADSAFE_AIRFLOW_DATABASE_URL`` /
    ``$ROADSAFE_CELERY_BROKER_URL``, else the local services. ``campaigns`` sets ``ROADSAFE_CAMPAIGNS``
    (several campaigns on this deployment); otherwise it is inherited.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    source = os.environ if base is None else base
    af = Path(home) / "airflow"
    af.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in source.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "ROADSAFE_HOME": str(home),
            "ROADSAFE_PROFILE": profile,
            "AIRFLOW_HOME": str(af),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{af}/airflow.db",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(af / "logs"),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if profile == "prod":
        db = database_url or source.get("ROADSAFE_AIRFLOW_DATABASE_URL") or LOCAL_DATABASE_URL
        broker = broker_url or source.get("ROADSAFE_CELERY_BROKER_URL") or LOCAL_BROKER_URL
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
                "AIRFLOW__CELERY__BROKER_URL": broker,
                # Celery's own result store, in the metadata database ("db+" selects its SQLAlchemy backend)
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                # a task whose worker died goes back to the queue: acknowledged only when it finishes
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
            }
        )
    if campaigns is not None:
        env["ROADSAFE_CAMPAIGNS"] = ",".join(campaigns)
    if port is not None:
        env["AIRFLOW__API__PORT"] = str(port)
        env["AIRFLOW__API__HOST"] = "127.0.0.1"
        env["AIRFLOW__API__BASE_URL"] = f"http://127.0.0.1:{port}"
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{port}/execution/"
    return env


def run_airflow(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """``airflow <args>`` to completion (bounded); raises ``RuntimeError`` with its output on failure."""
    proc = subprocess.run(
        [AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=env["ROADSAFE_HOME"]
    )
    if proc.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def set_pools(env: dict[str, str]) -> list[str]:
    """Create (or resize) the single-writer pool of every campaign of the deployment in ``env`` (one slot
    each: :func:`application.airflow.campaigns.pools`); returns their names."""
    from application.airflow.campaigns import pools

    wanted = pools(env)
    path = Path(env["AIRFLOW_HOME"]) / "pools.json"
    path.write_text(json.dumps(wanted, indent=2) + "\n")
    run_airflow(["pools", "import", str(path)], env, timeout=180)
    return sorted(wanted)
