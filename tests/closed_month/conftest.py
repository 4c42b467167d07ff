"""A closed month on the real sample campaign: the sample's files up to June's ranking time loaded and built
(dbt), June's 工作排名 issued (frozen and rendered), then the files received after it (late June files among
them) loaded and built again."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "portal"))

MONTH = "2022-06"
TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Closed:
    settings: object
    issue_no: int
    issued: dict[str, tuple[float, int]]  # unit_id → (score, rank) in the issued edition
    live: dict[str, tuple[float, int]]  # the same after the late files
    names: dict[str, str]

    @property
    def changed(self) -> list[str]:
        return [
            u
            for u, (score, rank) in self.issued.items()
            if u in self.live and (abs(self.live[u][0] - score) >= 0.005 or self.live[u][1] != rank)
        ]


def _figures(path: Path) -> dict[str, tuple[float, int]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select unit_id, score, rank from marts.rpt_monthly_ranking where month = ?", [MONTH]
        ).fetchall()
    finally:
        con.close()
    return {u: (float(s), int(r)) for u, s, r in rows}


@pytest.fixture(scope="session")
def closed(tmp_path_factory) -> Closed:
    from application.build import run_build
    from application.samples import generate_samples
    from dashboards.editions import freeze, render_edition
    from ingest.history import replay_manifest
    from roadsafe.settings import Settings

    home = tmp_path_factory.mktemp("closed-month") / "home"
    settings = Settings(home=home, campaign_code="jiujiang-2022").ensure()
    out = settings.samples / "jiujiang-2022"
    generate_samples(settings.campaign(), out, seed=2022)
    ranking_at = _ranking_at(settings)
    replay_manifest(settings, out, until=ranking_at)
    assert run_build(settings).ok
    edition = freeze(settings, "monthly_ranking", MONTH, frozen_at=ranking_at)
    render_edition(edition)
    late = replay_manifest(settings, out, since=ranking_at)
    assert late, "the sample has no file received after June's ranking"
    assert run_build(settings).ok
    campaign = settings.campaign()
    return Closed(
        settings=settings,
        issue_no=edition.meta.issue_no,
        issued=_figures(edition.snapshot),
        live=_figures(settings.published),
        names={u.id: u.name for u in campaign.units.values()},
    )


def _ranking_at(settings) -> dt.datetime:
    """June's ranking time as the schedule gives it."""
    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import WorkCalendar

    (item,) = [
        i
        for i in build_schedule(settings.campaign(), WorkCalendar.load())
        if i.kind == "monthly_ranking" and str(i.ref) == MONTH
    ]
    return item.due_at.astimezone(TZ)
