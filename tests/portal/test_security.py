"""The portal's security hardening: login throttle (counted before hashing, bounded hashing, per account and
per client address with a trusted proxy), secrets and cookies, response headers, file modes, the Airflow
account and bounded upload work. The concurrency checks run against a real ``roadsafe portal`` process."""

from __future__ import annotations

import io
import ipaddress
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from portal_helpers import (
    NOW,
    PASSWORDS,
    REPO,
    FakeAirflow,
    copy_home,
    csrf_of,
    fill_f1,
    receipts,
    running_portal,
    text_of,
)

pytestmark = pytest.mark.timeout(300)
SECRET = "portal-security-tests-8Hq2vLw9" * 2


def _env(settings, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROADSAFE_", "AIRFLOW"))}
    env.update(
        ROADSAFE_HOME=str(settings.home),
        ROADSAFE_PORTAL_NOW=NOW,
        ROADSAFE_PORTAL_PLAIN_HTTP="1",
        ROADSAFE_PORTAL_SECRET=SECRET,
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def _browsers(base: str, n: int):
    """``n`` fresh browsers, each holding a login form (pre-login cookie and token)."""
    import httpx

    out = []
    for _ in range(n):
        http = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
        out.append((http, csrf_of(http.get("/login").text)))
    return out


def _at_once(calls) -> list:
    """Run every call in its own thread, released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    return results


def _post_login(http, token, login, password, headers=None):
    return http.post(
        "/login", data={"login": login, "password": password, "csrf_token": token}, headers=headers or {}
    )


# --------------------------------------------------------------------------- item 2: login throttling


def test_parallel_wrong_passwords_are_counted_before_hashing(seeded, tmp_path):
    """Twenty wrong passwords for one account at the same moment: only the five free attempts are
    checked (401); the others are held back (429) without hashing — the count is taken atomically first."""
    settings = copy_home(seeded, tmp_path / "home")
    with running_portal(_env(settings, ROADSAFE_PORTAL_MAX_HASHES="32"), tmp_path / "portal.log") as (
        base,
        _,
    ):
        browsers = _browsers(base, 20)
        answers = _at_once(
            [lambda h=h, t=t: _post_login(h, t, "gongan", "wrong-password-1") for h, t in browsers]
        )
        codes = sorted(r.status_code for r in answers)
        for http, _t in browsers:
            http.close()
    assert codes.count(401) == 5 and codes.count(429) == 15, codes
    assert all("登录失败次数过多" in text_of(r.text) for r in answers if r.status_code == 429)


def test_concurrent_password_checks_are_capped(seeded, tmp_path):
    """At most ROADSAFE_PORTAL_MAX_HASHES argon2 checks at once (64 MiB each); the rest are told 系统繁忙."""
    settings = copy_home(seeded, tmp_path / "home")
    env = _env(settings, ROADSAFE_PORTAL_MAX_HASHES="1", ROADSAFE_PORTAL_HASH_WAIT="0")
    with running_portal(env, tmp_path / "portal.log") as (base, _):
        browsers = _browsers(base, 10)
        answers = _at_once(
            [
                lambda h=h, t=t, i=i: _post_login(h, t, f"nobody{i}", "wrong-password-1")
                for i, (h, t) in enumerate(browsers)
            ]
        )
        for http, _t in browsers:
            http.close()
    busy = [r for r in answers if r.status_code == 429]
    assert busy and all("系统繁忙" in text_of(r.text) for r in busy)
    assert all(r.status_code in (401, 429) for r in answers)
    assert any(r.status_code == 401 for r in answers)


# --------------------------------------------------------------------------- item 3: client address


def _proxy_client(settings, **overrides):
    """A TestClient whose peer is 127.0.0.1 (as a reverse proxy on the same host)."""
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.config import PortalConfig

    values = {"secret": SECRET.encode(), "now_text": NOW, "secure_cookies": False, "login_failures_per_ip": 3}
    values.update(overrides)
    app = create_app(PortalConfig(settings=settings, **values))
    return TestClient(app, client=("127.0.0.1", 50000), raise_server_exceptions=False)


def _login_via(client, login, password, forwarded=None):
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/login",
        data={"login": login, "password": password, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def test_client_address_from_a_trusted_proxy_only(settings):
    trusted = (ipaddress.ip_network("127.0.0.0/8"),)
    with _proxy_client(settings, trusted_proxies=trusted) as client:
        for i in range(3):
            assert _login_via(client, f"guess{i}", "wrong-password-1", "203.0.113.5").status_code == 401
        held = _login_via(client, "office", PASSWORDS["office"], "203.0.113.5")
        assert held.status_code == 429 and "本机需等待" in text_of(held.text)
        # another client behind the same proxy is not held back; the proxy's own hops are skipped
        assert _login_via(client, "office", PASSWORDS["office"], "203.0.113.6, 127.0.0.1").status_code == 303
    # without a trusted proxy the header is ignored: changing it does not escape the back-off
    with _proxy_client(settings) as client:
        for i in range(3):
            assert _login_via(client, f"guess{i}", "wrong-password-1", f"198.51.100.{i}").status_code == 401
        assert _login_via(client, "office", PASSWORDS["office"], "198.51.100.99").status_code == 429


def test_trusted_proxies_from_the_environment(settings, monkeypatch):
    from portal.config import ConfigError, PortalConfig

    monkeypatch.setenv("ROADSAFE_PORTAL_SECRET", SECRET)
    monkeypatch.setenv("ROADSAFE_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/24")
    config = PortalConfig.from_env(settings)
    assert [str(n) for n in config.trusted_proxies] == ["10.0.0.1/32", "192.168.0.0/24"]
    monkeypatch.setenv("ROADSAFE_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(ConfigError, match="ROADSAFE_TRUSTED_PROXIES"):
        PortalConfig.from_env(settings)
    monkeypatch.delenv("ROADSAFE_TRUSTED_PROXIES")
    assert PortalConfig.from_env(settings).trusted_proxies == ()


# --------------------------------------------------------------------------- item 4: secrets and cookies


def test_weak_secrets_are_refused(settings):
    from portal.config import ConfigError, check_secret

    for weak in ("", "short-secret", "change-me", "change-me" * 5, "a" * 40):
        with pytest.raises(ConfigError) as err:
            check_secret(weak, "ROADSAFE_PORTAL_SECRET")
        assert "secrets.token_urlsafe" in str(err.value) and "门户拒绝启动" in str(err.value)
    check_secret("Zk3v" + "x9QpL2mN8rT5wY7bC4dF6gH1jK0sA" * 2, "ROADSAFE_PORTAL_SECRET")
    # the example environment file holds no usable secret or password (the old one had change-me)
    example = (REPO / "docker" / "env.example").read_text(encoding="utf-8")
    values = re.findall(r"^[A-Z_]*(?:PASSWORD|SECRET|KEY)[A-Z_]*=(.*)$", example, flags=re.M)
    assert len(values) >= 6 and "ROADSAFE_PORTAL_SECRET=" in example
    for value in values:
        with pytest.raises(ConfigError):
            check_secret(value.strip(), "docker/env.example")


def test_portal_refuses_to_start_with_a_placeholder_secret(settings, tmp_path):
    env = _env(settings, ROADSAFE_PORTAL_SECRET="change-me")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "roadsafe"), "portal", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "门户密钥" in out and "secrets.token_urlsafe(48)" in out and "Traceback" not in out


def test_session_cookie_is_secure_unless_plain_http_on_loopback(settings, monkeypatch):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.config import ConfigError, PortalConfig

    monkeypatch.setenv("ROADSAFE_PORTAL_SECRET", SECRET)
    monkeypatch.delenv("ROADSAFE_PORTAL_PLAIN_HTTP", raising=False)
    config = PortalConfig.from_env(settings, now_text=NOW)
    assert config.secure_cookies
    with TestClient(create_app(config), base_url="https://testserver") as client:
        token = csrf_of(client.get("/login").text)
        resp = client.post(
            "/login",
            data={"login": "gongan", "password": PASSWORDS["gongan"], "csrf_token": token},
            follow_redirects=False,
        )
    assert resp.status_code == 303
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("roadsafe_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    monkeypatch.setenv("ROADSAFE_PORTAL_PLAIN_HTTP", "1")
    plain = PortalConfig.from_env(settings)
    assert not plain.secure_cookies
    plain.check("127.0.0.1")
    with pytest.raises(ConfigError, match="loopback"):
        plain.check("0.0.0.0")


def test_password_reset_ends_sessions(client, login_as, settings, capsys, monkeypatch):
    from application.cli import main

    login_as(client, "gongan")
    assert client.get("/history").status_code == 200
    monkeypatch.setattr("sys.stdin", io.StringIO("Gongan-New-Pass-2022\n"))
    assert main(["--home", str(settings.home), "user", "password", "gongan", "--password-stdin"]) == 0
    assert "会话同时失效" in capsys.readouterr().out
    resp = client.get("/history", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    assert login_as(client, "gongan", "Gongan-New-Pass-2022").status_code == 303


# --------------------------------------------------------------------------- item 5: headers, downloads


def test_headers_on_every_answer_and_downloads(client, login_as, settings, tmp_path):
    login_as(client, "gongan")
    tpl = tmp_path / "tpl.xlsx"
    tpl.write_bytes(client.get("/templates/F1.xlsx?week=5").content)
    macro = fill_f1(tpl, tmp_path / "F1-宏.xlsm", 5)
    page = client.get("/upload")
    resp = client.post(
        "/upload",
        data={"csrf_token": csrf_of(page.text), "form": "auto", "week": "auto"},
        files={"file": (macro.name, macro.read_bytes(), "application/octet-stream")},
    )
    assert resp.status_code == 200
    (rec,) = receipts(settings)
    answers = {
        path: client.get(path, follow_redirects=False)
        for path in (
            "/healthz",
            "/",
            "/history",
            "/no-such-page",
            "/templates/F1.xlsx",
            f"/files/{rec['receipt_id']}",
        )
    }
    for path, answer in answers.items():
        csp = answer.headers.get("content-security-policy", "")
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert "script-src 'none'" in csp or re.search(r"script-src 'nonce-[^']+'", csp), path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers["referrer-policy"] == "same-origin", path
    original = answers[f"/files/{rec['receipt_id']}"]
    assert original.status_code == 200 and original.content == macro.read_bytes()
    assert original.headers["cache-control"] == "no-store"
    assert original.headers["content-disposition"].startswith("attachment;")
    assert original.headers["content-type"] == "application/octet-stream"
    # the macro workbook is flagged to the unit and to the office
    assert "含宏文件，仅供下载，打开时请勿启用宏" in text_of(answers["/history"].text)
    login_as(client, "office")
    assert "含宏的工作簿" in text_of(client.get("/office").text)
    # an edition's files are attachments too, the HTML included (never rendered under the portal's origin)
    from dashboards.editions import freeze

    edition = freeze(settings, "weekly_bulletin", 4)
    html = edition.outputs()["html"]
    html.write_text("<html><script>alert(1)</script></html>", encoding="utf-8")  # stands in for the render
    resp = client.get(f"/editions/weekly_bulletin/{edition.folder.name}/{html.name}")
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert "script-src 'none'" in resp.headers["content-security-policy"]


# --------------------------------------------------------------------------- item 6: file modes


def test_accounts_database_and_secret_are_private_whatever_the_umask(tmp_path, monkeypatch):
    from portal.config import load_secret
    from portal.store import Store
    from roadsafe.settings import Settings

    monkeypatch.delenv("ROADSAFE_PORTAL_SECRET", raising=False)
    old = os.umask(0)
    try:
        # the secret first (as the portal starts), then the accounts database in a home of its own
        secret_home = Settings(home=tmp_path / "secret-home")
        secret = load_secret(secret_home)
        secret_modes = {
            p.name: p.stat().st_mode & 0o777
            for p in (secret_home.home / "portal", secret_home.home / "portal" / "secret")
        }
        db_home = Settings(home=tmp_path / "db-home")
        store = Store(db_home.home / "portal" / "users.sqlite3")
        store.get_user("-")
        db_modes = {p.name: p.stat().st_mode & 0o777 for p in (db_home.home / "portal").iterdir()}
        db_modes["portal"] = (db_home.home / "portal").stat().st_mode & 0o777
    finally:
        os.umask(old)
    assert len(secret) >= 48
    assert secret_modes == {"portal": 0o700, "secret": 0o600}
    assert db_modes["portal"] == 0o700 and db_modes["users.sqlite3"] == 0o600
    assert all(mode & 0o077 == 0 for mode in db_modes.values()), db_modes  # -wal / -shm too


# --------------------------------------------------------------------------- item 7: the Airflow account


def test_portal_posts_events_with_its_own_airflow_account(settings, login_as, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.config import ConfigError, PortalConfig

    with FakeAirflow(username="roadsafe_portal", password="portal-af-pass") as airflow:
        monkeypatch.setenv("ROADSAFE_PORTAL_SECRET", SECRET)
        monkeypatch.setenv("ROADSAFE_AIRFLOW_URL", airflow.url)
        monkeypatch.setenv("ROADSAFE_AIRFLOW_USER", "roadsafe_portal")
        monkeypatch.setenv("ROADSAFE_AIRFLOW_PASSWORD", "portal-af-pass")
        config = PortalConfig.from_env(settings, now_text=NOW, secure_cookies=False)
        with TestClient(create_app(config)) as client:
            login_as(client, "gongan")
            tpl = tmp_path / "tpl.xlsx"
            tpl.write_bytes(client.get("/templates/F1.xlsx?week=5").content)
            good = fill_f1(tpl, tmp_path / "F1.xlsx", 5)
            page = client.get("/upload")
            resp = client.post(
                "/upload",
                data={"csrf_token": csrf_of(page.text), "form": "auto", "week": "auto"},
                files={"file": (good.name, good.read_bytes(), "application/octet-stream")},
            )
        assert resp.status_code == 200 and "已受理" in text_of(resp.text)
        logins = [body for method, path, body, _ in airflow.requests if path == "/auth/token"]
        assert logins == [{"username": "roadsafe_portal", "password": "portal-af-pass"}]
        assert len(airflow.events) == 1
        # the admin account is refused outright
        monkeypatch.setenv("ROADSAFE_AIRFLOW_USER", "admin")
        with pytest.raises(ConfigError, match="admin"):
            create_app(PortalConfig.from_env(settings))


# --------------------------------------------------------------------------- item 8: bounded uploads


def test_parallel_uploads_beyond_the_caps_are_told_busy(seeded, tmp_path):
    import httpx

    from ingest.templates import write_template

    settings = copy_home(seeded, tmp_path / "home")
    campaign = settings.campaign()
    files = {}
    for unit in ("gongan", "xunyang"):
        for week in (1, 2, 3):
            tpl = write_template(campaign, "F1", unit, week, tmp_path / f"tpl-{unit}-{week}.xlsx")
            files[(unit, week)] = fill_f1(tpl, tmp_path / f"F1-{unit}-第{week}周.xlsx", week)
    env = _env(settings, ROADSAFE_PORTAL_UPLOADS_PER_USER="1", ROADSAFE_PORTAL_UPLOADS_TOTAL="2")
    with running_portal(env, tmp_path / "portal.log") as (base, _):
        jobs = []
        for (unit, _week), path in files.items():
            http = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
            token = csrf_of(http.get("/login").text)
            assert _post_login(http, token, unit, PASSWORDS[unit]).status_code == 303
            csrf = csrf_of(http.get("/upload").text)
            jobs.append((http, csrf, path))

        def send(http, csrf, path):
            return http.post(
                "/upload",
                data={"csrf_token": csrf, "form": "auto", "week": "auto"},
                files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
            )

        answers = _at_once([lambda j=j: send(*j) for j in jobs])
        for http, _c, _p in jobs:
            http.close()
    codes = [r.status_code for r in answers]
    assert set(codes) <= {200, 503} and 503 in codes and 200 in codes, codes
    assert all("系统繁忙，请稍后再试" in text_of(r.text) for r in answers if r.status_code == 503)
    # nothing was landed for a busy answer
    assert len(receipts(settings)) == codes.count(200)
