"""Event latency: a file dropped into the inbox → the updated published snapshot, on a real Airflow.

Starts scheduler, dag-processor, triggerer and api-server on a fresh ``$ROADSAFE_HOME`` (SQLite, LocalExecutor),
then drops ``n`` sample files one at a time, each after the previous one's runs have finished, and times
until the file's submission is in ``published/warehouse.duckdb``. Every process is stopped at the end.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from application.airflow.stack import EVENT_CHAIN_DAGS, Processes, api, start_event_chain, wait_for

__all__ = ["LatencyResult", "run"]


@dataclass(frozen=True)
class LatencyResult:
    seconds: list[float]
    startup: float

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _accepted_files(samples: Path, n: int) -> list[tuple[str, Path]]:
    picked, seen = [], set()
    for line in (samples / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        key = (e["unit_id"], e["form_code"], e["period_no"])
        if e["expect"] == "accepted" and not e["special"] and key not in seen:
            seen.add(key)
            picked.append((e["unit_id"], samples / e["path"]))
        if len(picked) == n:
            break
    return picked


def _published_names(published: Path) -> set[str]:
    if not published.exists():
        return set()
    con = duckdb.connect(str(published), read_only=True)
    try:
        return {name for (name,) in con.execute("select original_name from raw.submissions").fetchall()}
    finally:
        con.close()


def run(work: Path, samples: Path, n: int = 10) -> LatencyResult:
    home = work / "latency-home"
    shutil.rmtree(home, ignore_errors=True)
    published = home / "published" / "warehouse.duckdb"
    processes = Processes()
    try:
        t0 = time.monotonic()
        base, _ = start_event_chain(processes, home)
        startup = time.monotonic() - t0

        def settled():
            runs = [
                r
                for dag in EVENT_CHAIN_DAGS
                for r in api("GET", f"{base}/api/v2/dags/{dag}/dagRuns?limit=100")["dag_runs"]
            ]
            return all(r["state"] in ("success", "failed") for r in runs)

        seconds = []
        for unit, src in _accepted_files(samples, n):
            wait_for(settled, 300, interval=0.5, what="the previous runs", on_tick=processes.check_alive)
            target = home / "inbox" / unit / src.name
            target.parent.mkdir(parents=True, exist_ok=True)
            t_drop = time.monotonic()
            shutil.copyfile(src, target)
            wait_for(
                lambda src=src: src.name in _published_names(published),
                300,
                interval=0.2,
                what=f"{src.name} in the snapshot",
                on_tick=processes.check_alive,
            )
            seconds.append(time.monotonic() - t_drop)
            print(f"  latency {len(seconds)}/{n}: {seconds[-1]:.1f} s", file=sys.stderr)
        return LatencyResult(seconds, startup)
    finally:
        processes.stop_all()
