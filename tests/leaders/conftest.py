"""Fixtures for the leaders' view: the dashboards' fixture warehouse published under a temporary
``$ROADSAFE_HOME`` (built once per session), June's ranking issued (frozen), and then one late correction in
the live snapshot, so the page must show the issued figures and mark the unit that changed since."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "dashboards"))

from dash_helpers import FROZEN_AT  # noqa: E402
from fixture_marts import build_fixture_warehouse  # noqa: E402

from roadsafe.campaign import load_campaign  # noqa: E402
from roadsafe.settings import Settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))

from leaders_setup import CORRECTED_UNIT, ISSUED_MONTH, TEST_OUTPUT  # noqa: E402


@pytest.fixture(scope="session")
def campaign():
    return load_campaign("jiujiang-2022")


@pytest.fixture(scope="session")
def leaders_settings(tmp_path_factory, campaign) -> Settings:
    """Published snapshot = fixture warehouse; June's 排名 frozen; then 濂溪区's June score corrected (+5)."""
    from dashboards.editions import freeze

    home = tmp_path_factory.mktemp("leaders-home")
    settings = Settings(home=home, campaign_code="jiujiang-2022")
    build_fixture_warehouse(settings.published, campaign)
    freeze(settings, "monthly_ranking", ISSUED_MONTH, frozen_at=FROZEN_AT, campaign=campaign)
    con = duckdb.connect(str(settings.published))
    try:
        con.execute(
            "update marts.rpt_monthly_ranking set score = score + 5 where month = ? and unit_id = ?",
            [ISSUED_MONTH, CORRECTED_UNIT],
        )
    finally:
        con.close()
    return settings


@pytest.fixture(scope="session")
def marts(leaders_settings):
    """A read-only connection to the live published snapshot (to compute what the page should say)."""
    con = duckdb.connect(str(leaders_settings.published), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def front_html(leaders_settings, campaign) -> str:
    from dashboards.leaders.front import render_front
    from dashboards.leaders.pages import collect_front

    return render_front(collect_front(leaders_settings, campaign, FROZEN_AT))


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    return TEST_OUTPUT
