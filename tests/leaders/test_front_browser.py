"""The leaders' front page in headless Chromium (Debian's /usr/bin/chromium driven by Playwright) at a phone's
390×844 and a desk's 1280×800: no horizontal scroll, no text under 12 px, the five parts on screen, no request
leaves the page, and axe-core finds no serious or critical violation. Screenshots go to test-output/leaders/."""

from __future__ import annotations

import pytest

from tests.browser import ARGS, CHROMIUM, SMALLEST_TEXT

VIEWPORTS = {"phone": (390, 844), "desk": (1280, 800)}
PARTS = ("glance", "behind", "ranking", "map", "timeliness")

pytestmark = pytest.mark.slow  # Debian chromium is installed by scripts/bootstrap.sh


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def front_file(front_html, tmp_path_factory):
    path = tmp_path_factory.mktemp("leaders-site") / "index.html"
    path.write_text(front_html, encoding="utf-8")
    return path


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_front_page_fits_reads_and_passes_axe(browser, front_file, test_output, viewport):
    from axe_playwright_python.sync_playwright import Axe

    width, height = VIEWPORTS[viewport]
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "about:")) else outside.append(r.url))
    try:
        page.goto(front_file.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        smallest, where = page.evaluate(SMALLEST_TEXT)
        assert smallest >= 12, where
        assert page.locator("h1").count() == 1
        for part in PARTS:
            assert page.locator(f"section#{part} h2").is_visible(), part
        page.screenshot(path=str(test_output / f"front-{viewport}.png"), full_page=True)
        page.screenshot(path=str(test_output / f"front-{viewport}-first-screen.png"))
        result = Axe().run(page)
        serious = [
            (v["id"], len(v["nodes"]))
            for v in result.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert serious == []
        assert outside == []
    finally:
        page.close()
