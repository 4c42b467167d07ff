"""Editions: numbering, times, the frozen snapshot, the manifest, reproducible re-rendering."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest
from dash_helpers import FROZEN_AT, TZ

from dashboards import data, editions, freezing
from dashboards.edition_meta import EditionMeta


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_weekly_plan_numbers_and_times(fixture_settings):
    meta = editions.plan_edition(fixture_settings, "weekly_bulletin", "week-04", frozen_at=FROZEN_AT)
    assert (meta.ref, meta.issue_no, meta.label) == ("week-04", 4, "第4周")
    # week 4 ends Sat 04-30 inside the 劳动节 holiday: forms due Thu 05-05 12:00, bulletin 17:00
    assert meta.form_due_at == dt.datetime(2022, 5, 5, 12, tzinfo=TZ)
    assert meta.issue_at == dt.datetime(2022, 5, 5, 17, tzinfo=TZ)
    assert meta.cutoff == meta.form_due_at and meta.until == meta.issue_at
    assert meta.title == "九江市道路交通安全专项整治工作通报"
    assert meta.previous.ref == "week-03" and meta.previous.max_period == 3


def test_a_freeze_before_the_due_time_cuts_the_window(fixture_settings):
    early = dt.datetime(2022, 5, 5, 10, 30, tzinfo=TZ)
    meta = editions.plan_edition(fixture_settings, "weekly_bulletin", "4", frozen_at=early)
    assert meta.cutoff == early and meta.until == early


def test_monthly_plan_numbers_and_weeks(fixture_settings):
    may = editions.plan_edition(fixture_settings, "monthly_ranking", "2022-05", frozen_at=FROZEN_AT)
    assert (may.issue_no, may.label, may.month) == (2, "2022年5月", "2022-05")
    assert may.issue_at == dt.datetime(2022, 5, 31, 18, tzinfo=TZ)
    assert may.period_nos == (4, 5, 6, 7)  # weeks ending in May; week 8 ends 06-01
    june = editions.plan_edition(fixture_settings, "monthly_summary", "2022-06", frozen_at=FROZEN_AT)
    # week 13 (06-30) is due 07-01, after the June edition is issued: it is left for later
    assert june.issue_no == 3 and june.period_nos == (8, 9, 10, 11, 12)
    assert june.campaign_words == "全市道路交通安全专项整治"


def test_unknown_periods_are_refused(fixture_settings):
    with pytest.raises(ValueError, match="第14周不在活动期内"):
        editions.plan_edition(fixture_settings, "weekly_bulletin", "14", frozen_at=FROZEN_AT)
    with pytest.raises(ValueError, match="不在活动期内"):
        editions.plan_edition(fixture_settings, "monthly_ranking", "2022-08", frozen_at=FROZEN_AT)
    with pytest.raises(ValueError, match="未知的报告类型"):
        editions.plan_edition(fixture_settings, "daily", "1", frozen_at=FROZEN_AT)


def test_frozen_snapshot_holds_only_the_editions_weeks(weekly5):
    edition = weekly5["weekly_bulletin"]
    con = duckdb.connect(str(edition.snapshot), read_only=True)
    try:
        ((max_period,),) = con.execute("select max(period_no) from marts.fct_indicator_values").fetchall()
        ((ranking_rows,),) = con.execute("select count(*) from marts.rpt_monthly_ranking").fetchall()
        ((ref_periods,),) = con.execute("select count(*) from ref.periods").fetchall()
        ((report_period,),) = con.execute("select max(period_no) from marts.fct_task_reports").fetchall()
        ((attempt_period,),) = con.execute("select max(period_no) from marts.fct_submissions").fetchall()
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_name = 'fct_submissions'"
            ).fetchall()
        }
        schemas = {
            r[0]
            for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()
        }
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    finally:
        con.close()
    assert max_period == 5 and report_period == 5 and attempt_period == 5
    assert ranking_rows == 0  # a weekly edition shows no ranking
    assert ref_periods == 13  # the definition is copied whole (next week's due times)
    assert {"submission_id", "replaces", "status"} <= columns
    assert "stored_path" not in columns and "submitted_by" not in columns
    assert schemas == {"ref", "marts"}  # reports read marts, never raw
    assert tables == set(freezing.MART_TABLES)


def test_reports_name_no_raw_table():
    """Reports read marts (and ref), never raw: no SQL in the report modules names the raw schema.
    (The upload portal, dashboards/portal, talks to ingest and is not a report.)"""
    root = Path(data.__file__).parent
    pattern = re.compile(r"""(?:from|join)\s+(?:\w+\.)?raw\.|["']raw["']""", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(root)}: {line.strip()}"
        for path in sorted([*root.glob("*.py"), *root.glob("templates/*")])
        for line in path.read_text(encoding="utf-8").splitlines()
        if pattern.search(line)
    ]
    assert offenders == []


def test_manifest_lists_every_file_with_its_hash(weekly5):
    edition = weekly5["weekly_bulletin"]
    manifest = json.loads((edition.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["issue_no"] == 5 and manifest["frozen_at"] == FROZEN_AT.isoformat()
    names = set(manifest["files"])
    assert {"edition.json", "snapshot.duckdb", "bulletin.html", "bulletin.pdf", "bulletin.xlsx"} <= names
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == _sha(edition.folder / name), name


def test_rerendering_is_byte_for_byte_identical(weekly5, monthly05):
    for edition in (
        weekly5["weekly_bulletin"],
        weekly5["dispatch_list"],
        monthly05["monthly_ranking"],
        monthly05["monthly_summary"],
    ):
        before = {k: _sha(p) for k, p in edition.outputs().items()}
        editions.render_edition(editions.open_edition(edition.folder))
        after = {k: _sha(p) for k, p in edition.outputs().items()}
        assert before == after, edition.meta.kind


def test_a_frozen_edition_is_reused_not_refrozen(fixture_settings, weekly5):
    edition = weekly5["weekly_bulletin"]
    again = editions.freeze(
        fixture_settings, "weekly_bulletin", 5, frozen_at=FROZEN_AT + dt.timedelta(days=3)
    )
    assert again.meta.frozen_at == FROZEN_AT
    assert _sha(again.snapshot) == _sha(edition.snapshot)


def test_edition_json_round_trips(weekly5):
    edition = weekly5["dispatch_list"]
    text = (edition.folder / "edition.json").read_text(encoding="utf-8")
    assert EditionMeta.from_json(text) == edition.meta
    assert EditionMeta.from_json(text).to_json() == text


def test_dag_entry_points(fixture_settings, weekly5):
    # freeze_weekly picks the week whose bulletin is due that day; render accepts the short names
    folder = editions.freeze_weekly(fixture_settings, dt.date(2022, 5, 12))
    assert folder == weekly5["weekly_bulletin"].folder
    paths = editions.render(folder, "dispatch")
    assert [p.name for p in paths][:3] == ["dispatch.html", "dispatch.txt", "dispatch.pdf"] or {
        p.name for p in paths
    } >= {"dispatch.html", "dispatch.pdf", "dispatch.xlsx"}
    with pytest.raises(ValueError, match="不是工作通报的发布日"):
        editions.freeze_weekly(fixture_settings, dt.date(2022, 5, 13))


def test_missing_snapshot_is_a_clear_error(tmp_path):
    from roadsafe.settings import Settings

    with pytest.raises(FileNotFoundError, match="请先运行 roadsafe build"):
        editions.freeze(Settings(home=tmp_path), "weekly_bulletin", 1, frozen_at=FROZEN_AT)
