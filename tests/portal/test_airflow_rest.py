"""The asset event against a real Airflow api-server (3.3, simple auth manager with a password): the
portal logs in with its own non-admin account (role ``op``, not ``admin``; ``POST /auth/token``), finds ``roadsafe_inbox`` by name (registered by a real
dag-processor from ``dags/``) and posts the event; Airflow records it with the receipt in ``extra``.

Only the api-server and the dag-processor run (no scheduler: starting the DAG is Airflow's business and
is covered by ``tests/airflow``). Both run in their own process groups and are stopped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from portal_helpers import REPO, csrf_of, fill_f1, free_port, receipts, text_of

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _env(home: Path, port: int, passwords: dict[str, str]) -> dict[str, str]:
    af = home / "airflow"
    af.mkdir(parents=True, exist_ok=True)
    pwfile = af / "passwords.json"
    pwfile.write_text(json.dumps(passwords), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ROADSAFE_"))}
    env.update(
        {
            "ROADSAFE_HOME": str(home),
            "AIRFLOW_HOME": str(af),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{af}/airflow.db",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(af / "logs"),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,roadsafe_portal:op,reader:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pwfile),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _call(method, url, body=None, token=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, method=method, data=data, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def _wait(predicate, timeout, procs, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for name, p, log in procs:
            if p.poll() is not None:
                raise AssertionError(
                    f"{name} exited {p.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
                )
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:
            last = exc
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what} (last error {last!r})")


def test_asset_event_reaches_a_real_airflow(settings, make_client, login_as, tmp_path):
    port = free_port()
    password = secrets.token_urlsafe(12)
    portal_pw = secrets.token_urlsafe(12)
    env = _env(
        tmp_path / "af-home", port, {"admin": password, "roadsafe_portal": portal_pw, "reader": portal_pw}
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    procs = []
    try:
        for name in ("api-server", "dag-processor"):
            log = logs / f"{name}.out"
            fh = open(log, "w")  # noqa: SIM115 - the child writes it; closed with the file object at exit
            p = subprocess.Popen(
                [str(BIN / "airflow"), name],
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            procs.append((name, p, log))
        base = f"http://127.0.0.1:{port}"

        def token():
            return _call("POST", f"{base}/auth/token", {"username": "admin", "password": password})[
                "access_token"
            ]

        jwt = _wait(token, 120, procs, "the api-server")

        def asset():
            found = _call("GET", f"{base}/api/v2/assets?name_pattern=roadsafe_inbox", token=jwt)["assets"]
            return next((a for a in found if a["name"] == "roadsafe_inbox"), None)

        inbox = _wait(asset, 180, procs, "the roadsafe_inbox asset (dag-processor)")

        client = make_client(airflow_url=base, airflow_username="roadsafe_portal", airflow_password=portal_pw)
        login_as(client, "gongan")
        tpl = tmp_path / "tpl.xlsx"
        tpl.write_bytes(client.get("/templates/F1.xlsx?week=5").content)
        good = fill_f1(tpl, tmp_path / "F1.xlsx", 5)
        page = client.get("/upload")
        t0 = time.monotonic()
        resp = client.post(
            "/upload",
            data={"csrf_token": csrf_of(page.text), "form": "auto", "week": "auto"},
            files={"file": ("F1.xlsx", good.read_bytes())},
        )
        elapsed = time.monotonic() - t0
        text = text_of(resp.text)
        assert resp.status_code == 200 and "已受理" in text and "系统正在入库" in text, text[-800:]
        (rec,) = receipts(settings)
        events = _call("GET", f"{base}/api/v2/assets/events?asset_id={inbox['id']}", token=jwt)[
            "asset_events"
        ]
        assert [e["extra"].get("receipt_id") for e in events] == [rec["receipt_id"]]
        assert events[0]["extra"]["channel"] == "portal"
        print(f"upload with a real Airflow event: {elapsed:.2f} s")

        # a wrong password, or an account without the right to create asset events (viewer), is
        # reported as "will be processed later", not as an error page; no event is recorded
        for week, (user, pw) in enumerate((("roadsafe_portal", "wrong"), ("reader", portal_pw)), start=6):
            bad = make_client(airflow_url=base, airflow_username=user, airflow_password=pw)
            login_as(bad, "gongan")
            page = bad.get("/upload")
            again = fill_f1(tpl, tmp_path / f"F1-{week}.xlsx", week)
            resp = bad.post(
                "/upload",
                data={"csrf_token": csrf_of(page.text), "form": "F1", "week": str(week)},
                files={"file": (again.name, again.read_bytes())},
            )
            assert resp.status_code == 200 and "数据处理服务暂时无法连接" in text_of(resp.text), user
        events = _call("GET", f"{base}/api/v2/assets/events?asset_id={inbox['id']}", token=jwt)
        assert len(events["asset_events"]) == 1
    finally:
        for _name, p, _log in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _name, p, _log in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            p.wait(timeout=10)
