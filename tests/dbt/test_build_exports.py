"""``roadsafe build`` and ``roadsafe export indicators|ranking`` on the scenario's published snapshot, and a
build that fails (a failing data test; a YAML warning) reported in plain words without publishing."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
import subprocess
import sys
from dataclasses import replace

import duckdb
import pytest

from application import build as build_module
from application.exports import INDICATOR_COLUMNS, RANKING_COLUMNS, export_indicators, export_ranking

pytestmark = pytest.mark.slow


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "application.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_export_indicators_takes_each_latest_week_ended_by_the_date(built):
    rows = export_indicators(built.settings, dt.date(2022, 4, 28))  # week 3 ended 04-27, week 4 ends 05-04
    assert {r["week"] for r in rows} == {3}
    by = {(r["indicator"], r["unit"]): r for r in rows}
    assert by[("I02", "浔阳区")] == {
        "indicator": "I02",
        "unit": "浔阳区",
        "week": 3,
        "actual": 0.96,
        "target": 0.95,
        "expected": round(0.4 + 0.55 * 14 / 78, 4),
        "status": "已完成",
    }
    assert by[("I02", "九江市")]["actual"] is None and by[("I02", "九江市")]["status"] == "数据缺报"
    assert by[("I09", "中心城区")]["target"] == 31500 and isinstance(by[("I09", "中心城区")]["target"], int)
    assert by[("I14", "浔阳区")]["target"] is None
    assert rows[0]["indicator"] == "I01" and rows[0]["unit"] == "九江市"  # city first, then the counties
    assert list(rows[0]) == INDICATOR_COLUMNS
    assert export_indicators(built.settings, dt.date(2022, 4, 12)) == []  # no week has ended yet


def test_export_ranking_rows(built):
    rows = export_ranking(built.settings, "2022-04", "county")
    assert list(rows[0]) == RANKING_COLUMNS
    assert rows[:3] == [
        # the scenario's scores (test_dbt_models): I12 is information only, 7 scored indicators
        {"rank": 1, "unit": "湖口县", "score": 31.14, "rank_change": None, "note": ""},
        {"rank": 2, "unit": "浔阳区", "score": 29.14, "rank_change": None, "note": ""},
        {"rank": 3, "unit": "德安县", "score": 25.71, "rank_change": None, "note": ""},
    ]
    assert [r["rank"] for r in rows[3:12]] == [4] * 9
    may = {r["unit"]: r for r in export_ranking(built.settings, "2022-05", "county")}
    assert may["德安县"]["rank_change"] == 2 and may["湖口县"]["rank_change"] == -1
    with pytest.raises(ValueError, match="YYYY-MM"):
        export_ranking(built.settings, "2022-5", "county")


def test_cli_exports_csv(built):
    home = str(built.settings.home)
    out = _cli("--home", home, "export", "indicators", "--as-of", "2022-05-10", "--format", "csv")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "indicator,unit,week,actual,target,expected,status"
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {
        "indicator": "I09",
        "unit": "中心城区",
        "week": "4",
        "actual": "31000",
        "target": "31500",
        "expected": "31500",
        "status": "逾期未完成",
    } in rows
    assert {
        "indicator": "I02",
        "unit": "九江市",
        "week": "4",
        "actual": "",
        "target": "0.95",
        "expected": "0.5892",
        "status": "数据缺报",
    } in rows
    out = _cli("--home", home, "export", "ranking", "--month", "2022-04", "--scope", "department")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:2] == ["rank,unit,score,rank_change,note", "1,市交通运输局,52.38,,"]


def test_snapshot_is_a_readable_copy(built):
    con = duckdb.connect(str(built.settings.published), read_only=True)
    try:
        live = con.execute("select count(*) from marts.fct_indicator_values").fetchone()[0]
        assert live == 149 * 13  # every scope of every indicator, every week
    finally:
        con.close()


@pytest.fixture
def broken_home(built, tmp_path):
    """A copy of the scenario's home (warehouse + published snapshot) to break."""
    home = tmp_path / "home"
    shutil.copytree(built.settings.home, home, ignore=shutil.ignore_patterns("landing", "test-files", "logs"))
    return replace(built.settings, home=home)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failing_data_test_fails_the_build_in_plain_words_and_keeps_the_snapshot(broken_home):
    before = _digest(broken_home.published)
    con = duckdb.connect(str(broken_home.warehouse))
    con.execute(
        "insert into raw.submissions (submission_id, campaign_code, form_code, unit_id, period_no, "
        "file_sha256, original_name, stored_path, size_bytes, channel, received_at, status) values "
        "('S999999', 'jiujiang-2022', 'F1', 'gongan', 5, 'x', 'x.csv', 'x', 1, 'cli', now(), 'lost')"
    )
    con.close()
    result = build_module.run_build(broken_home)
    assert not result.ok and result.status == "failed"
    assert "未通过" in result.message and "未发布快照" in result.message
    failing = [f for f in result.failures if "accepted_values_stg_raw__submissions_status" in f]
    assert len(failing) == 1 and "1 行不符合要求" in failing[0]
    assert _digest(broken_home.published) == before


def test_a_yaml_warning_fails_the_build_before_anything_runs(broken_home, tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    shutil.copytree(build_module.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "marts" / "_stray.yml").write_text(
        "version: 2\nmodels:\n  - name: no_such_model\n    description: not a model\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(build_module, "DBT_PROJECT_DIR", project)
    before = _digest(broken_home.published)
    result = build_module.run_build(broken_home)
    assert not result.ok
    assert result.message.startswith("dbt 解析未通过")
    assert any("no_such_model" in f for f in result.failures), result.failures
    assert _digest(broken_home.published) == before


def test_the_build_sets_up_every_submitting_units_drop_folder(built):
    campaign = built.settings.campaign()
    submitters = {u for code in campaign.forms for u in campaign.form_submitters(code)}
    folders = {p.name for p in built.settings.inbox.iterdir() if p.is_dir()}
    expected = {u.name for u in campaign.units.values() if u.id in submitters and u.kind in ("county", "department")}
    assert expected and expected <= folders
