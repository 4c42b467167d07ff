"""The leaders' pages behind the portal's login, on a real ``roadsafe portal`` process over HTTP: who may read
what (anonymous → login, a leader and the office every page, a unit only its own), a newly published
snapshot showing on the next request with no rebuild, and the accounts file of an older portal migrated
to accept the ``leader`` role."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from dash_helpers import FROZEN_AT

sys.path.insert(0, str(Path(__file__).parents[1] / "portal"))

from leaders_setup import TEST_OUTPUT  # noqa: E402
from portal_helpers import csrf_of, running_portal, text_of  # noqa: E402

ROADSAFE = str(Path(sys.executable).parent / "roadsafe")
ACCOUNTS = {
    "lingdao": (["--leader"], "Lingdao#View-2022"),
    "zzb": (["--office"], "Zhengzhiban#View-2022"),
    "xunyang.web": (["--unit", "浔阳区"], "Xunyang#View-2022"),
}


def _cli(args, env, stdin=None):
    return subprocess.run(
        [ROADSAFE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def portal(leaders_settings, tmp_path_factory):
    """A running portal on a copy of the leaders' home, with a leader, the office and 浔阳区's clerk."""
    home = tmp_path_factory.mktemp("leaders-portal") / "home"
    shutil.copytree(leaders_settings.home, home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROADSAFE_", "AIRFLOW"))}
    env.update(
        ROADSAFE_HOME=str(home),
        ROADSAFE_CAMPAIGN="jiujiang-2022",
        ROADSAFE_PORTAL_NOW=FROZEN_AT.isoformat(),
        ROADSAFE_PORTAL_PLAIN_HTTP="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for login, (who, password) in ACCOUNTS.items():
        done = _cli(["user", "add", login, *who, "--password-stdin"], env, stdin=password + "\n")
        assert done.returncode == 0, done.stderr
    listed = _cli(["user", "list"], env).stdout
    assert "lingdao\t-\tleader\tyes" in listed
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    log = TEST_OUTPUT / "portal-server.log"
    with running_portal(env, log) as (base, _startup):
        yield {"base": base, "home": home}
    assert "Traceback" not in log.read_text(encoding="utf-8")


@contextlib.contextmanager
def _client(portal, login: str | None = None):
    with httpx.Client(base_url=portal["base"], follow_redirects=False, timeout=60) as client:
        if login:
            page = client.get("/login")
            resp = client.post(
                "/login",
                data={
                    "login": login,
                    "password": ACCOUNTS[login][1],
                    "csrf_token": csrf_of(page.text),
                    "next": "/",
                },
            )
            assert resp.status_code == 303, resp.text
        yield client


def _lead_task(marts, unit_id: str, member: bool) -> int:
    sql = "select min(task_no) from ref.tasks where task_no {} (select task_no from ref.task_units where unit_id = ?)"
    return marts.execute(sql.format("in" if member else "not in"), [unit_id]).fetchone()[0]


def test_anonymous_requests_get_the_login_page(portal):
    with _client(portal) as c:
        for path in ("/leaders/", "/leaders/units/xunyang.html", "/leaders/tasks/task-04.html"):
            resp = c.get(path)
            assert resp.status_code == 303, path
            assert resp.headers["location"].startswith("/login?next=" + path.replace("/", "%2F")), path
        assert "用户登录" in text_of(c.get("/login?next=%2Fleaders%2F").text)


def test_a_leader_reads_every_page_and_nothing_else(portal, marts):
    units = [
        r[0]
        for r in marts.execute(
            "select unit_id from ref.units where kind in ('county', 'department')"
        ).fetchall()
    ]
    with _client(portal, "lingdao") as c:
        assert c.get("/").headers["location"] == "/leaders/"
        front = c.get("/leaders/")
        assert front.status_code == 200 and 'id="glance"' in front.text
        assert "lingdao" in front.text and "退出登录" in front.text
        for unit_id in units:
            assert c.get(f"/leaders/units/{unit_id}.html").status_code == 200, unit_id
        assert c.get("/leaders/tasks/task-04.html").status_code == 200
        for path in ("/upload", "/history", "/office", "/templates"):
            resp = c.get(path)
            assert resp.status_code == 403, path
            assert "无权访问" in text_of(resp.text)
        assert c.get("/leaders/units/nowhere.html").status_code == 404


def test_a_unit_reads_only_its_own_page_and_its_tasks(portal, marts):
    own_task, other_task = _lead_task(marts, "xunyang", True), _lead_task(marts, "xunyang", False)
    with _client(portal, "xunyang.web") as c:
        mine = c.get("/leaders/units/xunyang.html")
        assert mine.status_code == 200 and "<h1>浔阳区</h1>" in mine.text
        assert c.get(f"/leaders/tasks/task-{own_task:02d}.html").status_code == 200
        for path in (
            "/leaders/",
            "/leaders/units/lianxi.html",
            "/leaders/units/gongan.html",
            f"/leaders/tasks/task-{other_task:02d}.html",
        ):
            resp = c.get(path)
            assert resp.status_code == 403, path
            assert "无权访问" in text_of(resp.text), path


def test_the_office_reads_every_page(portal):
    with _client(portal, "zzb") as c:
        for path in ("/leaders/", "/leaders/units/lianxi.html", "/leaders/tasks/task-01.html", "/leaders"):
            assert c.get(path).status_code in (200, 303), path
        assert c.get("/leaders/units/gongan.html").status_code == 200


def _glance_count(html: str, status: str) -> int:
    import re

    return int(re.search(rf'<span class="n">(\d+)</span><span class="lbl">{status}</span>', html).group(1))


def test_a_newly_published_snapshot_shows_on_the_next_request(portal):
    published = portal["home"] / "published" / "warehouse.duckdb"
    with _client(portal, "lingdao") as c:
        first = c.get("/leaders/")
        t0 = time.perf_counter()
        again = c.get("/leaders/")
        cached = time.perf_counter() - t0
        assert again.text.split('<nav class="account"')[1] == first.text.split('<nav class="account"')[1]
        # the next build: one task that was overdue is now done (as dbt would have it), published atomically
        con = duckdb.connect(str(published), read_only=True)
        period = con.execute(
            "select max(period_no) from ref.periods where due_at <= ?", [FROZEN_AT]
        ).fetchone()[0]
        task = con.execute(
            "select min(task_no) from marts.fct_task_status where period_no = ? and status = '逾期未完成'",
            [period],
        ).fetchone()[0]
        con.close()
        assert task is not None
        fresh = published.with_name(".publishing.duckdb")
        shutil.copy2(published, fresh)
        con = duckdb.connect(str(fresh))
        con.execute(
            "update marts.fct_task_status set status = '已完成' where task_no = ? and period_no = ?",
            [task, period],
        )
        done = con.execute(
            "select count(*) from marts.fct_task_status where period_no = ? and status = '已完成'", [period]
        ).fetchone()[0]
        con.close()
        os.replace(fresh, published)
        t0 = time.perf_counter()
        after = c.get("/leaders/")
        rendered = time.perf_counter() - t0
        assert _glance_count(first.text, "已完成") == done - 1
        assert _glance_count(after.text, "已完成") == done
        task_page = c.get(f"/leaders/tasks/task-{task:02d}.html").text
        assert '<span class="tag tag-done">已完成</span>' in task_page
    (TEST_OUTPUT / "portal-timings.txt").write_text(
        f"front page from memory: {cached * 1000:.1f} ms\nfront page after a new snapshot: {rendered * 1000:.1f} ms\n",
        encoding="utf-8",
    )
    assert cached < rendered


def test_an_older_accounts_file_is_migrated_to_accept_leaders(tmp_path):
    from portal.store import Store

    path = tmp_path / "portal" / "users.sqlite3"
    path.parent.mkdir()
    con = sqlite3.connect(path)
    con.execute(
        "create table users (login text primary key, unit_id text, role text not null check (role in ('unit', 'office')), "
        "password_hash text not null, enabled integer not null default 1, created_at text not null, "
        "updated_at text not null, last_login_at text)"
    )
    con.execute("insert into users values ('old', 'gongan', 'unit', 'h', 1, 'c', 'u', null)")
    con.commit()
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("insert into users values ('x', null, 'leader', 'h', 1, 'c', 'u', null)")
    con.close()
    store = Store(path)
    assert store.get_user("old").role == "unit"
    assert store.add_user("lingdao", None, "leader", "h").is_leader
    assert Store(path).get_user("lingdao").role == "leader"  # a second open finds it done
    with pytest.raises(ValueError):  # the check still refuses any other role
        store.add_user("bad", None, "admin", "h")


# --------------------------------------------------------------------------- the pages in Chromium

VIEWPORTS = {"phone": (390, 844), "desk": (1280, 800)}


@pytest.fixture(scope="module")
def leader_browser(portal):
    """Chromium logged in as the leader through the portal's login page."""
    from playwright.sync_api import sync_playwright

    from tests.browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(locale="zh-CN")
            page = context.new_page()
            page.goto(portal["base"] + "/leaders/")
            assert "/login" in page.url
            page.fill("#login", "lingdao")
            page.fill("#password", ACCOUNTS["lingdao"][1])
            page.click("#login-button")
            page.wait_for_load_state("load")
            assert page.url.endswith("/leaders/")
            page.close()
            yield context
        finally:
            browser.close()


