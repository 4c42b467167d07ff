"""The event chain on the production shape: PostgreSQL metadata, Redis broker, two Celery workers.

Starts scheduler, dag-processor, triggerer, api-server and two Celery workers (each leading its own
process group) on a fresh PostgreSQL database and a Redis database number of its own; drops files from
several units into the inbox; waits until each submission is in the published snapshot exactly once and
measures drop → snapshot. Then drops more files, kills with SIGKILL the worker running a task of the
ingest or the build in the middle of it, and checks that the task is run again on the other worker and that the
warehouse ends consistent: every submission once, none lost.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from application.airflow.stack import api, start_event_chain, wait_for

BOUND_S = 240


def snapshot_names(published: Path) -> list[str]:
    import duckdb

    if not published.exists():
        return []
    con = duckdb.connect(str(published), read_only=True)
    try:
        return [r[0] for r in con.execute("select original_name from raw.submissions").fetchall()]
    finally:
        con.close()


def drop(inbox: Path, files: list[tuple[str, Path]]) -> float:
    t = time.monotonic()
    for unit, src in files:
        (inbox / unit).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, inbox / unit / src.name)
    return t


def task_instances(base: str, dag_id: str) -> list[dict]:
    return api("GET", f"{base}/api/v2/dags/{dag_id}/dagRuns/~/taskInstances?limit=200")["task_instances"]


@pytest.mark.slow
def test_celery_workers_load_each_file_once_and_survive_a_killed_worker(
    tmp_path, processes, metadata_db, broker_url, samples
):
    home = tmp_path / "home"
    inbox, published = home / "inbox", home / "published" / "warehouse.duckdb"
    t0 = time.monotonic()
    base, env = start_event_chain(
        processes, home, profile="prod", database_url=metadata_db, broker_url=broker_url, workers=2
    )
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    print(f"\nCelery shape up, DAGs unpaused, watcher running after {time.monotonic() - t0:.1f} s")
    assert len(samples) >= 6, "the sample campaign has fewer units than this test drops"
    first, second = samples[:3], samples[3:6]

    # --- several units at once
    t_drop = drop(inbox, first)
    wait_for(
        lambda: {src.name for _, src in first} <= set(snapshot_names(published)),
        BOUND_S, interval=0.5, what="the first files in the snapshot", on_tick=processes.check_alive,
    )  # fmt: skip
    print(f"drop → snapshot, {len(first)} units at once on Celery: {time.monotonic() - t_drop:.1f} s")
    names = snapshot_names(published)
    assert all(names.count(src.name) == 1 for _, src in first), names

    # --- SIGKILL the worker running a build task in the middle of it
    workers = {p.popen.pid: p for p in processes.started if p.name.startswith("worker-")}
    drop(inbox, second)

    def worker_of(pid: int):
        """The started worker whose process tree holds ``pid`` (walking up the parents)."""
        while pid > 1:
            if pid in workers:
                return workers[pid]
            try:
                pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, IndexError, ValueError):
                return None
        return None

    seen_running: list[dict] = []

    def running_task():
        for dag_id in ("roadsafe_ingest", "roadsafe_build"):
            for ti in task_instances(base, dag_id):
                if ti["state"] == "running":
                    seen_running.append(ti)
                    if ti.get("pid") and (victim := worker_of(ti["pid"])):
                        return ti, victim
        return None

    try:
        ti, victim = wait_for(running_task, 120, interval=0.2, what="a task running on a worker")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; running task instances seen: {seen_running[-3:]}") from None
    os.killpg(victim.popen.pid, signal.SIGKILL)
    victim.popen.wait(timeout=10)
    processes.started.remove(victim)
    t_kill = time.monotonic()
    print(f"killed {victim.name} (SIGKILL) during {ti['task_id']} try {ti['try_number']}")

    wait_for(
        lambda: {src.name for _, src in first + second} <= set(snapshot_names(published)),
        BOUND_S, interval=1, what="every file in the snapshot after the kill", on_tick=processes.check_alive,
    )  # fmt: skip
    print(f"kill → every file in the snapshot: {time.monotonic() - t_kill:.1f} s")
    retried = [
        t for t in task_instances(base, ti["dag_id"])
        if t["task_id"] == ti["task_id"] and t["dag_run_id"] == ti["dag_run_id"]
    ]  # fmt: skip
    assert retried and retried[0]["try_number"] > ti["try_number"], retried
    names = snapshot_names(published)
    assert sorted(names) == sorted(set(names)), "a submission was loaded twice"
    assert all(names.count(src.name) == 1 for _, src in first + second)
