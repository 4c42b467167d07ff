"""Fixtures for the sign-off tests: a ``$ROADSAFE_HOME`` whose published snapshot is the report tests' fixture
warehouse (built once, copied per test), a real SMTP server on loopback, and the campaign with
``editions.unsigned`` set either way."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "dashboards"))
sys.path.insert(0, str(HERE.parent / "portal"))
sys.path.insert(0, str(HERE))

from fixture_marts import build_fixture_warehouse  # noqa: E402
from signoff_setup import campaign_with, home_with  # noqa: E402

from roadsafe.campaign import load_campaign  # noqa: E402
from roadsafe.settings import Settings  # noqa: E402
from tests.mailbox import running_mailbox, use_mailbox  # noqa: E402

REPO = HERE.parents[1]


@pytest.fixture
def smtp(monkeypatch):
    with running_mailbox() as box:
        yield use_mailbox(monkeypatch, box, "roadsafe@jiujiang.example.gov.cn")


@pytest.fixture(scope="session")
def published_fixture(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("signoff-seed") / "warehouse.duckdb"
    build_fixture_warehouse(path, load_campaign("jiujiang-2022"))
    return path


@pytest.fixture
def home(tmp_path, published_fixture, monkeypatch) -> Settings:
    """A fresh home (the active one for the functions the DAG tasks call), the published campaign as shipped."""
    settings = home_with(tmp_path / "home", published_fixture)
    monkeypatch.setenv("ROADSAFE_HOME", str(settings.home))
    monkeypatch.setenv("ROADSAFE_CAMPAIGN", "jiujiang-2022")
    monkeypatch.delenv("ROADSAFE_CAMPAIGNS", raising=False)
    monkeypatch.delenv("ROADSAFE_CAMPAIGNS_DIR", raising=False)
    return settings


@pytest.fixture
def waiting_home(home, tmp_path, monkeypatch) -> Settings:
    """The same home, the campaign set to keep unsigned drafts back (``editions: {unsigned: wait}``)."""
    monkeypatch.setenv("ROADSAFE_CAMPAIGNS_DIR", str(campaign_with(tmp_path, "editions: {unsigned: wait}")))
    assert home.campaign().frame.editions.unsigned == "wait"
    return home
