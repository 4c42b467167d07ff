"""Helpers for the Airflow tests: a throw-away Airflow environment and bounded process management.

Every process started through :class:`Processes` runs in its own session (process group); the
fixture's finalizer sends SIGTERM to each group leader, waits, then SIGKILLs whatever is left of
each group, so a failing test never leaves a scheduler or triggerer behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Keep in-process Airflow (DagBag, triggers) off ~/airflow: a private, throw-away AIRFLOW_HOME.
if "AIRFLOW_HOME" not in os.environ:
    import tempfile

    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="roadsafe-airflow-tests-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
BIN = Path(sys.executable).parent
AIRFLOW = str(BIN / "airflow")

HEAVY_MODULES = ("duckdb", "dbt", "great_tables", "weasyprint", "fastexcel", "polars", "pyarrow")


def airflow_env(home: Path, *, port: int | None = None) -> dict[str, str]:
    """The local Airflow environment (roadsafe.airflow_local) with fast scheduling loops: the
    integration tests measure seconds, not minutes."""
    from roadsafe.airflow_local import airflow_env as local_env

    env = local_env(home, port=port)
    env["AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC"] = "1"
    env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "5"
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``airflow <args>`` to completion (bounded); raise with its output when it fails."""
    proc = subprocess.run(
        [AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=env["ROADSAFE_HOME"]
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"airflow {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class Processes:
    """Processes started by one test, each the leader of its own process group."""

    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> Proc:
        log.parent.mkdir(parents=True, exist_ok=True)
        fh = log.open("wb")
        popen = subprocess.Popen(
            argv,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=env.get("ROADSAFE_HOME"),
        )
        fh.close()
        proc = Proc(name=name, popen=popen, log=log)
        self.started.append(proc)
        return proc

    def stop(self, name: str, timeout: float = 60) -> int:
        """SIGTERM one started process (by name), wait for it, forget it; returns its exit code."""
        (proc,) = [p for p in self.started if p.name == name]
        proc.popen.terminate()
        try:
            code = proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.popen.pid, signal.SIGKILL)
            code = proc.popen.wait(timeout=10)
        self.started.remove(proc)
        return code

    def check_alive(self) -> None:
        for p in self.started:
            if p.popen.poll() is not None:
                raise AssertionError(f"{p.name} exited with {p.popen.returncode}:\n{tail(p.log)}")

    def stop_all(self, grace: float = 30) -> None:
        """Stop everything: the api-server last (tasks, triggerer and dag-processor report to its
        execution API while they shut down). Per phase: SIGTERM each leader, wait up to ``grace`` s,
        then SIGKILL each whole process group."""
        first = [p for p in self.started if p.name != "api-server"]
        last = [p for p in self.started if p.name == "api-server"]
        for phase in (first, last):
            self._stop(phase, grace)
        self.started.clear()

    @staticmethod
    def _stop(procs: list[Proc], grace: float) -> None:
        for p in procs:
            if p.popen.poll() is None:
                try:
                    os.kill(p.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in procs:
            # the group id is the leader's pid (start_new_session); children left behind die here too
            try:
                os.killpg(p.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return f"(no log at {path})"


@pytest.fixture(scope="session")
def aflib():
    """This module's helpers, so tests use them without importing a module named ``conftest``
    (several test folders have one, so the name is not unique)."""
    return types.SimpleNamespace(**{k: v for k, v in globals().items() if not k.startswith("__")})


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()


@pytest.fixture(scope="session")
def sample_campaign(tmp_path_factory):
    """The generated sample campaign (jiujiang-2022, seed 2022): (folder, manifest entries)."""
    from roadsafe.samples import generate_samples

    out = tmp_path_factory.mktemp("samples")
    manifest = generate_samples("jiujiang-2022", out)
    return out, manifest.entries


def pick_samples(sample_campaign, n: int, period_no: int | None = None) -> list[tuple[str, Path]]:
    """``n`` sample files expected to be accepted (messy as real ones, no special role) of distinct
    (unit, form, period): (unit_id, path)."""
    out, entries = sample_campaign
    picked, seen = [], set()
    for e in entries:
        key = (e.unit_id, e.form_code, e.period_no)
        if period_no is not None and e.period_no != period_no:
            continue
        if e.expect == "accepted" and not e.special and key not in seen:
            seen.add(key)
            picked.append((e.unit_id, out / e.path))
        if len(picked) == n:
            break
    return picked


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(method: str, url: str, body: dict | None = None, timeout: float = 10) -> dict:
    """JSON call to the Airflow REST API (simple auth manager with all_admins: no token needed)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, method=method, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def api_auth(method: str, url: str, token: str, body: dict | None = None, timeout: float = 10) -> dict:
    """JSON call with a bearer token (from ``POST /auth/token``)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def wait_for(predicate, timeout: float, interval: float = 1.0, what: str = "condition", on_tick=None):
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        if on_tick is not None:
            on_tick()
        try:
            value = predicate()
            if value:
                return value
        except (OSError, urllib.error.URLError, KeyError, ValueError) as exc:
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_exc!r})")
