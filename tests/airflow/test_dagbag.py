"""DAG integrity: every file imports, every DAG is documented and owned, parsing stays light and fast."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import CronTriggerTimetable

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
HEAVY_MODULES = ("duckdb", "dbt", "great_tables", "weasyprint", "fastexcel", "polars", "pyarrow")

EXPECTED = {
    "roadsafe_ingest", "roadsafe_build", "roadsafe_weekly", "roadsafe_monthly", "roadsafe_reminders", "roadsafe_backup",
    "roadsafe_span",
}  # fmt: skip
PARSE_BOUND_S = 10.0


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory, monkeypatch_module):
    home = tmp_path_factory.mktemp("rshome")
    monkeypatch_module.setenv("ROADSAFE_HOME", str(home))
    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_no_import_errors_and_every_dag_is_there(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_is_documented_owned_tagged_and_retried(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.tags and "roadsafe" in dag.tags
    assert dag.doc_md and len(dag.doc_md.strip()) > 100
    assert dag.catchup is False
    assert dag.start_date.tzinfo is not None and str(dag.timezone.name) == "Asia/Shanghai"
    assert dag.owner == "roadsafe"
    for t in dag.tasks:
        assert t.owner == "roadsafe", t.task_id
        assert t.retries >= 1, t.task_id
        # a `-> dict` annotation silently turns on multiple_outputs (then a list return value fails)
        assert not getattr(t, "multiple_outputs", False), t.task_id


def test_duckdb_writers_run_in_the_single_slot_pool(dagbag):
    assert dagbag.dags["roadsafe_ingest"].get_task("ingest_pending").pool == "roadsafe_duckdb"
    assert dagbag.dags["roadsafe_build"].get_task("dbt_build").pool == "roadsafe_duckdb"


def test_assets_chain_inbox_to_raw_to_marts(dagbag, tmp_path_factory):
    ingest = dagbag.dags["roadsafe_ingest"]
    (inbox,) = ingest.timetable.asset_condition.objects
    assert inbox.name == "roadsafe_inbox"
    (watcher,) = inbox.watchers
    assert watcher.name == "inbox_watcher"
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath == "application.airflow.triggers.InboxTrigger"
    assert kwargs["inbox"].endswith("/inbox") and kwargs["settle_seconds"] == 2.0
    assert [a.name for a in ingest.get_task("ingest_pending").outlets] == ["roadsafe_raw"]
    assert [t.task_id for t in ingest.tasks] == ["ingest_pending"]  # skipped when nothing new: no event

    build = dagbag.dags["roadsafe_build"]
    assert [a.name for a in build.timetable.asset_condition.objects] == ["roadsafe_raw"]
    assert [a.name for a in build.get_task("dbt_build").outlets] == ["roadsafe_marts"]


def test_cron_schedules_come_from_the_campaign(dagbag):
    weekly = dagbag.dags["roadsafe_weekly"].timetable
    monthly = dagbag.dags["roadsafe_monthly"].timetable
    reminders = dagbag.dags["roadsafe_reminders"].timetable
    span = dagbag.dags["roadsafe_span"].timetable
    for tt in (weekly, monthly, reminders, span):
        assert isinstance(tt, CronTriggerTimetable)
    # jiujiang-2022: reports.weekly_bulletin.time 17:00, reports.monthly_ranking.time 18:00
    assert (weekly.expression, str(weekly.timezone)) == ("0 17 * * *", "Asia/Shanghai")
    assert monthly.expression == "0 18 20-31 * *"
    assert reminders.expression == "0 8-18 * * *"
    assert span.expression == "0 18 * * *"  # reports.final_assessment.time


def test_task_wiring(dagbag):
    weekly = dagbag.dags["roadsafe_weekly"]
    assert weekly.get_task("is_bulletin_day").downstream_task_ids == {"freeze_edition"}
    assert weekly.get_task("freeze_edition").downstream_task_ids == {
        "render_bulletin",
        "render_dispatch",
        "deliver",
    }
    assert weekly.get_task("deliver").upstream_task_ids == {
        "render_bulletin",
        "render_dispatch",
        "freeze_edition",
    }
    span = dagbag.dags["roadsafe_span"]
    assert span.get_task("spans_due").downstream_task_ids == {"issue"}
    assert span.get_task("issue").downstream_task_ids == {"deliver"}
    monthly = dagbag.dags["roadsafe_monthly"]
    assert monthly.get_task("is_last_working_day").downstream_task_ids == {"freeze_edition"}
    assert monthly.get_task("deliver").upstream_task_ids == {
        "render_ranking",
        "render_summary",
        "freeze_edition",
    }


def test_parsing_is_fast_and_imports_nothing_heavy(tmp_path):
    """Parse the whole dags folder in a fresh interpreter, the way the dag-processor does."""
    code = textwrap.dedent(
        f"""
        import json, sys, time
        start = time.perf_counter()
        import airflow.sdk  # Airflow itself is not what we measure, but report it
        from airflow.dag_processing.dagbag import DagBag
        t0 = time.perf_counter()
        bag = DagBag(dag_folder={str(DAGS)!r})
        elapsed = time.perf_counter() - t0
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {list(HEAVY_MODULES)!r})
        print(json.dumps({{
            "seconds": elapsed,
            "with_airflow_import": time.perf_counter() - start,
            "dags": len(bag.dags),
            "errors": list(bag.import_errors),
            "heavy": heavy,
        }}))
        """
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "ROADSAFE_HOME": str(tmp_path / "home"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"parse time of {DAGS}: {result['seconds']:.2f} s for {result['dags']} DAGs "
        f"({result['with_airflow_import']:.2f} s including importing Airflow)"
    )
    assert result["errors"] == []
    assert result["dags"] == len(EXPECTED)
    assert result["heavy"] == [], f"imported at parse time: {result['heavy']}"
    assert result["seconds"] < PARSE_BOUND_S
