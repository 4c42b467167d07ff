"""Helpers for the portal tests: filled-in forms (the official template filled as a unit would), a
``$ROADSAFE_HOME`` with a published snapshot, accounts, a fake Airflow REST API and a running
``roadsafe portal`` process."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from roadsafe.settings import Settings

REPO = Path(__file__).resolve().parents[2]
TEST_OUTPUT = REPO / "test-output" / "portal"
TZ = ZoneInfo("Asia/Shanghai")
# The portal's clock in the tests: Wednesday of week 5 (05-05..05-11), forms due Thursday 05-12 12:00.
NOW = "2022-05-11T15:00:00+08:00"
PASSWORDS = {
    "gongan": "Gongan-Portal-2022",
    "xunyang": "Xunyang-Portal-2022",
    "office": "Office-Portal-2022",
}
USERS = {"gongan": ("gongan", "unit"), "xunyang": ("xunyang", "unit"), "office": (None, "office")}


def at(y, m, d, hh=10, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


def f1_row(i: int, week: int) -> list[int]:
    """F1 figures of the i-th county row in ``week``: cumulative, growing week by week."""
    w = week * 10
    return [1000 + 50 * i + w, 800 + 40 * i + w, 700 + 30 * i + w, 100 + i + w, 80 + i + w]


def fill_f1(template: Path, out: Path, week: int, *, wrong: bool = False) -> Path:
    """Fill the F1 template's prefilled county rows. ``wrong`` puts three mistakes in: text in a count
    cell (row 6), a negative count (row 7), 已注销数 above 应注销数 (row 8)."""
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    header = next(r for r in range(1, 12) if ws.cell(r, 1).value == "县区")
    first = next(r for r in range(header + 1, header + 4) if isinstance(ws.cell(r, 1).value, str))
    r = first
    i = 0
    while ws.cell(r, 1).value and not str(ws.cell(r, 1).value).startswith("填报人"):
        for c, value in enumerate(f1_row(i, week), start=2):
            ws.cell(r, c).value = value
        r += 1
        i += 1
    if wrong:
        ws.cell(first + 1, 4).value = "七百多"  # 已检验数: text
        ws.cell(first + 2, 2).value = -5  # 重点车辆总数: negative
        ws.cell(first + 3, 6).value = ws.cell(first + 3, 5).value + 7  # 已注销数 > 应注销数
    wb.save(out)
    return out


def seed_home(home: Path) -> Settings:
    """A home whose published snapshot (built by dbt) holds week 4's F1 of 市公安局 and of 浔阳区 (accepted)."""
    from application.build import run_build
    from ingest.service import submit
    from ingest.templates import write_template

    settings = Settings(home=home).ensure()
    campaign = settings.campaign()
    work = home.parent / f"{home.name}-files"
    work.mkdir(exist_ok=True)
    for unit_id, name in (("gongan", "市公安局"), ("xunyang", "浔阳区")):
        tpl = write_template(campaign, "F1", unit_id, 4, work / f"{unit_id}-tpl4.xlsx")
        filled = fill_f1(tpl, work / f"{name}-F1-第4周.xlsx", 4)
        receipt = submit(settings, filled, unit=unit_id, received_at=at(2022, 5, 5, 9), channel="cli")
        assert receipt.status == "accepted", receipt.text()
    build = run_build(settings)
    assert build.ok, build
    return settings


def copy_home(seed: Path, target: Path) -> Settings:
    shutil.copytree(seed, target)
    return Settings(home=target)


def add_users(settings: Settings) -> None:
    from argon2 import PasswordHasher

    from portal.store import Store

    store = Store(settings.home / "portal" / "users.sqlite3")
    hasher = PasswordHasher()
    for login, (unit_id, role) in USERS.items():
        if store.get_user(login) is None:
            store.add_user(login, unit_id, role, hasher.hash(PASSWORDS[login]))


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def text_of(html: str) -> str:
    import html as htmllib

    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def receipts(settings: Settings, channel: str | None = "portal") -> list[dict]:
    """The receipt sidecars (of the portal's uploads by default), oldest first."""
    folder = settings.landing / "receipts"
    found = (
        [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")] if folder.is_dir() else []
    )
    found.sort(key=lambda r: (r["received_at"], r["receipt_id"]))
    return [r for r in found if channel is None or r["channel"] == channel]


def landed_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.landing.rglob("*") if p.is_file() and p.parent.name != "receipts")


# --------------------------------------------------------------------------- a fake Airflow REST API


class FakeAirflow:
    """``POST /auth/token``, ``GET /api/v2/assets?name_pattern=…``, ``POST /api/v2/assets/events`` as the
    api-server answers them, recording every request."""

    def __init__(self, username="portal", password="secret-pw", asset_id=7):
        self.username, self.password, self.asset_id = username, password, asset_id
        self.requests: list[tuple[str, str, dict | None, str | None]] = []
        self.events: list[dict] = []
        self.tokens_issued = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n) or b"{}") if n else None

            def _authorised(self):
                return self.headers.get("Authorization") == f"Bearer token-{fake.tokens_issued}"

            def do_POST(self):  # noqa: N802
                body = self._body()
                fake.requests.append(("POST", self.path, body, self.headers.get("Authorization")))
                if self.path == "/auth/token":
                    if body == {"username": fake.username, "password": fake.password}:
                        fake.tokens_issued += 1
                        return self._send(201, {"access_token": f"token-{fake.tokens_issued}"})
                    return self._send(401, {"detail": "Invalid credentials"})
                if self.path == "/api/v2/assets/events":
                    if not self._authorised():
                        return self._send(401, {"detail": "Not authenticated"})
                    if body.get("asset_id") != fake.asset_id:
                        return self._send(404, {"detail": "asset not found"})
                    fake.events.append(body)
                    return self._send(
                        200, {"id": len(fake.events), "asset_id": fake.asset_id, "extra": body["extra"]}
                    )
                return self._send(404, {"detail": "Not Found"})

            def do_GET(self):  # noqa: N802
                fake.requests.append(("GET", self.path, None, self.headers.get("Authorization")))
                if self.path.startswith("/api/v2/assets?"):
                    if not self._authorised():
                        return self._send(401, {"detail": "Not authenticated"})
                    assets = [
                        {"id": fake.asset_id - 1, "name": "roadsafe_inbox_old"},
                        {"id": fake.asset_id, "name": "roadsafe_inbox"},
                    ]
                    return self._send(200, {"assets": assets, "total_entries": 2})
                return self._send(404, {"detail": "Not Found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_portal(env: dict, log: Path, timeout: float = 60):
    """``roadsafe portal`` on a free loopback port with ``env``, its output in ``log``, once ``/healthz``
    answers: yields (base URL, start-up seconds). Stopped afterwards (SIGTERM, then SIGKILL)."""
    port = free_port()
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "roadsafe"),
                "portal",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            t0 = time.monotonic()
            while True:
                if proc.poll() is not None:
                    raise AssertionError(
                        f"portal exited {proc.returncode}:\n{log.read_text(encoding='utf-8')}"
                    )
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > t0 + timeout:
                    raise AssertionError(
                        f"portal not healthy in {timeout:.0f} s:\n{log.read_text(encoding='utf-8')}"
                    )
                time.sleep(0.2)
            yield base, time.monotonic() - t0
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
