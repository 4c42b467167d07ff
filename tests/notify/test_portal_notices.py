"""The portal's 催报与督办 page: a unit sees its own notices and 督办单 only; the office sees the candidates,
issues a 督办单 with a click (CSRF-checked), and it is sent like the editions."""

from __future__ import annotations

import io
import re

import duckdb
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from notify_helpers import at

from application.reminders import run_reminders
from portal.app import create_app
from portal.config import PortalConfig
from portal.store import Store

PASSWORDS = {"office": "Office-Portal-2022", "xunyang": "Xunyang-Portal-2022"}


def _publish_ledger(settings) -> None:
    """Copy the ledger into the published snapshot (as the next build's publish does)."""
    con = duckdb.connect(str(settings.published))
    try:
        con.execute(f"attach '{settings.warehouse}' as w (read_only)")
        con.execute(
            "create schema ops; create table ops.notice_attempts as select * from w.ops.notice_attempts"
        )
    finally:
        con.close()


def _client(settings, user: str) -> TestClient:
    store = Store(settings.home / "portal" / "users.sqlite3")
    hasher = PasswordHasher()
    for login, unit in (("office", None), ("xunyang", "xunyang")):
        if store.get_user(login) is None:
            store.add_user(login, unit, "office" if unit is None else "unit", hasher.hash(PASSWORDS[login]))
    config = PortalConfig(
        settings=settings,
        secret=b"portal-test-secret-" * 3,
        now_text="2022-04-18T10:00:00+08:00",
        secure_cookies=False,
    )
    client = TestClient(create_app(config), raise_server_exceptions=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"login": user, "password": PASSWORDS[user], "csrf_token": token})
    return client


@pytest.fixture
def published(world, robots, smtp):
    run_reminders(world, at(14, 12), delays=())
    run_reminders(world, at(16, 12), delays=())
    _publish_ledger(world)
    return world


def test_a_unit_sees_its_own_notices_and_the_office_issues_a_duban(published, smtp):
    with _client(published, "xunyang") as unit:
        page = unit.get("/notices")
        assert page.status_code == 200
        assert "催报与督办：浔阳区" in page.text and "逾期通知" in page.text and "逾期督促" in page.text
        assert "sunhong@example.org" not in page.text  # another unit's contacts stay hidden
        assert unit.get("/notices?unit=chaisang").status_code == 403
        assert unit.post("/duban", data={"unit": "xunyang"}).status_code == 403
    with _client(published, "office") as office:
        page = office.get("/notices")
        assert "未送达的通知" in page.text and "wuning" not in page.text  # shown by subject, not by id
        assert "【逾期未报通知】" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        assert office.post("/duban", data={"unit": "chaisang", "csrf_token": "bad"}).status_code == 403
        sent = len(smtp.messages)
        issued = office.post("/duban", data={"unit": "chaisang", "csrf_token": token}, follow_redirects=False)
        assert issued.status_code == 303 and issued.headers["location"] == "/notices?unit=chaisang"
        assert len(smtp.messages) == sent + 1 and "督办单" in str(smtp.parsed()[-1]["Subject"])
        pdf = office.get("/duban/1.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with _client(published, "xunyang") as unit:
        assert unit.get("/duban/1.pdf").status_code == 403  # addressed to 柴桑区
        assert "尚未印发督办单" in unit.get("/notices").text


def test_the_office_replaces_the_contacts_list_in_the_portal(published, tmp_path):
    import openpyxl

    from roadsafe.contacts import load_contacts

    with _client(published, "xunyang") as unit:
        assert unit.get("/contacts").status_code == 403
        assert unit.get("/contacts.xlsx").status_code == 403
    with _client(published, "office") as office:
        page = office.get("/contacts")
        assert "sunhong@example.org" in page.text and "cgi-bin" not in page.text  # robot keys never shown
        exported = office.get("/contacts.xlsx")
        book = openpyxl.load_workbook(io.BytesIO(exported.content))
        sheet = book.active
        sheet.append(["九江市修水县人民政府", "朱华", "13607921111", "zhuhua@example", "", "", "", ""])
        bad = io.BytesIO()
        book.save(bad)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        files = {"file": ("名单.xlsx", bad.getvalue(), "application/octet-stream")}
        refused = office.post("/contacts", data={"csrf_token": token}, files=files)
        assert refused.status_code == 400
        assert "第6行（单位：修水县）“邮箱”列：“zhuhua@example”不是有效的电子邮箱地址" in refused.text
        assert "xiushui" not in load_contacts(published)
        sheet.cell(row=6, column=4, value="zhuhua@example.org")
        good = io.BytesIO()
        book.save(good)
        files = {"file": ("名单.xlsx", good.getvalue(), "application/octet-stream")}
        saved = office.post("/contacts", data={"csrf_token": token}, files=files)
        assert saved.status_code == 200 and "已保存联络员名单，共 5 行" in saved.text
        assert load_contacts(published)["xiushui"].email == "zhuhua@example.org"
        assert load_contacts(published)["chaisang"].robot_secret  # the robot secret survives the round trip
