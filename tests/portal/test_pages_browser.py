"""Every page of the portal in headless Chromium at a phone's 390×844 and a desk's 1280×800.

The pages are not listed by hand: the GET routes are read from the application itself, so a page added
later is checked without touching this file (a route with a path parameter needs an example value in
``PATH_EXAMPLES``, or its place in ``DOWNLOADS``; a test fails until it has one). Each page is opened as
a unit (市公安局) and as the office, and the login page anonymously; the rejected-upload answer is made by
posting a wrongly filled F1. On every page and viewport: the document does not scroll sideways, no text
is smaller than 12 px, there is exactly one ``<h1>``, no text tells the reader about command-line flags,
and axe-core finds no serious or critical violation. Screenshots go to ``test-output/portal/pages-*.png``.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from portal_helpers import NOW, PASSWORDS, TEST_OUTPUT, copy_home, fill_f1, running_portal

from tests.browser import ARGS, CHROMIUM, SMALLEST_TEXT

VIEWPORTS = {"phone": (390, 844), "desk": (1280, 800)}

# Routes with path parameters: example paths (pages), a listing page whose first matching link is followed
# (pages whose subjects exist only once made), or a file download.
PATH_EXAMPLES: dict[str, list[str]] = {
    "/leaders/{name:path}": ["/leaders/", "/leaders/tasks/task-1.html", "/leaders/units/xunyang.html"],
}
LINKED = {"/signoff/{kind}/{ref}": "/signoff"}
DOWNLOADS = {
    "/templates/{name}",
    "/files/{key}",
    "/editions/{kind}/{ref}/{name}",
    "/duban/{no}.pdf",
    "/cases/{case_id}/evidence",
    "/signoff/{kind}/{ref}/corrections/{number}/{name}",
}
# GET routes that are not pages a person reads.
NOT_PAGES = {"/healthz", "/contacts.xlsx"}

CHECKED: dict[str, int] = {}  # page-viewport → document width, written to pages-checked.json

pytestmark = pytest.mark.slow  # Debian chromium is installed by scripts/bootstrap.sh


def _get_routes(settings) -> list[str]:
    """The GET routes of the application as it is built today."""
    from fastapi.routing import APIRoute

    from portal.app import create_app
    from portal.config import PortalConfig

    config = PortalConfig(
        settings=settings, secret=b"route-listing-secret-" * 2, now_text=NOW, secure_cookies=False
    )
    app = create_app(config)
    return sorted(r.path for r in app.routes if isinstance(r, APIRoute) and "GET" in r.methods)


@pytest.fixture(scope="module")
def site(seeded, tmp_path_factory):
    settings = copy_home(seeded, tmp_path_factory.mktemp("pages") / "home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROADSAFE_", "AIRFLOW"))}
    env.update(
        ROADSAFE_HOME=str(settings.home),
        ROADSAFE_PORTAL_NOW=NOW,
        ROADSAFE_PORTAL_PLAIN_HTTP="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    log = TEST_OUTPUT / "pages-server.log"
    with running_portal(env, log) as (base, _startup):
        yield {"base": base, "settings": settings, "routes": _get_routes(settings)}
    (TEST_OUTPUT / "pages-checked.json").write_text(json.dumps(CHECKED, indent=1) + "\n", encoding="utf-8")
    assert "Traceback" not in log.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _pages(page, base: str, routes: list[str]) -> list[str]:
    """The paths to open: every GET route without parameters, the examples of those with, and the first
    link of a listing page that leads to a linked route."""
    paths = []
    for route in routes:
        if route in NOT_PAGES or route in DOWNLOADS:
            continue
        if route in LINKED:
            pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/?#]+", re.escape(route)) + "$"
            page.goto(base + LINKED[route], wait_until="domcontentloaded")
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
            paths += [h for h in hrefs if re.match(pattern, h.split("?")[0])][:1]
            continue
        paths += PATH_EXAMPLES.get(route, [route])
    return paths


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"


def _check(page, name: str) -> list[str]:
    """The problems of the page now open, at both viewports (screenshots kept)."""
    from axe_playwright_python.sync_playwright import Axe

    problems = []
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    for viewport, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        where = f"{name} @{viewport}"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            problems.append(f"{where}: document {scroll} px wide")
        smallest, element = page.evaluate(SMALLEST_TEXT)
        if smallest < 12:
            problems.append(f"{where}: text of {smallest} px ({element})")
        CHECKED[f"{name}-{viewport}"] = scroll
        h1 = page.locator("h1").count()
        if h1 != 1:
            problems.append(f"{where}: {h1} <h1>")
        if re.search(r"(^|\s)--[a-z]", page.inner_text("body")):
            problems.append(f"{where}: mentions a command-line flag")
        result = Axe().run(page)
        for v in result.response["violations"]:
            if v.get("impact") in ("serious", "critical"):
                problems.append(f"{where}: axe {v['id']} on {len(v['nodes'])} element(s)")
        page.screenshot(path=str(TEST_OUTPUT / f"pages-{name}-{viewport}.png"), full_page=True)
    return problems


def _login(page, base: str, login: str) -> None:
    page.goto(base + "/login", wait_until="domcontentloaded")
    page.fill("#login", login)
    page.fill("#password", PASSWORDS[login])
    page.click("#login-button")
    page.wait_for_load_state("domcontentloaded")
    assert "/login" not in page.url, page.inner_text("body")


def _visit_all(page, base: str, routes: list[str], role: str) -> tuple[list[str], set[str]]:
    problems, seen = [], set()
    for path in _pages(page, base, routes):
        response = page.goto(base + path, wait_until="domcontentloaded")
        assert response is not None and "text/html" in response.headers.get("content-type", ""), path
        landed = page.url.removeprefix(base)
        if landed in seen:  # a redirect to a page already checked
            continue
        seen.add(landed)
        problems += _check(page, f"{role}-{_slug(landed)}")
    return problems, seen


def test_every_route_with_a_parameter_has_an_example(site):
    known = PATH_EXAMPLES.keys() | LINKED.keys() | DOWNLOADS
    unknown = [r for r in site["routes"] if "{" in r and r not in known]
    assert unknown == [], f"add an example path for {unknown} to PATH_EXAMPLES"
    assert {"/", "/upload", "/history", "/office", "/login"} <= set(site["routes"])


def test_unit_pages_and_rejected_upload_fit_a_phone(site, browser, tmp_path):
    from ingest.templates import write_template

    base, settings = site["base"], site["settings"]
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        problems = _check_login_page(page, base)
        _login(page, base, "gongan")

        # the rejected-upload answer: a wrongly filled F1 of week 5
        template = write_template(settings.campaign(), "F1", "gongan", 5, tmp_path / "F1-tpl.xlsx")
        wrong = fill_f1(template, tmp_path / "重点车辆隐患清零周报（第5周）-市公安局.xlsx", 5, wrong=True)
        page.goto(base + "/upload", wait_until="domcontentloaded")
        page.set_input_files("#file", str(wrong))
        page.click("#upload-button")
        page.wait_for_selector("#upload-result", timeout=60000)
        assert page.get_attribute("#upload-result", "data-status") == "rejected"
        assert page.locator("#errors tr.msg-error").count() == 3
        problems += _check(page, "unit-upload-rejected")
        # on the phone each error is a card whose text runs the width of the screen, not a column of
        # four-character lines
        page.set_viewport_size({"width": 390, "height": 844})
        widths = page.eval_on_selector_all("#errors td.err-text", "els => els.map(e => e.offsetWidth)")
        assert len(widths) == 3 and min(widths) >= 250, widths

        more, seen = _visit_all(page, base, site["routes"], "unit")
        problems += more
        assert {"/", "/upload", "/history", "/templates"} <= seen
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


def test_office_pages_fit_a_phone(site, browser):
    base = site["base"]
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        _login(page, base, "office")
        # a draft edition, so that the sign-off page of one edition exists (the first one offered)
        page.goto(base + "/signoff", wait_until="domcontentloaded")
        with page.expect_navigation(timeout=120000):
            page.get_by_role("button", name="生成草稿").click()
        problems, seen = _visit_all(page, base, site["routes"], "office")
        assert {"/office", "/contacts", "/history", "/upload"} <= seen
        assert any(path.startswith("/signoff/") for path in seen), seen
        # a page that does not exist answers with the portal's own (Chinese) page
        response = page.goto(base + "/no-such-page", wait_until="domcontentloaded")
        assert response.status == 404
        problems += _check(page, "office-not-found")
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


def _check_login_page(page, base: str) -> list[str]:
    page.goto(base + "/", wait_until="domcontentloaded")
    assert "/login" in page.url  # anonymous: the login page
    return _check(page, "anonymous-login")
