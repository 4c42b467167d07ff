"""The bulletin and the ranking list the 督办单 issued up to their freeze (read from the frozen snapshot)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb

from dashboards.duban import DUBAN_DDL
from dashboards.editions import monthly_edition, open_edition, weekly_edition
from roadsafe.settings import Settings

sys.path.insert(0, str(Path(__file__).parents[1] / "dashboards"))

from dash_helpers import FROZEN_AT  # noqa: E402
from fixture_marts import build_fixture_warehouse  # noqa: E402

TZ = dt.timezone(dt.timedelta(hours=8))


def test_editions_list_the_duban_issued_before_them(tmp_path, campaign):
    settings = Settings(home=tmp_path / "home", campaign_code="jiujiang-2022")
    build_fixture_warehouse(settings.published, campaign)
    con = duckdb.connect(str(settings.published))
    con.execute(DUBAN_DDL)
    con.executemany(
        "insert into ops.duban values (?, ?, 'jiujiang-2022', ?, ?, ?, ?, ?, ?)",
        [
            (
                1,
                "督办〔2022〕第1号",
                "chaisang",
                "柴桑区",
                dt.datetime(2022, 5, 10, 10, tzinfo=TZ),
                dt.date(2022, 5, 17),
                1,
                1,
            ),
            (
                2,
                "督办〔2022〕第2号",
                "wuning",
                "武宁县",
                dt.datetime(2022, 6, 20, 10, tzinfo=TZ),
                dt.date(2022, 6, 27),
                2,
                0,
            ),
        ],
    )
    con.close()
    weekly = {
        open_edition(f).meta.kind: open_edition(f) for f in weekly_edition(settings, 5, frozen_at=FROZEN_AT)
    }
    bulletin = (weekly["weekly_bulletin"].folder / "bulletin.html").read_text(encoding="utf-8")
    assert "已印发督办单1份：督办〔2022〕第1号（柴桑区）。" in bulletin and "第2号" not in bulletin
    monthly = {
        open_edition(f).meta.kind: open_edition(f)
        for f in monthly_edition(settings, "2022-06", frozen_at=FROZEN_AT)
    }
    ranking = (monthly["monthly_ranking"].folder / "ranking.html").read_text(encoding="utf-8")
    assert "已印发督办单2份：督办〔2022〕第1号（柴桑区）、督办〔2022〕第2号（武宁县）" in ranking
