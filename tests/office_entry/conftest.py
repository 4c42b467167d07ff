"""Fixtures for online entry: the portal tests' seeded home (published snapshot built by dbt, accounts)
copied once for this module, and a real ``roadsafe portal`` process on it, talked to over HTTP."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "portal"))

from portal_helpers import NOW, PASSWORDS, add_users, copy_home, csrf_of, running_portal, seed_home  # noqa: E402

SECRET = "office-entry-test-secret-" * 3


@pytest.fixture(scope="module")
def entry_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("entry")
    settings = seed_home(root / "seed")
    add_users(settings)
    return copy_home(settings.home, root / "home")


@pytest.fixture(scope="module")
def portal_url(entry_home, tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROADSAFE_", "AIRFLOW"))}
    env.update(
        ROADSAFE_HOME=str(entry_home.home),
        ROADSAFE_PORTAL_NOW=NOW,
        ROADSAFE_PORTAL_PLAIN_HTTP="1",
        ROADSAFE_PORTAL_SECRET=SECRET,
        PYTHONDONTWRITEBYTECODE="1",
    )
    log = tmp_path_factory.mktemp("entry-log") / "portal.log"
    with running_portal(env, log) as (base, _):
        yield base


@pytest.fixture
def browser(portal_url):
    """``browser(login)`` → an httpx client logged in as ``login`` (closed at the end)."""
    import httpx

    clients = []

    def make(login: str):
        http = httpx.Client(base_url=portal_url, timeout=120)
        clients.append(http)
        token = csrf_of(http.get("/login").text)
        r = http.post("/login", data={"login": login, "password": PASSWORDS[login], "csrf_token": token})
        assert r.status_code == 303, r.text
        return http

    yield make
    for http in clients:
        http.close()
