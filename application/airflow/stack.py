"""A whole Airflow on this machine for a while: scheduler, dag-processor, triggerer and api-server (and
Celery workers in the prod profile).

Used by the event-chain tests and the latency benchmark, which need the real components running on a
throw-away ``$ROADSAFE_HOME`` (SQLite and the LocalExecutor, or PostgreSQL, Redis and Celery workers) and
need them gone afterwards. Every
process started through :class:`Processes` leads its own process group; :meth:`Processes.stop_all`
sends SIGTERM to each leader, waits, then SIGKILLs whatever is left of each group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from application.airflow.local import airflow_env, component_argv, components, run_airflow, set_pools

__all__ = [
    "EVENT_CHAIN_DAGS",
    "EVENT_CHAIN_KINDS",
    "Proc",
    "Processes",
    "api",
    "fast_airflow_env",
    "free_port",
    "start_event_chain",
    "tail",
    "wait_for",
]

EVENT_CHAIN_KINDS = ("ingest", "build")
EVENT_CHAIN_DAGS = ("roadsafe_ingest", "roadsafe_build")
"""The event chain's DAG ids of a one-campaign deployment (per campaign: ``CampaignWiring.dag_id(kind)``)."""


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class Processes:
    """Processes started for one test or benchmark, each the leader of its own process group."""

    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> Proc:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as fh:
            popen = subprocess.Popen(
                argv,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=env.get("ROADSAFE_HOME"),
            )
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


def fast_airflow_env(home: Path, *, port: int | None = None, **profile) -> dict[str, str]:
    """The Airflow environment (``profile``: the keyword arguments of :func:`airflow_env`) with fast
    scheduling loops: tests and benchmarks measure seconds."""
    env = airflow_env(home, port=port, **profile)
    env["AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC"] = "1"
    env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "5"
    # a task whose worker died is failed (then retried) after 20 s without a heartbeat, not 5 minutes
    env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"] = "20"
    env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL"] = "5"
    return env


def start_event_chain(
    processes: Processes,
    home: Path,
    *,
    port: int | None = None,
    workers: int = 2,
    overrides: dict[str, str] | None = None,
    **profile,
) -> tuple[str, dict[str, str]]:
    """Migrate, start the profile's components (``profile``: the keyword arguments of
    :func:`airflow_env`, ``campaigns=`` for several; ``overrides``: variables set on top), wait until healthy, unpause every campaign's ingest
    and build, and wait until every inbox watcher runs in the triggerer. Returns the api-server's base URL
    and the environment."""
    from application.airflow.campaigns import wired_campaigns

    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    env = fast_airflow_env(home, port=port, **profile)
    env.update(overrides or {})
    logs = Path(home) / "airflow" / "logs"
    run_airflow(["db", "migrate"], env, timeout=180)
    set_pools(env)
    wired = wired_campaigns(env)
    chain = [c.dag_id(kind) for c in wired for kind in EVENT_CHAIN_KINDS]
    for name in components(env["ROADSAFE_PROFILE"], workers):
        processes.start(name, component_argv(name), env, logs / f"{name}.out")

    def healthy():
        h = api("GET", f"{base}/api/v2/monitor/health")
        return all(
            h[k]["status"] == "healthy" for k in ("metadatabase", "scheduler", "triggerer", "dag_processor")
        )

    wait_for(healthy, 180, what="all components healthy", on_tick=processes.check_alive)

    def registered():
        dags = api("GET", f"{base}/api/v2/dags?dag_id_pattern=roadsafe_")["dags"]
        return set(chain) <= {d["dag_id"] for d in dags}

    wait_for(registered, 120, what="roadsafe DAGs registered", on_tick=processes.check_alive)
    for dag_id in chain:
        api("PATCH", f"{base}/api/v2/dags/{dag_id}", {"is_paused": False})
    wait_for(
        lambda: all(c.inbox in tail(logs / "triggerer.out", 10**7) for c in wired),
        120,
        what="the inbox watcher running in the triggerer",
        on_tick=processes.check_alive,
    )
    return base, env
