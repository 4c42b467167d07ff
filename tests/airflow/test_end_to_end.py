"""The whole event chain on a real Airflow.

inbox file → trigger → ingest DAG → raw asset → build DAG → published snapshot.

Starts a scheduler, dag-processor, triggerer and api-server (the execution API the tasks report to) on a
temporary AIRFLOW_HOME and ROADSAFE_HOME (SQLite, LocalExecutor, parallelism 4), unpauses the ingest and
build DAGs, drops two sample files into the inbox 20 ms apart, and waits (bounded) until both submissions
are in the published snapshot exactly once. Then measures the latency from a file landing in the inbox
to the updated snapshot over a few more single files, restarts the triggerer and checks that it does
not announce the files again (the asset state store), and stops every process it started.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from pathlib import Path

import pytest

FIRST_PAIR_BOUND_S = 240
MORE_FILES = 2  # single files after the first pair, for the latency median


@pytest.fixture(scope="module")
def sample_files(sample_campaign, aflib):
    return aflib.pick_samples(sample_campaign, 2 + MORE_FILES)


def snapshot_names(published: Path) -> list[tuple[str, str]]:
    """(original_name, status) of every submission in the published snapshot."""
    import duckdb

    if not published.exists():
        return []
    con = duckdb.connect(str(published), read_only=True)
    try:
        return con.execute("select original_name, status from raw.submissions order by 1").fetchall()
    finally:
        con.close()


def drop(inbox: Path, unit: str, src: Path) -> float:
    target = inbox / unit / src.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    return time.monotonic()


def dag_runs(base: str, aflib, dag_id: str) -> list[dict]:
    return aflib.api("GET", f"{base}/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]


@pytest.mark.slow
def test_inbox_files_reach_the_published_snapshot_once(tmp_path, processes, aflib, sample_files):
    from application.airflow.stack import start_event_chain

    home = tmp_path / "home"
    logs = home / "airflow" / "logs"
    inbox = home / "inbox"
    published = home / "published" / "warehouse.duckdb"

    t0 = time.monotonic()
    base, env = start_event_chain(processes, home)
    triggerer_log = logs / "triggerer.out"
    print(f"\nAirflow up, DAGs unpaused, watcher running after {time.monotonic() - t0:.1f} s")

    # --- two files 20 ms apart
    (unit_a, file_a), (unit_b, file_b) = sample_files[:2]
    t_drop = drop(inbox, unit_a, file_a)
    time.sleep(0.02)
    drop(inbox, unit_b, file_b)

    def both_published():
        names = [n for n, _ in snapshot_names(published)]
        return file_a.name in names and file_b.name in names

    aflib.wait_for(
        both_published,
        FIRST_PAIR_BOUND_S,
        interval=0.5,
        what="both files in the snapshot",
        on_tick=processes.check_alive,
    )
    latencies = [time.monotonic() - t_drop]
    rows = snapshot_names(published)
    assert [n for n, _ in rows].count(file_a.name) == 1
    assert [n for n, _ in rows].count(file_b.name) == 1
    assert {s for n, s in rows if n in (file_a.name, file_b.name)} == {"accepted"}

    # --- latency over single files
    for unit, src in sample_files[2:]:
        aflib.wait_for(
            lambda: all(
                r["state"] in ("success", "failed")
                for dag in ("roadsafe_ingest", "roadsafe_build")
                for r in dag_runs(base, aflib, dag)
            ),
            240,
            interval=0.5,
            what="the previous runs to finish",
            on_tick=processes.check_alive,
        )
        t_drop = drop(inbox, unit, src)
        aflib.wait_for(
            lambda src=src: src.name in [n for n, _ in snapshot_names(published)],
            240,
            interval=0.5,
            what=f"{src.name} in the snapshot",
            on_tick=processes.check_alive,
        )
        latencies.append(time.monotonic() - t_drop)

    # every run of the chain succeeded; the build ran after the ingest updated roadsafe_raw
    aflib.wait_for(
        lambda: all(
            r["state"] in ("success", "failed")
            for dag in ("roadsafe_ingest", "roadsafe_build")
            for r in dag_runs(base, aflib, dag)
        ),
        240,
        interval=0.5,
        what="the last runs to finish",
        on_tick=processes.check_alive,
    )
    ingest_runs = dag_runs(base, aflib, "roadsafe_ingest")
    build_runs = dag_runs(base, aflib, "roadsafe_build")
    assert ingest_runs and {r["state"] for r in ingest_runs} == {"success"}
    assert build_runs and {r["state"] for r in build_runs} == {"success"}
    assert {r["run_type"] for r in build_runs} == {"asset_triggered"}
    rows = snapshot_names(published)
    for _, src in sample_files:
        assert [n for n, _ in rows].count(src.name) == 1, src.name

    # --- the upload portal's way in: an asset event on roadsafe_inbox through the REST API. Nothing new
    # is pending, so the ingest task is skipped: no roadsafe_raw event, no build run.
    (inbox_asset,) = aflib.api("GET", f"{base}/api/v2/assets?name_pattern=roadsafe_inbox")["assets"]
    aflib.api(
        "POST", f"{base}/api/v2/assets/events", {"asset_id": inbox_asset["id"], "extra": {"from": "test"}}
    )
    aflib.wait_for(
        lambda: (
            len(dag_runs(base, aflib, "roadsafe_ingest")) == len(ingest_runs) + 1
            and all(r["state"] == "success" for r in dag_runs(base, aflib, "roadsafe_ingest"))
        ),
        120,
        interval=0.5,
        what="the REST-triggered ingest run",
        on_tick=processes.check_alive,
    )
    rest_run = max(dag_runs(base, aflib, "roadsafe_ingest"), key=lambda r: r["queued_at"])
    tis = aflib.api(
        "GET", f"{base}/api/v2/dags/roadsafe_ingest/dagRuns/{rest_run['dag_run_id']}/taskInstances"
    )
    assert {t["task_id"]: t["state"] for t in tis["task_instances"]} == {"ingest_pending": "skipped"}
    time.sleep(5)
    assert len(dag_runs(base, aflib, "roadsafe_build")) == len(build_runs)

    # --- restart the triggerer: what it announced is remembered (asset state store), nothing re-announced
    assert processes.stop("triggerer") == 0
    settled_before = triggerer_log.read_text(errors="replace").count("Inbox file settled")
    assert settled_before == len(sample_files)
    runs_before = len(dag_runs(base, aflib, "roadsafe_ingest"))
    restarted_log = logs / "triggerer-restarted.out"
    processes.start("triggerer-restarted", [aflib.AIRFLOW, "triggerer"], env, restarted_log)
    aflib.wait_for(
        lambda: "trigger ID" in aflib.tail(restarted_log, 10**7),
        120,
        what="the watcher running again",
        on_tick=processes.check_alive,
    )
    time.sleep(6)  # several polls (1 s) plus the settle time (2 s)
    assert "Inbox file settled" not in restarted_log.read_text(errors="replace")
    assert len(dag_runs(base, aflib, "roadsafe_ingest")) == runs_before

    report = {
        "latency_seconds": [round(x, 1) for x in latencies],
        "median_seconds": round(statistics.median(latencies), 1),
        "ingest_runs": len(ingest_runs),
        "build_runs": len(build_runs),
        "files": len(sample_files),
    }
    print("inbox → published snapshot:", json.dumps(report))
    out = aflib.REPO / "test-output"
    out.mkdir(exist_ok=True)
    (out / "airflow-latency.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
