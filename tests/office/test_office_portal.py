"""The office's pages in the portal (the real application; a published snapshot built by the real dbt from
the portal tests' seeded home: week 4's F1 of 市公安局 and of 浔阳区): units get 403 on every office action
and see only their own returns and cases; the office returns a file (the unit is told by e-mail through a
real SMTP server on loopback), opens a case, records an action and closes it with evidence; every entry is
on record with who, when and why."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "portal"))

from portal_helpers import NOW, PASSWORDS, add_users, copy_home, csrf_of, seed_home, text_of  # noqa: E402

from roadsafe.contacts import Contact, save_contacts  # noqa: E402
from roadsafe.office_record import OfficeRecord  # noqa: E402
from tests.mailbox import running_mailbox, use_mailbox  # noqa: E402

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    settings = seed_home(tmp_path_factory.mktemp("office-portal") / "home")
    add_users(settings)
    return settings.home


@pytest.fixture
def smtp(monkeypatch):
    with running_mailbox() as box:
        yield use_mailbox(monkeypatch, box, "roadsafe@jiujiang.example.gov.cn")


@pytest.fixture
def portal(seeded, tmp_path, smtp):
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.config import PortalConfig

    settings = copy_home(seeded, tmp_path / "home")
    save_contacts(settings, {"xunyang": Contact("xunyang", "浔阳区", "王丽", None, "wangli@example.org")})
    config = PortalConfig(settings=settings, secret=b"portal-test-secret-" * 3, now_text=NOW, secure_cookies=False)
    clients = []

    def client_for(user: str):
        client = TestClient(create_app(config), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"login": user, "password": PASSWORDS[user], "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return client

    yield settings, client_for
    for c in clients:
        c.__exit__(None, None, None)


def _xunyang_f1(settings) -> str:
    import duckdb

    con = duckdb.connect(str(settings.published), read_only=True)
    try:
        return con.execute(
            "select submission_id from marts.fct_submissions where unit_id = 'xunyang' and form_code = 'F1' "
            "and is_current"
        ).fetchall()[0][0]
    finally:
        con.close()


def test_units_get_403_on_office_actions_and_see_only_their_own(portal):
    settings, client_for = portal
    unit = client_for("gongan")
    csrf = csrf_of(unit.get("/").text)
    posts = {
        "/review/return": {"submission_id": _xunyang_f1(settings), "reason": "想退回别人的"},
        "/review/excuse": {"unit": "gongan", "form": "F1", "period": "3", "reason": "自己说明"},
        "/cases/open": {"unit": "xunyang", "kind": "listed", "title": "x", "reason": "y"},
        "/cases/action": {"case_id": "C0001", "action": "x", "on_date": "2022-05-10"},
    }
    for path, data in posts.items():
        answer = unit.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
    closing = unit.post(
        "/cases/close",
        data={"csrf_token": csrf, "case_id": "C0001", "reason": "x"},
        files={"evidence": ("a.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert closing.status_code == 403
    assert OfficeRecord(settings.home).entries() == []  # nothing was recorded
    assert unit.get("/review?unit=xunyang").status_code == 403
    assert unit.get("/cases?unit=xunyang").status_code == 403
    page = unit.get("/review").text
    assert "退回报送文件" not in page and 'action="/review/return"' not in page  # read-only for a unit


def test_office_returns_a_file_and_the_unit_sees_it_and_is_told(portal, smtp):
    settings, client_for = portal
    office = client_for("office")
    sid = _xunyang_f1(settings)
    csrf = csrf_of(office.get("/review").text)
    answer = office.post(
        "/review/return",
        data={"csrf_token": csrf, "submission_id": sid, "reason": "应检验数与台账不符，请核实后重报"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    again = office.post(
        "/review/return", data={"csrf_token": csrf, "submission_id": sid, "reason": "再退"}, follow_redirects=False
    )
    assert again.status_code == 409 and "已退回过" in text_of(again.text)
    no_reason = office.post(
        "/review/return", data={"csrf_token": csrf, "submission_id": sid, "reason": " "}, follow_redirects=False
    )
    assert no_reason.status_code == 409
    (entry,) = OfficeRecord(settings.home).entries("jiujiang-2022")
    assert (entry["kind"], entry["by"], entry["submission_id"]) == ("return", "portal:office", sid)
    assert entry["reason"] == "应检验数与台账不符，请核实后重报" and entry["at"].startswith("2022-05-11T15:00")
    listing = text_of(office.get("/review").text)
    assert sid in listing and "待生效" in listing and "portal:office" in listing

    mails = smtp.parsed()
    assert len(mails) == 1 and mails[0]["To"] == "wangli@example.org"
    assert "退回通知" in mails[0]["Subject"] and "应检验数与台账不符" in mails[0].get_body().get_content()

    unit = client_for("xunyang")
    home = text_of(unit.get("/").text)
    assert "已被退回" in home and sid in home and "应检验数与台账不符" in home
    assert sid in text_of(unit.get("/review").text)
    other = client_for("gongan")
    assert sid not in text_of(other.get("/review").text) and "已被退回" not in text_of(other.get("/").text)


def test_a_case_is_opened_acted_on_and_closed_with_evidence(portal):
    settings, client_for = portal
    office = client_for("office")
    csrf = csrf_of(office.get("/cases").text)
    opened = office.post(
        "/cases/open",
        data={"csrf_token": csrf, "unit": "xunyang", "kind": "interview", "task": "3", "source": "manual",
              "title": "隐患清零滞后约谈", "reason": "连续三周滞后于序时进度"},
        follow_redirects=False,
    )  # fmt: skip
    assert opened.status_code == 303, opened.text
    acted = office.post(
        "/cases/action",
        data={"csrf_token": csrf, "case_id": "C0001", "action": "约谈区政府分管负责人", "on_date": "2022-05-10"},
        follow_redirects=False,
    )
    assert acted.status_code == 303, acted.text
    unit = client_for("xunyang")
    home = text_of(unit.get("/").text)
    assert "未销号的督办案件" in home and "隐患清零滞后约谈" in home
    assert "约谈区政府分管负责人" in text_of(unit.get("/cases").text)
    assert "隐患清零滞后约谈" not in text_of(client_for("gongan").get("/cases").text)

    exe = office.post(
        "/cases/close",
        data={"csrf_token": csrf, "case_id": "C0001", "reason": "已整改"},
        files={"evidence": ("整改报告.pdf", b"MZ\x90\x00pretending", "application/pdf")},
        follow_redirects=False,
    )
    assert exe.status_code == 409 and "格式无法识别" in text_of(exe.text)
    closed = office.post(
        "/cases/close",
        data={"csrf_token": csrf, "case_id": "C0001", "reason": "整改到位，予以销号"},
        files={"evidence": ("整改报告.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert closed.status_code == 303, closed.text
    assert "未销号的督办案件" not in text_of(unit.get("/").text)
    assert "已销号" in text_of(unit.get("/cases").text)
    got = unit.get("/cases/C0001/evidence")
    assert got.status_code == 200 and got.content == PDF and "attachment" in got.headers["content-disposition"]
    assert client_for("gongan").get("/cases/C0001/evidence").status_code == 403
    kinds = [(e["kind"], e["by"]) for e in OfficeRecord(settings.home).entries("jiujiang-2022")]
    assert kinds == [("case_open", "portal:office"), ("case_action", "portal:office"), ("case_close", "portal:office")]
