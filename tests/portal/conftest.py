"""Fixtures for the portal tests: a seeded ``$ROADSAFE_HOME`` (copied per test), accounts, and a
FastAPI TestClient on the real application."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from portal_helpers import NOW, PASSWORDS, add_users, copy_home, csrf_of, seed_home  # noqa: E402


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Path:
    """The seeded home (do not modify: tests work on copies)."""
    root = tmp_path_factory.mktemp("portal-seed")
    settings = seed_home(root / "home")
    add_users(settings)
    return settings.home


@pytest.fixture
def settings(seeded, tmp_path):
    return copy_home(seeded, tmp_path / "home")


@pytest.fixture
def make_client(settings):
    """``make_client(**config_overrides)`` → a TestClient on the portal (closed at the end)."""
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.config import PortalConfig

    clients = []

    def make(**overrides):
        # TestClient talks plain http in-process (as on loopback): cookies without Secure
        values = {"secret": b"portal-test-secret-" * 3, "now_text": NOW, "secure_cookies": False}
        values.update(overrides)
        config = PortalConfig(settings=settings, **values)
        client = TestClient(create_app(config), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


def login(client, user: str, password: str | None = None, *, follow=False):
    client.cookies.clear()  # a fresh browser
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "login": user,
            "password": PASSWORDS.get(user, "") if password is None else password,
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=follow,
    )


@pytest.fixture
def login_as():
    return login
