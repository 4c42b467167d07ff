"""Airflow on one machine: the environment every local component, CLI call and demo run shares.

Airflow lives under ``$ROADSAFE_HOME/airflow`` (AIRFLOW_HOME) with its metadata in SQLite and the
repository's ``dags/`` folder; production uses docker-compose.yml instead.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

__all__ = ["AIRFLOW", "DAGS_FOLDER", "airflow_env", "run_airflow"]

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def airflow_env(home: Path, *, port: int | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Airflow on ``home`` (ROADSAFE_HOME): SQLite, LocalExecutor, parallelism 4.

    ``port`` also configures the api-server (and the execution API the tasks report to).
    Inherited ``AIRFLOW*`` variables are dropped so a developer's own Airflow never leaks in.
    """
    af = Path(home) / "airflow"
    af.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "ROADSAFE_HOME": str(home),
            "AIRFLOW_HOME": str(af),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{af}/airflow.db",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(af / "logs"),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
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