def _expected(marts, name: str) -> list[str]:
    """Figures the page must show, computed from the marts of the live snapshot."""
    from dashboards.formatting import fmt_value

    period = marts.execute(
        "select max(period_no) from ref.periods where due_at <= ?", [FROZEN_AT]
    ).fetchone()[0]
    if name == "task":
        status = marts.execute(
            "select status from marts.fct_task_status where task_no = 4 and period_no = ?", [period]
        ).fetchone()[0]
        actual, kind = marts.execute(
            "select v.actual, i.kind from marts.fct_indicator_values v join ref.indicators i using (indicator_code) "
            "join ref.indicator_tasks t using (indicator_code) join ref.units u using (unit_id) "
            "where t.task_no = 4 and v.period_no = ? and u.kind in ('city', 'group') "
            "order by v.indicator_code, u.sort_order limit 1",
            [period],
        ).fetchone()
        return [status, f"实际 {fmt_value(actual, kind)}"]
    if name == "unit":
        rows = marts.execute(
            "select i.name, v.actual, i.kind from marts.fct_indicator_values v join ref.indicators i using (indicator_code) "
            "where v.unit_id = 'xunyang' and v.period_no = ?",
            [period],
        ).fetchall()
        expected, received = marts.execute(
            "select count(*), count(first_received_at) filter (where first_received_at <= due_at) "
            "from marts.fct_submission_compliance where unit_id = 'xunyang' and period_no <= ?",
            [period],
        ).fetchone()
        return [f"{name}（浔阳区）\t{fmt_value(a, k)}" for name, a, k in rows] + [
            f"（{received}/{expected}）"
        ]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize(
    "name,path",
    [
        ("front", "/leaders/"),
        ("task", "/leaders/tasks/task-04.html"),
        ("unit", "/leaders/units/xunyang.html"),
    ],
)
def test_pages_fit_read_and_pass_axe_in_chromium(portal, leader_browser, marts, name, path, viewport):
    from axe_playwright_python.sync_playwright import Axe

    from tests.browser import SMALLEST_TEXT

    width, height = VIEWPORTS[viewport]
    page = leader_browser.new_page()
    page.set_viewport_size({"width": width, "height": height})
    outside: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith((portal["base"], "data:")) else outside.append(r.url)
    )
    try:
        t0 = time.perf_counter()
        page.goto(portal["base"] + path, wait_until="load")
        drawn = time.perf_counter() - t0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        smallest, where = page.evaluate(SMALLEST_TEXT)
        assert smallest >= 12, where
        assert page.locator("h1").count() == 1
        assert "数据截至" in page.inner_text(".stamp")
        text = page.inner_text("main")
        table_text = "\n".join(page.locator("table.grid tr").all_inner_texts())
        for figure in _expected(marts, name):
            assert figure in text or figure in table_text, figure
        page.screenshot(path=str(TEST_OUTPUT / f"{name}-portal-{viewport}.png"), full_page=True)
        page.screenshot(path=str(TEST_OUTPUT / f"{name}-portal-{viewport}-first-screen.png"))
        result = Axe().run(page)
        serious = [
            (v["id"], [n["target"] for n in v["nodes"]][:3])
            for v in result.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert serious == []
        assert outside == []
        assert drawn < 5
    finally:
        page.close()
