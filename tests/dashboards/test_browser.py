"""The site and a bulletin in headless Chromium (Debian's /usr/bin/chromium driven by Playwright): no
console errors, no failed or outside requests, Chinese text on screen. Screenshots go to test-output/."""

from __future__ import annotations

import shutil
import threading
from http.server import ThreadingHTTPServer

import pytest
from dash_helpers import TEST_OUTPUT

from dashboards.site import build_site, make_handler
from tests.browser import ARGS, CHROMIUM

pytestmark = pytest.mark.slow  # Debian chromium is installed by scripts/bootstrap.sh


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1200, "height": 900},
            locale="zh-CN",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def served_site(fixture_settings, weekly5, monthly05):
    import datetime as dt

    from dash_helpers import TZ

    build_site(fixture_settings, as_of=dt.datetime(2022, 5, 13, 9, tzinfo=TZ))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(fixture_settings.site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()


def _visit(context, url: str, screenshot: str) -> dict:
    page = context.new_page()
    problems = {"console": [], "failed": [], "requests": []}
    page.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems["console"].append(str(e)))
    page.on("requestfailed", lambda r: problems["failed"].append(r.url))
    page.on("request", lambda r: problems["requests"].append(r.url))
    response = page.goto(url, wait_until="networkidle")
    problems["status"] = response.status if response else None
    problems["text"] = page.inner_text("body")
    problems["fonts"] = page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')")
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(TEST_OUTPUT / screenshot), full_page=True)
    page.screenshot(path=str(TEST_OUTPUT / screenshot.replace(".png", "-top.png")))
    page.close()
    return problems


def test_site_pages_in_chromium(browser_context, served_site):
    for path, shot, words in (
        ("/index.html", "site-index.png", "整治任务"),
        ("/tasks/task-04.html", "site-task-04.png", "强化重点车辆隐患大清仓"),
        ("/units/duchang.html", "site-unit-duchang.png", "都昌县"),
    ):
        seen = _visit(browser_context, served_site + path, shot)
        assert seen["status"] == 200
        assert seen["console"] == [], seen["console"]
        assert seen["failed"] == [], seen["failed"]
        assert all(u.startswith(served_site) for u in seen["requests"]), seen["requests"]
        assert words in seen["text"]
        assert seen["fonts"]


def test_bulletin_opens_offline_from_file(browser_context, weekly5, tmp_path):
    # a copy in a folder of its own: the page must need nothing beside it
    alone = tmp_path / "alone" / "bulletin.html"
    alone.parent.mkdir()
    shutil.copy2(weekly5["weekly_bulletin"].outputs()["html"], alone)
    seen = _visit(browser_context, alone.as_uri(), "bulletin-week-05.png")
    assert seen["console"] == [], seen["console"]
    assert seen["failed"] == [], seen["failed"]
    assert seen["requests"] == [alone.as_uri()], seen["requests"]
    assert "九江市道路交通安全专项整治工作通报" in seen["text"]
    assert "第5期" in seen["text"] and "重点车辆检验率" in seen["text"]
