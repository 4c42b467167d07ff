"""Two campaigns on one production-shaped deployment: PostgreSQL metadata, Redis broker, two Celery workers.

``ROADSAFE_CAMPAIGNS=jiujiang-2022,jiujiang-longterm-2022`` on one ``$ROADSAFE_HOME``: scheduler,
dag-processor, triggerer, api-server and two Celery workers (one task slot each) are started by the test.
Files from several units are dropped into both campaigns' inboxes at once; each submission must reach its own
campaign's published snapshot exactly once (and never the other's), the two campaigns' builds must run at the
same time on different workers (read from the task instances in the metadata database and from the worker
process each build ran under), and each campaign issues an edition through its own DAG (the weekly bulletin of
jiujiang-2022, the half-year summary of the long-term plan), rendered and delivered to a loopback SMTP sink.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from application.airflow.stack import api, start_event_chain, wait_for

CODES = ("jiujiang-2022", "jiujiang-longterm-2022")
BOUND_S = 420  # drop → both snapshots; the whole test stays within about 15 minutes


@pytest.fixture(scope="session")
def longterm_files(tmp_path_factory) -> list[tuple[str, Path]]:
    """The long-term plan's form L1 for its first half year, filled in by three lead units: (unit_id, path)."""
    from ingest.formfile import write_form_xlsx
    from ingest.templates import template_layout
    from roadsafe.campaign import load_campaign

    campaign = load_campaign(CODES[1])
    out = tmp_path_factory.mktemp("longterm")
    units = sorted({u for t in campaign.tasks for u in campaign.task_leads(t.no)})[:3]
    files = []
    for unit in units:
        rows, layout = template_layout(campaign, "L1", unit, 1)
        rows = [{**r, "status": "推进中", "progress": "已部署，正在推进"} for r in rows]
        path = out / f"L1-{unit}.xlsx"
        write_form_xlsx(path, campaign, "L1", unit, 1, rows, layout=layout)
        files.append((unit, path))
    return files


def snapshot(published: Path) -> list[tuple[str, str]]:
    """(campaign_code, original_name) of every submission in a published snapshot."""
    import duckdb

    if not published.exists():
        return []
    con = duckdb.connect(str(published), read_only=True)
    try:
        return con.execute("select campaign_code, original_name from raw.submissions").fetchall()
    finally:
        con.close()


def drop(inbox: Path, files: list[tuple[str, Path]]) -> None:
    for unit, src in files:
        (inbox / unit).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, inbox / unit / src.name)


