"""Helpers for the portal sign-off tests: accounts on a sign-off home and a logged-in TestClient."""

from __future__ import annotations

import re

from portal_helpers import NOW, PASSWORDS, add_users

__all__ = ["NOW", "PASSWORDS", "add_users", "csrf", "logged_in"]


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def logged_in(settings, user: str):
    """A TestClient on the real application, logged in as ``user`` (close it with ``__exit__``)."""
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.config import PortalConfig

    config = PortalConfig(
        settings=settings, secret=b"signoff-test-secret-" * 3, now_text=NOW, secure_cookies=False
    )
    client = TestClient(create_app(config), raise_server_exceptions=False)
    client.__enter__()
    page = client.get("/login")
    done = client.post(
        "/login",
        data={"login": user, "password": PASSWORDS[user], "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return client
