"""Fixtures for the report tests: a known warehouse (``fixture_marts``) published under a temporary
``$ROADSAFE_HOME``, and editions rendered from it once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dash_helpers import FROZEN_AT, TEST_OUTPUT  # noqa: E402
from fixture_marts import build_fixture_warehouse  # noqa: E402

from roadsafe.campaign import load_campaign  # noqa: E402
from roadsafe.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def campaign():
    return load_campaign("jiujiang-2022")


@pytest.fixture(scope="session")
def fixture_settings(tmp_path_factory, campaign) -> Settings:
    """A ``$ROADSAFE_HOME`` whose published snapshot is the fixture warehouse."""
    home = tmp_path_factory.mktemp("home")
    settings = Settings(home=home, campaign_code="jiujiang-2022")
    build_fixture_warehouse(settings.published, campaign)
    return settings


@pytest.fixture(scope="session")
def marts(fixture_settings):
    """A read-only connection to the fixture warehouse (to compute what the reports should say)."""
    con = duckdb.connect(str(fixture_settings.published), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def weekly5(fixture_settings):
    """Week 5's bulletin and dispatch list, frozen and rendered: {kind: Edition}."""
    from dashboards.editions import open_edition, weekly_edition

    folders = weekly_edition(fixture_settings, 5, frozen_at=FROZEN_AT)
    return {open_edition(f).meta.kind: open_edition(f) for f in folders}


@pytest.fixture(scope="session")
def monthly05(fixture_settings):
    """May's ranking and summary, frozen and rendered: {kind: Edition}."""
    from dashboards.editions import monthly_edition, open_edition

    folders = monthly_edition(fixture_settings, "2022-05", frozen_at=FROZEN_AT)
    return {open_edition(f).meta.kind: open_edition(f) for f in folders}


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    return TEST_OUTPUT
