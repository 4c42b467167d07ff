"""An office user signs an edition in headless Chromium against a real ``roadsafe portal`` process (loopback,
real SMTP): log in → 审核签发 → open the draft (the page as it will be issued) → add a 按语 → sign → see it
published. Once on a desk (1280x800), once on a phone (390x844) where nothing may scroll sideways."""

from __future__ import annotations

import os

import pytest
from dash_helpers import FROZEN_AT
from portal_helpers import NOW, PASSWORDS, TEST_OUTPUT, running_portal
from signoff_portal import add_users

from dashboards import signoff
from dashboards.audit import read_audit
from tests.browser import ARGS, CHROMIUM

pytestmark = pytest.mark.slow  # Debian chromium is installed by scripts/bootstrap.sh


@pytest.fixture
def portal(home, smtp):
    add_users(home)
    for kind in ("weekly_bulletin", "dispatch_list"):
        signoff.prepare_draft(home, kind, 5, frozen_at=FROZEN_AT)  # as the weekly DAG drafts them
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROADSAFE_", "AIRFLOW"))}
    env.update(
        ROADSAFE_HOME=str(home.home),
        ROADSAFE_PORTAL_NOW=NOW,
        ROADSAFE_PORTAL_PLAIN_HTTP="1",
        PYTHONDONTWRITEBYTECODE="1",
        **{k: v for k, v in os.environ.items() if k.startswith("ROADSAFE_SMTP_")},
    )
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    log = TEST_OUTPUT / "signoff-portal.log"
    with running_portal(env, log) as (base, _startup):
        yield base
    assert "Traceback" not in log.read_text(encoding="utf-8")


def _walk(browser, base, viewport, kind, note, shot):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/signoff", wait_until="networkidle")
        page.fill("#login", "office")
        page.fill("#password", PASSWORDS["office"])
        page.click("#login-button")
        page.wait_for_url("**/signoff")
        assert page.locator("h1").count() == 1 and page.locator("h1").inner_text() == "审核签发"
        page.click(f"#drafts a[href='/signoff/{kind}/week-05']")
        page.wait_for_url(f"**/signoff/{kind}/week-05")
        # the draft as it will be issued: the report's red heading, inside the page
        preview = page.locator("#preview .redhead .heading")
        assert preview.inner_text().startswith("九江市道路交通安全专项整治")
        page.fill("#note", note)
        page.fill("#note-reason", "主任意见")
        page.click("#save-note")
        page.wait_for_selector("#done")
        assert page.locator("#preview #editor-note").inner_text().endswith(note)
        page.check("#confirm")
        page.click("#sign")
        page.wait_for_selector("#signed-by", timeout=60_000)
        assert page.locator("#done").inner_text() == "已签发并发送。"
        assert page.locator("#state-text").inner_text() == "已签发"
        assert page.locator("h1").count() == 1
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page scrolls sideways: {width} px"
        page.screenshot(path=str(TEST_OUTPUT / shot), full_page=True)
        page.click("nav.main >> text=审核签发")
        assert page.locator("#published").inner_text().count("已签发（office）") >= 1
        assert errors == []
    finally:
        context.close()


def test_office_signs_in_the_browser(portal, home, smtp):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            _walk(
                browser,
                portal,
                {"width": 1280, "height": 800},
                "weekly_bulletin",
                "请各地对照通报抓好整改。",
                "signoff-desk.png",
            )
            _walk(
                browser,
                portal,
                {"width": 390, "height": 844},
                "dispatch_list",
                "请按调度清单逐项落实。",
                "signoff-phone.png",
            )
        finally:
            browser.close()
    for kind, note in (
        ("weekly_bulletin", "请各地对照通报抓好整改。"),
        ("dispatch_list", "请按调度清单逐项落实。"),
    ):
        folder = home.reports / kind / "week-05"
        assert note in next(folder.glob("*.html")).read_text(encoding="utf-8")
    assert sorted(smtp.subjects()) == [
        "九江市道路交通安全专项整治工作调度单（第5期，第5周）",
        "九江市道路交通安全专项整治工作通报（第5期，第5周）",
    ]
    assert [(e["action"], e["who"]) for e in read_audit(home) if e["who"] == "office"] == [
        ("note", "office"), ("sign", "office"), ("note", "office"), ("sign", "office"),
    ]  # fmt: skip
