"""`make up` / `make down` (`roadsafe airflow up|down`) on a temporary ROADSAFE_HOME and a free port."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = [str(REPO / ".venv" / "bin" / "roadsafe"), "airflow"]


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_profiles_share_one_environment_and_differ_only_in_the_engine(tmp_path):
    from application.airflow.local import airflow_env, components, profile_from_env

    embedded = airflow_env(tmp_path, port=8080, base={})
    prod = airflow_env(
        tmp_path, port=8080, base={}, profile="prod",
        database_url="postgresql+psycopg2://u@db:5432/af", broker_url="redis://redis:6379/3",
    )  # fmt: skip
    assert embedded["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert embedded["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:///")
    assert prod["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert prod["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://u@db:5432/af"
    assert prod["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/3"
    assert prod["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg2://u@db:5432/af"
    engine = {
        k for k in prod if k.startswith(("AIRFLOW__CELERY", "AIRFLOW__DATABASE", "AIRFLOW__CORE__EXECUTOR"))
    }
    same = set(embedded) - engine - {"AIRFLOW__API_AUTH__JWT_SECRET", "ROADSAFE_PROFILE"}
    assert {k: prod[k] for k in same} == {k: embedded[k] for k in same}
    assert components("prod", 2)[-2:] == ("worker-1", "worker-2")
    assert not any(c.startswith("worker") for c in components("embedded"))
    with pytest.raises(ValueError, match="ROADSAFE_PROFILE='production'"):
        profile_from_env({"ROADSAFE_PROFILE": "production"})


@pytest.mark.slow
def test_up_starts_four_components_healthy_and_down_stops_exactly_them(tmp_path, aflib):
    port = aflib.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "ROADSAFE_HOME": str(tmp_path / "home"),
            "AIRFLOW_PORT": str(port),
            "ROADSAFE_PORTAL_PORT": str(aflib.free_port()),
        }
    )
    pids_file = tmp_path / "home" / "airflow" / "pids"
    try:
        t0 = time.monotonic()
        up = subprocess.run([*CLI, "up"], env=env, capture_output=True, text=True, timeout=300)
        started_in = time.monotonic() - t0
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        print(f"make up: healthy with DAGs registered in {started_in:.1f} s")
        assert f"http://localhost:{port}" in up.stdout
        login = re.search(r"Login:\s+admin / (\S+)", up.stdout)
        assert login and len(login.group(1)) >= 12
        registered = re.search(r"DAGs registered: (.+)", up.stdout)
        assert registered, up.stdout
        kinds = ("ingest", "build", "weekly", "monthly", "span", "reminders")
        assert {f"roadsafe_{k}" for k in kinds} <= set(registered.group(1).split(", "))

        recorded = dict(line.split() for line in pids_file.read_text().splitlines())
        assert set(recorded) - {"portal"} == {"scheduler", "dag-processor", "triggerer", "api-server"}
        pids = [int(p) for p in recorded.values()]
        assert all(alive(p) for p in pids)

        # the DAGs are unpaused and the writer pool exists (REST, with the printed login)
        token = aflib.api(
            "POST", f"http://127.0.0.1:{port}/auth/token", {"username": "admin", "password": login.group(1)}
        )["access_token"]
        dags = aflib.api_auth("GET", f"http://127.0.0.1:{port}/api/v2/dags?dag_id_pattern=roadsafe_", token)
        paused = {d["dag_id"]: d["is_paused"] for d in dags["dags"]}
        assert {f"roadsafe_{k}" for k in kinds} <= set(paused) and not any(paused.values()), paused
        pool = aflib.api_auth("GET", f"http://127.0.0.1:{port}/api/v2/pools/roadsafe_duckdb", token)
        assert pool["slots"] == 1

        # the portal's own Airflow account (role op, not admin) may post the inbox asset event
        from application.airflow.service import PORTAL_USER, portal_password

        portal_token = aflib.api(
            "POST",
            f"http://127.0.0.1:{port}/auth/token",
            {"username": PORTAL_USER, "password": portal_password(tmp_path / "home")},
        )["access_token"]
        assets = aflib.api_auth(
            "GET", f"http://127.0.0.1:{port}/api/v2/assets?name_pattern=roadsafe_inbox", portal_token
        )
        (inbox_asset,) = [a for a in assets["assets"] if a["name"] == "roadsafe_inbox"]
        event = aflib.api_auth(
            "POST",
            f"http://127.0.0.1:{port}/api/v2/assets/events",
            portal_token,
            {"asset_id": inbox_asset["id"]},
        )
        assert event["asset_id"] == inbox_asset["id"]

        # a second `up` refuses to start another set
        t1 = time.monotonic()
        again = subprocess.run([*CLI, "up"], env=env, capture_output=True, text=True, timeout=60)
        print(f"second up refused in {time.monotonic() - t1:.1f} s")
        assert again.returncode != 0 and "already running" in again.stderr

        t1 = time.monotonic()
        down = subprocess.run([*CLI, "down"], env=env, capture_output=True, text=True, timeout=120)
        print(f"make down: {time.monotonic() - t1:.1f} s\n{down.stdout}")
        assert down.returncode == 0, down.stdout + down.stderr
        assert not any(alive(p) for p in pids)
        assert not pids_file.exists()
    finally:
        if pids_file.exists():
            subprocess.run([*CLI, "down"], env=env, capture_output=True, timeout=120)
