"""Incremental builds give the same tables as a full rebuild.

int_form_values_current and int_form_records_current are incremental by (form, period): a build after new
files redoes only the pairs whose current submissions changed (macros/current_form_periods.sql). The
sample campaign is imported up to week 2 and built from scratch, then weeks 3-4 arrive (new files,
corrections that supersede earlier ones, re-sends) and the build is incremental; every intermediate and
mart table must then equal what a full refresh computes from the same warehouse.

That incremental build also runs only what new data can change (the tables downstream of the raw sources
and their tests); a change of the ``ref.*`` content (here an office decision) runs the whole graph again.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from application.build import run_build
from application.samples import generate_samples
from ingest.history import replay_manifest
from ingest.service import submit
from roadsafe.office_record import OfficeRecord
from roadsafe.settings import Settings

TZ = ZoneInfo("Asia/Shanghai")


def _entries(samples: Path) -> list[dict]:
    return [
        json.loads(line) for line in (samples / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def _plain(value):
    """Floats to 9 significant digits: a sum of the same doubles in another order differs in the last bit
    (0.7777777777777776 vs 0.7777777777777778), which is not a difference in what was computed."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value


def _tables(path) -> dict[str, set]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE' order by all"
        ).fetchall()
        return {
            f"{s}.{t}": {_plain(row) for row in con.execute(f'select * from "{s}"."{t}"').fetchall()}
            for s, t in names
        }
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_incremental_build_equals_a_full_rebuild(tmp_path):
    samples = tmp_path / "samples"
    generate_samples("jiujiang-2022", samples)
    settings = Settings(home=tmp_path / "home", campaign_code="jiujiang-2022").ensure()

    replay_manifest(settings, samples, until=dt.datetime(2022, 4, 27, 18, tzinfo=TZ))  # weeks 1-2 due
    first = run_build(settings)
    assert first.ok and first.full_refresh, first.failures

    later = replay_manifest(settings, samples, until=dt.datetime(2022, 5, 11, 18, tzinfo=TZ))
    assert len([r for r in later if r.status == "accepted"]) > 100
    # and a week-1 file sent again (a trailing line: new bytes, same figures): it supersedes the first copy,
    # so the (form, week 1) pair's rows must now name the new submission and its rows
    week1 = next(
        e
        for e in _entries(samples)
        if e["period_no"] == 1
        and e["format"].startswith("csv")
        and e["expect"] == "accepted"
        and not e["special"]
    )
    again = tmp_path / Path(week1["path"]).name
    again.write_bytes((samples / week1["path"]).read_bytes() + b"\r\n")
    resent = submit(settings, again, unit=week1["unit_id"])
    assert resent.status == "accepted" and resent.superseded, resent
    incremental = run_build(settings)
    assert incremental.ok and not incremental.full_refresh, incremental.failures
    assert not incremental.whole_graph and first.whole_graph
    ran, all_nodes = sum(incremental.counts.values()), sum(first.counts.values())
    assert incremental.counts.get("success", 0) < first.counts["success"] and ran < all_nodes * 0.7
    after_incremental = tmp_path / "incremental.duckdb"
    shutil.copyfile(settings.published, after_incremental)

    full = run_build(settings, full_refresh=True)
    assert full.ok and full.full_refresh, full.failures

    got, want = _tables(after_incremental), _tables(settings.published)
    assert got.keys() == want.keys() and "intermediate.int_form_values_current" in got
    for name in want:
        assert got[name] == want[name], f"{name}: {len(got[name] ^ want[name])} rows differ"
    assert any(len(rows) > 1000 for rows in want.values())

    # the office excuses a report: ref.office_excuses changes, so the next build runs every model and test
    OfficeRecord(settings.home).append(
        "excuse", campaign="jiujiang-2022", by="office", at="2022-05-12T09:00:00+08:00",
        reason="系统故障，已电话报送", form_code=week1["form_code"], unit_id=week1["unit_id"], period_no=2,
    )
    after_decision = run_build(settings)
    assert after_decision.ok and after_decision.whole_graph and not after_decision.full_refresh
    assert not run_build(settings).whole_graph  # and the build after that is the narrow one again

    # a new warehouse file (the demo run again, a file restored or replaced by hand) carries no build state
    # of its own: whatever the home's earlier file was built with, it is built whole, from scratch
    settings.warehouse.unlink()
    anew = run_build(settings)
    assert anew.ok and anew.full_refresh and anew.whole_graph, anew.failures


def test_a_changed_model_or_campaign_rebuilds_from_scratch(tmp_path, monkeypatch):
    from application import build

    campaign = Settings(home=tmp_path, campaign_code="jiujiang-2022").campaign()
    before = build._code_fingerprint(campaign)
    assert build._code_fingerprint(campaign) == before
    project = tmp_path / "dbt_project"
    shutil.copytree(build.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(build, "DBT_PROJECT_DIR", project)
    assert build._code_fingerprint(campaign) == before  # same content elsewhere: same fingerprint
    model = project / "models" / "marts" / "fct_task_status.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    assert build._code_fingerprint(campaign) != before
