"""docker-compose.yml's airflow-init, for real: docker/airflow-init.sh run with the environment compose gives
that service (only the addresses of PostgreSQL, Redis and the folders changed to this machine's: a fresh
PostgreSQL database of its own), then an api-server with the FAB auth manager on the result. The admin may
do everything; the portal's account may post upload events and read the task states its office page shows,
and nothing else. A weak secret stops the script before it touches anything."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from deploy_helpers import deployment_env, free_port, render

from application.airflow.local import AIRFLOW, DAGS_FOLDER

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"


@pytest.fixture
def metadata_db():
    import psycopg2

    from application.airflow.service import ensure_database

    name = f"roadsafe_init_{uuid.uuid4().hex[:10]}"
    url = f"{POSTGRES}/{name}"
    assert ensure_database(url)
    yield url
    conn = psycopg2.connect(f"{POSTGRES.replace('+psycopg2', '')}/postgres", connect_timeout=10)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def init_env(tmp_path: Path, db: str) -> dict[str, str]:
    model, _ = render(deployment_env())
    env = dict(model["services"]["airflow-init"]["environment"])
    env.update(
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=db,
        AIRFLOW__CELERY__RESULT_BACKEND="db+" + db,
        AIRFLOW__CELERY__BROKER_URL="redis://127.0.0.1:6379/15",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(tmp_path / "logs"),
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        ROADSAFE_HOME=str(tmp_path / "home"),
        PATH=f"{Path(AIRFLOW).parent}:{os.environ['PATH']}",
        HOME=os.environ.get("HOME", "/root"),
    )
    return env


def call(base: str, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def test_init_then_fab_gives_the_portal_only_what_it_needs(tmp_path, metadata_db):
    from application.airflow.stack import Processes, wait_for
    from roadsafe.opstatus import AirflowRest

    env = init_env(tmp_path, metadata_db)
    run = subprocess.run(["bash", "docker/airflow-init.sh"], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    assert "deploy-check: secrets ok" in out
    assert "airflow-init: account admin (role Admin) ready" in out
    assert f"airflow-init: account {env['ROADSAFE_AIRFLOW_USER']} (role RoadsafePortal) ready" in out
    # each campaign of ROADSAFE_CAMPAIGNS: its writer pool and its state folders
    import psycopg2

    conn = psycopg2.connect(metadata_db.replace("+psycopg2", ""))
    with conn, conn.cursor() as cur:
        cur.execute("select pool, slots from slot_pool where pool like 'roadsafe%' order by pool")
        pools = cur.fetchall()
    conn.close()
    assert pools == [("roadsafe_duckdb_jiujiang-2022", 1), ("roadsafe_duckdb_jiujiang-longterm-2022", 1)]
    for code in ("jiujiang-2022", "jiujiang-longterm-2022"):
        assert (tmp_path / "home" / "homes" / code / "inbox").is_dir()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api_env = dict(env, AIRFLOW__API__PORT=str(port), AIRFLOW__API__HOST="127.0.0.1", AIRFLOW__API__BASE_URL=base)
    procs = Processes()
    try:
        procs.start("api-server", [AIRFLOW, "api-server"], api_env, tmp_path / "api-server.out")
        wait_for(lambda: call(base, "GET", "/api/v2/monitor/health")[0] == 200, 180, what="the api-server",
                 on_tick=procs.check_alive)  # fmt: skip

        def token(user: str, password: str) -> str:
            status, answer = call(base, "POST", "/auth/token", body={"username": user, "password": password})
            assert status in (200, 201), (user, status)
            return answer["access_token"]

        admin = token("admin", env["AIRFLOW_ADMIN_PASSWORD"])
        portal = token(env["ROADSAFE_AIRFLOW_USER"], env["ROADSAFE_AIRFLOW_PASSWORD"])
        assert call(base, "POST", "/auth/token", body={"username": "admin", "password": "admin"})[0] == 401
        assert call(base, "GET", "/api/v2/connections", admin)[0] == 200
        # the portal: the upload notice and the office page's status ...
        assert call(base, "GET", "/api/v2/assets", portal)[0] == 200
        assert call(base, "POST", "/api/v2/assets/events", portal, {"asset_id": 987654})[0] == 404  # allowed, no such asset
        assert call(base, "GET", "/api/v2/dags/~/dagRuns/~/taskInstances?state=failed", portal)[0] == 200
        rest = AirflowRest(base, env["ROADSAFE_AIRFLOW_USER"], env["ROADSAFE_AIRFLOW_PASSWORD"])
        import datetime as dt

        assert rest.read(dt.datetime.now(dt.UTC)).connected
        # ... and nothing else
        for method, path, body in (
            ("GET", "/api/v2/connections", None),
            ("GET", "/api/v2/variables", None),
            ("GET", "/api/v2/config", None),
            ("GET", "/api/v2/pools", None),
            ("POST", "/api/v2/dags/roadsafe_ingest/dagRuns", {"logical_date": None}),
            ("PATCH", "/api/v2/dags/roadsafe_ingest", {"is_paused": True}),
            ("POST", "/api/v2/variables", {"key": "x", "value": "y"}),
        ):
            assert call(base, method, path, portal, body)[0] == 403, (method, path)
    finally:
        procs.stop_all()


def test_a_weak_secret_stops_the_init_before_it_touches_anything(tmp_path, metadata_db):
    env = init_env(tmp_path, metadata_db)
    env["AIRFLOW_ADMIN_PASSWORD"] = "admin"
    run = subprocess.run(["bash", "docker/airflow-init.sh"], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=300)  # fmt: skip
    assert run.returncode == 2
    assert "AIRFLOW_ADMIN_PASSWORD（Airflow 管理员 admin 的密码）太短" in run.stderr
    assert "拒绝启动" in run.stderr and env["POSTGRES_PASSWORD"] not in run.stderr + run.stdout
    import psycopg2

    conn = psycopg2.connect(metadata_db.replace("+psycopg2", ""))
    with conn, conn.cursor() as cur:
        cur.execute("select count(*) from information_schema.tables where table_schema = 'public'")
        assert cur.fetchone() == (0,)  # not migrated
    conn.close()
    assert not (tmp_path / "home").exists()
