"""Airflow as a service on this machine: ``roadsafe airflow up|down|status`` (``make up`` / ``make down``).

``up`` computes the environment of the chosen profile (:mod:`application.airflow.local`), migrates the
metadata database (creating the PostgreSQL database first in the prod profile), creates the writer pool,
starts every component of the profile in the background, each leading its own process group, records
their PIDs in ``$AIRFLOW_HOME/pids``, waits until healthy, unpauses the roadsafe DAGs and starts the upload
portal. ``down`` stops exactly the recorded processes: SIGTERM, a second SIGTERM after 30 s, SIGKILL to
each process group after 45 s; the api-server last (the others report to it while they stop).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from application.airflow.local import (
    DAGS_FOLDER,
    airflow_env,
    component_argv,
    components,
    run_airflow,
)
from application.airflow.stack import api, tail, wait_for

__all__ = ["ServiceError", "down", "ensure_database", "service_env", "status", "up"]

ROADSAFE = str(Path(sys.executable).with_name("roadsafe"))
WANTED_HEALTHY = ("metadatabase", "scheduler", "triggerer", "dag_processor")


class ServiceError(RuntimeError):
    """``up`` could not bring the components up (the message says which and where its log is)."""


def _say(line: str) -> None:
    print(f"airflow: {line}", flush=True)


def _secret_file(path: Path, make: Callable[[], str]) -> str:
    """A secret generated once and kept (mode 0600) in ``path``."""
    if not path.exists() or not path.read_text().strip():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make() + "\n")
    return path.read_text().strip()


def service_env(home: Path, port: int, profile: str) -> tuple[dict[str, str], str]:
    """The environment every component of ``up`` shares, and the admin password of the UI.

    One JWT secret for all components (tasks authenticate to the execution API with it) and one admin
    password, both generated on the first ``up`` and kept under ``$AIRFLOW_HOME``.
    """
    env = airflow_env(home, port=port, profile=profile)
    af = Path(env["AIRFLOW_HOME"])
    env["AIRFLOW__API_AUTH__JWT_SECRET"] = _secret_file(af / "jwt_secret", lambda: secrets.token_urlsafe(48))
    passwords = af / "simple_auth_manager_passwords.json"
    _secret_file(passwords, lambda: json.dumps({"admin": secrets.token_urlsafe(12)}))
    env.pop("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS")
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = "admin:admin"
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(passwords)
    env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "False"
    env["AIRFLOW__API__BASE_URL"] = f"http://localhost:{port}"
    return env, json.loads(passwords.read_text())["admin"]


def ensure_database(sqlalchemy_url: str) -> bool:
    """Create the PostgreSQL database named in ``sqlalchemy_url`` when it does not exist; True if created."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(sqlalchemy_url.replace("+psycopg2", ""))
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin_url, connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone():
                return False
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        conn.close()


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _recorded(pids_file: Path) -> list[tuple[str, int]]:
    if not pids_file.exists():
        return []
    return [(n, int(p)) for n, p in (line.split() for line in pids_file.read_text().splitlines() if line)]


def _pids_file(home: Path) -> Path:
    return Path(home) / "airflow" / "pids"


def _start(name: str, argv: list[str], env: dict[str, str], logs: Path, pids_file: Path) -> int:
    with (logs / f"{name}.out").open("wb") as fh:
        popen = subprocess.Popen(
            argv, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=env["ROADSAFE_HOME"],
        )  # fmt: skip
    with pids_file.open("a") as fh:
        fh.write(f"{name} {popen.pid}\n")
    _say(f"started {name} (pid {popen.pid}, log {logs / f'{name}.out'})")
    return popen.pid


