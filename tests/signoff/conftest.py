"""Fixtures for the sign-off tests: a ``$ROADSAFE_HOME`` whose published snapshot is the report tests' fixture
warehouse (built once, copied per test), a real SMTP server on loopback, and the campaign with
``editions.unsigned`` set either way."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "dashboards"))
sys.path.insert(0, str(HERE.parent / "portal"))
sys.path.insert(0, str(HERE))

from fixture_marts import build_fixture_warehouse  # noqa: E402
from signoff_setup import campaign_with  # noqa: E402

from roadsafe.campaign import load_campaign  # noqa: E402
from roadsafe.settings import Settings  # noqa: E402

REPO = HERE.parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def parsed(self):
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.messages]

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.parsed()]


@pytest.fixture
def smtp(monkeypatch):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("ROADSAFE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ROADSAFE_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("ROADSAFE_SMTP_FROM", "roadsafe@jiujiang.example.gov.cn")
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def published_fixture(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("signoff-seed") / "warehouse.duckdb"
    build_fixture_warehouse(path, load_campaign("jiujiang-2022"))
    return path


def _home(root: Path, published: Path) -> Settings:
    settings = Settings(home=root, campaign_code="jiujiang-2022").ensure()
    settings.published.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(published, settings.published)
    return settings


@pytest.fixture
def home(tmp_path, published_fixture, monkeypatch) -> Settings:
    """A fresh home (the active one for the functions the DAG tasks call), the published campaign as shipped."""
    settings = _home(tmp_path / "home", published_fixture)
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
