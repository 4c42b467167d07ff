"""The dry run (:func:`ingest.precheck.precheck`) gives the answer ingestion records, and writes nothing.

The corpus is the generated sample campaign, replayed in received order: every special file (wrong and
corrected, revisions, duplicates) with the files they relate to, and every file of two units for the
first weeks (so the cross-week rule compares with published earlier weeks). Before each file the
warehouse is published, the file is dry-run against the snapshot, then submitted for real; the two
answers must be the same to the message.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from ingest.precheck import precheck
from roadsafe.settings import Settings


def _tree(home: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for root, _dirs, files in os.walk(home):
        for name in files:
            p = Path(root) / name
            st = p.stat()
            out[str(p.relative_to(home))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from application.samples import generate_samples

    out = tmp_path_factory.mktemp("samples")
    entries = generate_samples("jiujiang-2022", out).entries
    special = [e for e in entries if e.special or e.expect != "accepted"]
    related = {e.related for e in special if e.related}
    picked = [
        e
        for e in entries
        if e in special or e.path in related or (e.unit_id in ("xunyang", "gonglu") and e.period_no <= 3)
    ]
    return out, picked


@pytest.mark.slow
def test_precheck_matches_ingestion(corpus, tmp_path):
    from ingest.service import submit
    from roadsafe.warehouse import publish_snapshot

    out, picked = corpus
    settings = Settings(home=tmp_path / "home").ensure()
    campaign = settings.campaign()
    statuses = []
    for e in picked:
        path = out / e.path
        received = dt.datetime.fromisoformat(e.received_at)
        if settings.warehouse.exists():
            publish_snapshot(settings)
        before = _tree(settings.home)
        dry = precheck(settings, path, unit=e.unit_id, received_at=received, campaign=campaign)
        assert _tree(settings.home) == before, "the dry run wrote something"
        real = submit(settings, path, unit=e.unit_id, received_at=received, channel=e.channel)
        where = f"{e.path} ({e.expect}, {e.special})"
        assert dry.status == real.status == e.expect, where
        assert (dry.form, dry.unit, dry.period) == (real.form, real.unit, real.period), where
        assert (dry.row_count, dry.error_count, dry.warning_count) == (
            real.row_count,
            real.error_count,
            real.warning_count,
        ), where
        assert list(dry.messages) == list(real.messages), where
        assert (dry.due_at, dry.minutes_late) == (real.due_at, real.minutes_late), where
        assert dry.duplicate_of == real.duplicate_of, where
        assert dry.superseded == real.superseded, where
        assert dry.text(real.submission_id) == real.text(), where
        statuses.append(real.status)
    assert statuses.count("rejected") >= 10 and statuses.count("duplicate") == 3
    assert len(picked) >= 50


def test_precheck_cross_week_rule_uses_the_snapshot(tmp_path):
    """A cumulative figure below the published previous week is caught; without a snapshot it is not."""
    import shutil

    from portal_helpers import at, fill_f1, seed_home

    from ingest.templates import write_template

    settings = seed_home(tmp_path / "home")
    campaign = settings.campaign()
    tpl = write_template(campaign, "F1", "gongan", 5, tmp_path / "tpl.xlsx")
    lower = fill_f1(tpl, tmp_path / "lower.xlsx", 3)  # week 3's figures sent as week 5: all lower
    result = precheck(
        settings, lower, unit="市公安局", period=5, received_at=at(2022, 5, 11, 15), campaign=campaign
    )
    assert result.used_snapshot
    assert result.status == "rejected"
    assert any("小于上期（第4周" in m.text for m in result.errors)
    # a snapshot-less installation still checks everything else
    shutil.move(settings.published, tmp_path / "away.duckdb")
    result = precheck(
        settings, lower, unit="市公安局", period=5, received_at=at(2022, 5, 11, 15), campaign=campaign
    )
    assert not result.used_snapshot and result.status == "accepted"


def test_precheck_unknown_unit_or_form(tmp_path):
    from ingest.service import UsageError

    settings = Settings(home=tmp_path / "home")
    f = tmp_path / "a.csv"
    f.write_text("县区,重点车辆总数\n浔阳区,1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="找不到报送单位"):
        precheck(settings, f, unit="火星局")
    with pytest.raises(UsageError, match="报表代码“F99”不存在"):
        precheck(settings, f, unit="市公安局", form="F99")
    assert not settings.home.exists()  # nothing created
