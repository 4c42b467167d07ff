"""The portal in headless Chromium (Debian's /usr/bin/chromium driven by Playwright), against a real
``roadsafe portal`` process started on a free loopback port:

log in as 市公安局 → download the F1 template → upload it filled in wrongly and read the Chinese errors
(sheet, row, column) on the page → upload the corrected file and see it accepted (the receipt) → log in
as 浔阳区 and fail to see 市公安局's submissions. Also the first visit of a unit with nothing sent yet and
the office's matrix. Screenshots and the measured times go to ``test-output/portal/``.

Accounts are made with ``roadsafe user add … --password-stdin``; the Airflow REST API is a fake one in this
process, so the asset events the portal posts are checked too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from portal_helpers import NOW, TEST_OUTPUT, FakeAirflow, copy_home, fill_f1, receipts, running_portal

from tests.browser import ARGS, CHROMIUM

ROADSAFE = str(Path(sys.executable).parent / "roadsafe")
ACCOUNTS = {
    "gongan.web": ("市公安局", "Gongan#Web-2022"),
    "xunyang.web": ("浔阳区", "Xunyang#Web-2022"),
    "jiaotong.web": ("市交通运输局", "Jiaotong#Web-2022"),
    "zzb.web": (None, "Zhengzhiban#Web-2022"),
}

pytestmark = pytest.mark.slow  # Debian chromium is installed by scripts/bootstrap.sh


def _cli(args, env, stdin=None):
    return subprocess.run(
        [ROADSAFE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def airflow():
    with FakeAirflow(username="roadsafe_portal", password="af-secret") as fake:
        yield fake


@pytest.fixture(scope="module")
def portal(seeded, tmp_path_factory, airflow):
    """A running ``roadsafe portal`` on a free port: (base URL, settings, env)."""
    settings = copy_home(seeded, tmp_path_factory.mktemp("browser") / "home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROADSAFE_", "AIRFLOW"))}
    env.update(
        ROADSAFE_HOME=str(settings.home),
        ROADSAFE_PORTAL_NOW=NOW,
        ROADSAFE_PORTAL_PLAIN_HTTP="1",
        ROADSAFE_AIRFLOW_URL=airflow.url,
        ROADSAFE_AIRFLOW_USER="roadsafe_portal",
        ROADSAFE_AIRFLOW_PASSWORD="af-secret",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for login, (unit, password) in ACCOUNTS.items():
        who = ["--unit", unit] if unit else ["--office"]
        done = _cli(["user", "add", login, *who, "--password-stdin"], env, stdin=password + "\n")
        assert done.returncode == 0, done.stderr
        assert "已创建账号" in done.stdout and password not in done.stdout
    listed = _cli(["user", "list"], env)
    assert "gongan.web\t市公安局\tunit\tyes" in listed.stdout
    weak = _cli(["user", "add", "weak", "--unit", "市公安局", "--password-stdin"], env, stdin="123\n")
    assert weak.returncode == 2 and "密码至少需要" in weak.stderr

    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    log = TEST_OUTPUT / "portal-server.log"
    with running_portal(env, log) as (base, startup):
        secret = settings.home / "portal" / "secret"
        assert secret.is_file() and (secret.stat().st_mode & 0o777) == 0o600
        yield {"base": base, "settings": settings, "env": env, "startup": startup}
    assert "Traceback" not in log.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
            locale="zh-CN",
            accept_downloads=True,
        )
        try:
            yield context
        finally:
            context.close()


class Watch:
    """Console errors, failed requests and every URL a page asked for."""

    def __init__(self, page):
        self.console, self.failed, self.urls = [], [], []
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(r.url))
        page.on("request", lambda r: self.urls.append(r.url))


def _shot(page, name):
    page.screenshot(path=str(TEST_OUTPUT / name), full_page=True)


def _login(page, base, login, password):
    page.goto(base + "/", wait_until="networkidle")
    assert "/login" in page.url
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_load_state("networkidle")


def _logout(page):
    page.click("header .who button")
    page.wait_for_load_state("networkidle")
    assert "已安全退出" in page.inner_text("body")


def _upload(page, base, path):
    page.goto(base + "/upload", wait_until="networkidle")
    page.set_input_files("#file", str(path))
    t0 = time.monotonic()
    page.click("#upload-button")
    page.wait_for_selector("#upload-result", timeout=60000)
    return time.monotonic() - t0


def test_unit_flow_in_chromium(browser, portal, airflow, tmp_path):
    base, settings = portal["base"], portal["settings"]
    measures = {"portal_startup_seconds": round(portal["startup"], 2)}
    page = browser.new_page()
    watch = Watch(page)

    # --- log in as 市公安局
    page.goto(base + "/", wait_until="networkidle")
    assert "用户登录" in page.inner_text("body")
    _shot(page, "01-login.png")
    page.fill("#login", "gongan.web")
    page.fill("#password", "wrong-password")
    page.click("#login-button")
    assert "账号或密码错误" in page.inner_text("#login-error")
    t0 = time.monotonic()
    page.fill("#password", ACCOUNTS["gongan.web"][1])
    page.click("#login-button")
    page.wait_for_selector("#this-week")
    measures["login_to_tasks_seconds"] = round(time.monotonic() - t0, 2)
    body = page.inner_text("body")
    assert "市公安局" in body and "第5周（5月5日至5月11日）" in body
    assert "距截止还有" in body and "2022年5月12日（周四）12:00" in body
    assert page.inner_text("#this-week tr[data-form=F1] td:nth-child(3)") == "未报送"
    _shot(page, "02-tasks-gongan.png")

    # --- download the F1 template
    page.click("nav.main >> text=下载模板")
    page.wait_for_selector("#template-list")
    _shot(page, "03-templates.png")
    t0 = time.monotonic()
    with page.expect_download() as info:
        page.click("#tpl-F1")
    download = info.value
    template = tmp_path / "F1-template.xlsx"
    download.save_as(template)
    measures["template_download_seconds"] = round(time.monotonic() - t0, 2)
    assert download.suggested_filename == "重点车辆隐患清零周报（第5周）-市公安局.xlsx"

    # --- upload it filled in wrongly: the errors, in Chinese, with sheet, row and column
    wrong = fill_f1(template, tmp_path / "重点车辆隐患清零周报（第5周）-市公安局.xlsx", 5, wrong=True)
    measures["upload_rejected_click_to_answer_seconds"] = round(_upload(page, base, wrong), 2)
    result = page.inner_text("#upload-result")
    assert "未受理" in result and "有3处错误" in result
    county = {r: openpyxl.load_workbook(wrong).worksheets[0].cell(r, 1).value for r in (6, 7)}
    assert f"第6行（{county[6]}）“检验情况/已检验数”列：数值“七百多”无法识别，请填写不小于0的整数" in result
    assert f"第7行（{county[7]}）“重点车辆总数”列：数值“-5”为负数" in result
    rows = page.locator("#errors tr.msg-error")
    assert rows.count() == 3
    first = [rows.nth(0).locator("td").nth(i).inner_text() for i in range(6)]
    assert first == ["1", "错误", "重点车辆隐患清零周报", "6", "检验情况/已检验数", "七百多"]
    _shot(page, "04-upload-errors.png")

    # --- the corrected file: accepted, the receipt on the same page
    corrected = fill_f1(template, tmp_path / "重点车辆隐患清零周报（第5周）-市公安局（更正）.xlsx", 5)
    size_kb = corrected.stat().st_size / 1024
    measures["upload_accepted_click_to_receipt_seconds"] = round(_upload(page, base, corrected), 2)
    measures["typical_file"] = f"F1, 15 rows, {size_kb:.1f} KB (.xlsx from the template)"
    result = page.inner_text("#upload-result")
    assert page.get_attribute("#upload-result", "data-status") == "accepted"
    assert "已受理：市公安局 报送的《重点车辆隐患清零周报》第5周，共15行，按时报送。回执编号 R" in result
    assert "系统正在入库" in result
    _shot(page, "05-upload-accepted.png")

    # both files are on record as pending receipts, and Airflow was told of each
    mine = receipts(settings)
    assert [r["original_name"] for r in mine] == [wrong.name, corrected.name]
    assert all(r["channel"] == "portal" and r["submitted_by"] == "gongan.web" for r in mine)
    assert [e["extra"]["receipt_id"] for e in airflow.events] == [r["receipt_id"] for r in mine]
    assert len(mine) == 2

    # more of the same to measure: the corrected F1 of weeks 6..10 (warm server), click to receipt
    times = []
    for week in range(6, 11):
        with page.expect_download() as info:
            page.goto(base + "/templates", wait_until="networkidle")
            page.evaluate(f"window.location = '/templates/F1.xlsx?week={week}'")
        tpl = tmp_path / f"tpl-{week}.xlsx"
        info.value.save_as(tpl)
        filled = fill_f1(tpl, tmp_path / f"重点车辆隐患清零周报（第{week}周）-市公安局.xlsx", week)
        times.append(_upload(page, base, filled))
        assert "已受理" in page.inner_text("#receipt-text")
    times.sort()
    measures["upload_accepted_warm_seconds"] = {
        "median": round(times[len(times) // 2], 2),
        "min": round(times[0], 2),
        "max": round(times[-1], 2),
        "n": len(times),
    }

    page.click("nav.main >> text=我的填报任务")
    page.wait_for_selector("#this-week")
    assert page.inner_text("#this-week tr[data-form=F1] td:nth-child(3)") == "已接收，待入库"
    page.click("nav.main >> text=报送历史")
    page.wait_for_selector("#history")
    history = page.inner_text("#history")
    assert wrong.name in history and corrected.name in history and "市公安局-F1-第4周.xlsx" in history
    _shot(page, "06-history-gongan.png")
    _logout(page)

    # --- 浔阳区 cannot see 市公安局's submissions
    _login(page, base, "xunyang.web", ACCOUNTS["xunyang.web"][1])
    body = page.inner_text("body")
    assert "浔阳区" in body and "市公安局" not in body
    page.goto(base + "/history", wait_until="networkidle")
    history = page.inner_text("#history")
    assert "浔阳区-F1-第4周.xlsx" in history
    for name in (wrong.name, corrected.name, "市公安局-F1-第4周.xlsx"):
        assert name not in history
    _shot(page, "07-history-xunyang.png")
    response = page.goto(base + "/history?unit=gongan", wait_until="networkidle")
    assert response.status == 403 and "无权查看或报送其他单位" in page.inner_text("#error-message")
    _shot(page, "08-forbidden.png")
    response = page.goto(base + f"/files/{mine[1]['receipt_id']}", wait_until="networkidle")
    assert response.status == 404
    page.goto(base + "/", wait_until="networkidle")
    _logout(page)

    # --- the first visit of a unit that has sent nothing yet
    t0 = time.monotonic()
    _login(page, base, "jiaotong.web", ACCOUNTS["jiaotong.web"][1])
    measures["first_visit_login_to_page_seconds"] = round(time.monotonic() - t0, 2)
    body = page.inner_text("body")
    assert "欢迎使用" in page.inner_text("#first-visit") and "下载模板" in body
    assert "0 / 3 份报表已受理" in body
    _shot(page, "09-first-visit-jiaotong.png")
    measures["first_visit_sees"] = [line for line in page.inner_text("main").splitlines() if line.strip()][
        :40
    ]
    _logout(page)

    # --- the office: the whole matrix
    _login(page, base, "zzb.web", ACCOUNTS["zzb.web"][1])
    page.wait_for_selector("#matrix")
    matrix = page.inner_text("#matrix")
    assert "市公安局" in matrix and "浔阳区" in matrix and "已接收，待入库" in matrix
    _shot(page, "10-office-matrix.png")
    page.goto(base + "/office?week=4", wait_until="networkidle")
    assert "已受理" in page.inner_text("#matrix")
    _logout(page)

    # the only console lines are the statuses of the documents this test asked for on purpose
    # (the wrong password 401, the other unit's history 403, the other unit's file 404)
    expected = [f"status of {n}" for n in (401, 403, 404)]
    assert [m for m in watch.console if not any(e in m for e in expected)] == [], watch.console
    assert len(watch.console) == 3, watch.console
    # a download ends its navigation request as "aborted" in Chromium: that one is expected
    assert [u for u in watch.failed if "/templates/F1.xlsx" not in u] == [], watch.failed
    assert all(u.startswith(base) for u in watch.urls), [u for u in watch.urls if not u.startswith(base)]
    page.close()

    (TEST_OUTPUT / "measurements.json").write_text(json.dumps(measures, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({k: v for k, v in measures.items() if k != "first_visit_sees"}, ensure_ascii=False))