def up(home: Path, *, port: int = 8080, portal_port: int = 8510, profile: str = "embedded",
       workers: int = 2, timeout: float = 180) -> str:  # fmt: skip
    """Start the profile's components; returns the summary printed for the operator."""
    t0 = time.monotonic()
    home = Path(home).resolve()
    pids_file = _pids_file(home)
    running = [(n, p) for n, p in _recorded(pids_file) if _alive(p)]
    if running:
        listing = "\n".join(f"{n} {p}" for n, p in running)
        raise ServiceError(f"already running (stop it with 'make down'):\n{listing}")
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise ServiceError(f"port {port} is taken by another program; set AIRFLOW_PORT=<free port>")
    env, password = service_env(home, port, profile)
    logs = Path(env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
    logs.mkdir(parents=True, exist_ok=True)
    (home / "inbox").mkdir(parents=True, exist_ok=True)
    db = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if profile == "prod" and ensure_database(db):
        _say(f"created the metadata database {urlsplit(db).path.lstrip('/')}")
    _say(f"migrating the metadata database ({profile} profile)")
    run_airflow(["db", "migrate"], env, timeout=300)
    run_airflow(["pools", "set", "roadsafe_duckdb", "1", "DuckDB single writer"], env, timeout=120)

    pids_file.write_text("")
    names = components(profile, workers)
    for name in names:
        _start(name, component_argv(name), env, logs, pids_file)
    base = f"http://127.0.0.1:{port}"

    def check_alive() -> None:
        for name, pid in _recorded(pids_file):
            if not _alive(pid):
                raise ServiceError(f"{name} (pid {pid}) exited; last lines of its log:\n{tail(logs / f'{name}.out')}")

    def healthy() -> bool:
        h = api("GET", f"{base}/api/v2/monitor/health")
        return all(h[k]["status"] == "healthy" for k in WANTED_HEALTHY)

    try:
        wait_for(healthy, timeout, what="all components healthy", on_tick=check_alive)
        _say(f"healthy after {time.monotonic() - t0:.0f} s")
        registered = _unpause(base, password)
    except (ServiceError, AssertionError) as exc:
        down(home)
        raise ServiceError(str(exc)) from None
    _say(f"DAGs registered: {', '.join(registered)}")

    portal_env = dict(env, ROADSAFE_AIRFLOW_URL=f"http://localhost:{port}", ROADSAFE_AIRFLOW_USERNAME="admin",
                      ROADSAFE_AIRFLOW_PASSWORD=password)  # fmt: skip
    _start("portal", [ROADSAFE, "portal", "--host", "127.0.0.1", "--port", str(portal_port)],
           portal_env, logs, pids_file)  # fmt: skip
    try:
        wait_for(lambda: _get_ok(f"http://127.0.0.1:{portal_port}/healthz"), 60, what="the portal's /healthz")
    except AssertionError:
        _say(f"the portal did not answer /healthz within 60 s; see {logs / 'portal.out'}")
    return (
        f"\n  Airflow UI:  http://localhost:{port}   ({profile} profile: {env['AIRFLOW__CORE__EXECUTOR']})\n"
        f"  Login:       admin / {password}\n"
        f"  Portal:      http://localhost:{portal_port}   (upload page for the units)\n"
        f"  Processes:   {', '.join(names)}, portal\n"
        f"  DAGs:        {DAGS_FOLDER} (roadsafe_* unpaused)\n"
        f"  Inbox:       {home / 'inbox'}/<unit>/   (watched by the triggerer)\n"
        f"  Logs:        {logs}\n"
        f"  Stop:        make down      (started in {time.monotonic() - t0:.0f} s)\n"
    )


def _get_ok(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=3) as r:
        return r.status == 200


def _unpause(base: str, password: str) -> list[str]:
    """Wait (90 s) until the dag-processor registered every ``dags/roadsafe_*.py``; unpause them."""
    import urllib.request

    token = api("POST", f"{base}/auth/token", {"username": "admin", "password": password})["access_token"]

    def call(method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(base + path, method=method, data=data, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    want = {p.stem for p in DAGS_FOLDER.glob("roadsafe_*.py")}
    dags = wait_for(
        lambda: (d := {x["dag_id"]: x for x in call("GET", "/api/v2/dags?dag_id_pattern=roadsafe_&limit=100")["dags"]})
        and want <= set(d) and d,
        90,
        what=f"the DAGs {', '.join(sorted(want))} registered",
    )
    for dag_id in sorted(want):
        if dags[dag_id]["is_paused"]:
            call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
            _say(f"unpaused {dag_id}")
    return sorted(want)


def _stop_group(recorded: list[tuple[str, int]]) -> None:
    pids = [p for _, p in recorded if _alive(p)]
    for name, pid in recorded:
        if pid in pids:
            _say(f"stopping {name} (pid {pid})")
            os.kill(pid, signal.SIGTERM)
    start, resent = time.monotonic(), False
    while (left := [p for p in pids if _alive(p)]) and time.monotonic() - start < 60:
        if not resent and time.monotonic() - start >= 30:
            for pid in left:  # the scheduler asks for a second signal before it stops waiting on its tasks
                os.kill(pid, signal.SIGTERM)
            resent = True
        if time.monotonic() - start >= 45:
            for pid in left:
                _say(f"pid {pid} still running after 45 s: SIGKILL to its process group")
                os.killpg(pid, signal.SIGKILL)
        time.sleep(0.5)


def down(home: Path) -> None:
    """Stop exactly the recorded processes (and the children left in their process groups)."""
    pids_file = _pids_file(Path(home).resolve())
    recorded = _recorded(pids_file)
    if not recorded:
        _say(f"nothing recorded in {pids_file}; nothing to stop")
        return
    _stop_group([r for r in recorded if r[0] != "api-server"])
    _stop_group([r for r in recorded if r[0] == "api-server"])
    for _, pid in recorded:  # what a component left behind in its own group (task processes, uvicorn workers)
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    pids_file.unlink()
    _say("stopped")


def status(home: Path, port: int = 8080) -> bool:
    """Print the recorded processes and the health endpoint; True when every component is healthy."""
    running = [(n, p) for n, p in _recorded(_pids_file(Path(home).resolve())) if _alive(p)]
    for name, pid in running:
        print(f"{name} {pid}")
    if not running:
        _say("not running")
    try:
        h = api("GET", f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=3)
    except OSError as exc:
        _say(f"api-server not answering ({exc.__class__.__name__})")
        return False
    parts = {k: (v or {}).get("status") for k, v in h.items() if isinstance(v, dict)}
    print(" ".join(f"{k}={v}" for k, v in sorted(parts.items())))
    return all(parts.get(k) == "healthy" for k in WANTED_HEALTHY)