def build_instances(metadata_db: str) -> list[dict]:
    """Every finished try of the builds, from the metadata database's task_instance table."""
    import psycopg2

    conn = psycopg2.connect(metadata_db.replace("+psycopg2", ""), connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select dag_id, run_id, try_number, hostname, pid, start_date, end_date, state "
                "from task_instance where task_id = 'dbt_build' and end_date is not null order by start_date"
            )
            cols = [d.name for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()


@pytest.mark.slow
def test_two_campaigns_build_side_by_side_on_two_workers_and_each_issues_its_edition(
    tmp_path, processes, metadata_db, broker_url, samples, longterm_files, monkeypatch
):
    from application.demo.mailsink import MailSink

    home = tmp_path / "home"
    homes = {code: home / "homes" / code for code in CODES}
    drops = {CODES[0]: samples[:3], CODES[1]: longterm_files}
    with MailSink(tmp_path / "mail") as sink:
        monkeypatch.setenv("ROADSAFE_SMTP_HOST", sink.host)
        monkeypatch.setenv("ROADSAFE_SMTP_PORT", str(sink.port))
        t0 = time.monotonic()
        base, env = start_event_chain(
            processes, home, profile="prod", database_url=metadata_db, broker_url=broker_url, workers=2,
            campaigns=CODES,
            # one task slot per worker: two tasks running at once run on two workers (checked below anyway)
            overrides={"AIRFLOW__CELERY__WORKER_CONCURRENCY": "1"},
        )  # fmt: skip
        assert env["ROADSAFE_CAMPAIGNS"] == ",".join(CODES)
        print(f"\ntwo campaigns on Celery up, DAGs unpaused, watchers running after {time.monotonic() - t0:.1f} s")

        workers = {p.popen.pid: p.name for p in processes.started if p.name.startswith("worker-")}
        assert len(workers) == 2
        ran_on: dict[tuple[str, str, int], str] = {}  # (dag_id, run_id, try) of a build -> worker name

        def worker_of(pid: int) -> str | None:
            while pid > 1:
                if pid in workers:
                    return workers[pid]
                try:
                    pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (FileNotFoundError, IndexError, ValueError):
                    return None
            return None

        def watch_builds() -> None:
            """Note the worker each running build is under (its process tree), while it runs."""
            for code in CODES:
                dag_id = f"roadsafe_build__{code}"
                url = f"{base}/api/v2/dags/{dag_id}/dagRuns/~/taskInstances?state=running&limit=50"
                for ti in api("GET", url)["task_instances"]:
                    if ti.get("pid") and (name := worker_of(ti["pid"])):
                        ran_on.setdefault((dag_id, ti["dag_run_id"], ti["try_number"]), name)

        # --- several units of both campaigns at once
        t_drop = time.monotonic()
        for code in CODES:
            drop(homes[code] / "inbox", drops[code])
        arrived: dict[str, float] = {}

        def both_published() -> bool:
            processes.check_alive()
            watch_builds()
            for code in CODES:
                names = {n for _, n in snapshot(homes[code] / "published" / "warehouse.duckdb")}
                if code not in arrived and {src.name for _, src in drops[code]} <= names:
                    arrived[code] = time.monotonic() - t_drop
            return len(arrived) == len(CODES)

        wait_for(both_published, BOUND_S, interval=0.3, what="both campaigns' files in their snapshots")
        for code in CODES:
            print(f"drop → snapshot, {code}, {len(drops[code])} units, both campaigns at once: {arrived[code]:.1f} s")

        # --- each submission exactly once, in its own campaign only
        for code in CODES:
            rows = snapshot(homes[code] / "published" / "warehouse.duckdb")
            assert {c for c, _ in rows} == {code}, rows
            names = [n for _, n in rows]
            assert all(names.count(src.name) == 1 for _, src in drops[code]), names
            assert sorted(names) == sorted(set(names)), f"a submission of {code} was loaded twice"

        # --- the two builds ran at the same time, on different workers
        builds = [b for b in build_instances(metadata_db) if b["state"] == "success"]
        by_code = {code: [b for b in builds if b["dag_id"] == f"roadsafe_build__{code}"] for code in CODES}
        assert all(by_code.values()), builds
        overlapping = [
            (a, b)
            for a in by_code[CODES[0]]
            for b in by_code[CODES[1]]
            if a["start_date"] < b["end_date"] and b["start_date"] < a["end_date"]
        ]
        assert overlapping, f"the builds never ran at the same time: {builds}"
        a, b = overlapping[0]
        worker_a = ran_on.get((a["dag_id"], a["run_id"], a["try_number"]))
        worker_b = ran_on.get((b["dag_id"], b["run_id"], b["try_number"]))
        assert worker_a and worker_b and worker_a != worker_b, (ran_on, a, b)
        together = (min(a["end_date"], b["end_date"]) - max(a["start_date"], b["start_date"])).total_seconds()
        for x, w in ((a, worker_a), (b, worker_b)):
            took = (x["end_date"] - x["start_date"]).total_seconds()
            print(f"{x['dag_id']}: {took:.1f} s on {w} (host {x['hostname']})")
        print(f"the two builds ran side by side for {together:.1f} s")

        # --- each campaign issues an edition through its own DAG, on the workers
        runs = {
            f"roadsafe_weekly__{CODES[0]}": "2022-05-12T09:00:00Z",  # week 5's bulletin: 17:00 Asia/Shanghai
            f"roadsafe_span__{CODES[1]}": "2022-07-15T09:00:00Z",  # the first half year's summary, 17:00
        }
        t_editions = time.monotonic()
        for dag_id, logical_date in runs.items():
            api("PATCH", f"{base}/api/v2/dags/{dag_id}", {"is_paused": False})
            api("POST", f"{base}/api/v2/dags/{dag_id}/dagRuns", {"dag_run_id": "edition", "logical_date": logical_date})

        def finished() -> bool:
            processes.check_alive()
            states = {d: api("GET", f"{base}/api/v2/dags/{d}/dagRuns/edition")["state"] for d in runs}
            assert "failed" not in states.values(), states
            return set(states.values()) == {"success"}

        wait_for(finished, 600, interval=2, what="both editions rendered and delivered")
        print(f"both editions rendered and delivered in {time.monotonic() - t_editions:.1f} s")
        for code, kind in ((CODES[0], "weekly_bulletin"), (CODES[1], "half_year_summary")):
            (folder,) = (homes[code] / "reports" / kind).iterdir()
            written = {p.suffix for p in folder.iterdir()}
            assert {".html", ".pdf", ".xlsx"} <= written, (folder, written)
            assert (folder / "delivery.json").is_file()
        assert sink.count >= 3  # the bulletin and its dispatch list, and the half-year summary
