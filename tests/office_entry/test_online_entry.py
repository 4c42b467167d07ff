"""Online entry of the task progress form over real HTTP: the entry lands as an original workbook (the form's
own template, filled) with its sha256 on the receipt, is checked exactly as that file would be, loads like a
file, and a unit is offered only its own tasks."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import duckdb
import openpyxl
import pytest
from portal_helpers import csrf_of, receipts, text_of

from roadsafe.settings import Settings

pytestmark = pytest.mark.slow

WEEK = 5
PROGRESS = "已完成城区主干道隐患排查，整改12处；\n<script>alert(1)</script> 按计划推进。"


def _post(http, fields: dict, *, week=WEEK, unit=None):
    page = http.get("/entry" + (f"?unit={unit}" if unit else ""))
    data = {"csrf_token": csrf_of(page.text), "week": str(week), **fields}
    if unit:
        data["unit"] = unit
    # multipart, as the page's form sends it (Chinese text is not percent-encoded three times over)
    return http.post("/entry", files={k: (None, v) for k, v in data.items()})


def _landed(settings: Settings, receipt: dict) -> bytes:
    return (settings.home / receipt["stored_path"]).read_bytes()


def test_the_page_offers_only_the_units_own_tasks(browser):
    http = browser("xunyang")
    text = text_of(http.get("/entry").text)
    assert "任务20（牵头）" in text  # 浔阳区 leads task 20
    assert "协作任务" in text and "任务19" in text  # and co-leads task 19, listed with its lead
    assert "任务3（牵头）" not in text  # 市公安局's task
    assert http.get("/entry?unit=gongan").status_code == 403
    r = _post(http, {"t20-status": "推进中"}, unit="gongan")
    assert r.status_code == 403


def test_entry_lands_an_original_and_loads_like_a_file(browser, entry_home):
    from ingest.service import process_inbox
    from portal.routes.entry import entry_workbook

    before = len(receipts(entry_home))
    http = browser("xunyang")
    r = _post(http, {"t20-status": "推进中", "t20-progress": PROGRESS, "t20-difficulties": "资金缺口较大"})
    assert r.status_code == 200, text_of(r.text)
    assert 'data-status="accepted"' in r.text, text_of(r.text)
    assert "<script>alert(1)</script>" not in r.text
    found = receipts(entry_home)
    assert len(found) == before + 1
    rec = found[-1]
    assert (rec["channel"], rec["unit_id"], rec["form"], rec["period"], rec["submitted_by"]) == (
        "portal", "xunyang", "F9", WEEK, "xunyang",
    )  # fmt: skip
    original = _landed(entry_home, rec)
    assert hashlib.sha256(original).hexdigest() == rec["sha256"]
    assert rec["sha256"] in r.text  # the receipt on the page names the entry's hash
    # the original is the form's own workbook, and the same entry makes the same bytes
    campaign = entry_home.campaign()
    again, _ = entry_workbook(
        campaign, "F9", "xunyang", WEEK,
        {20: {"status": "推进中", "progress": PROGRESS.strip(), "difficulties": "资金缺口较大"}},
    )  # fmt: skip
    assert hashlib.sha256(again).hexdigest() == rec["sha256"]
    ws = openpyxl.load_workbook(io.BytesIO(original)).worksheets[0]
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert campaign.forms["F9"].name in str(cells[0])
    assert PROGRESS.strip() in cells
    # ingestion loads it as it loads an uploaded file
    loaded = process_inbox(entry_home)
    mine = [x for x in loaded if x.submission_id and x.form == "F9" and x.unit == "xunyang"]
    assert mine and mine[-1].status == "accepted", [x.text() for x in loaded]
    con = duckdb.connect(str(entry_home.warehouse), read_only=True)
    try:
        row = con.execute(
            """select s.channel, s.submitted_by, s.file_sha256, f.status, f.progress
               from raw.submissions s join raw.form_f9 f using (submission_id)
               where s.receipt_id = ? and f.task_no = '20'""",
            [rec["receipt_id"]],
        ).fetchone()
    finally:
        con.close()
    assert row == ("portal", "xunyang", rec["sha256"], "推进中", PROGRESS.strip())


def test_entry_is_checked_exactly_like_its_file(browser, entry_home):
    """A progress text without 完成状态: the page lists the same errors (row, column, words) as the dry run
    of the landed workbook taken as an uploaded file."""
    from ingest.precheck import precheck

    http = browser("gongan")
    r = _post(http, {"t3-progress": "正在推进", "t5-status": "已完成"})
    assert r.status_code == 200
    assert 'data-status="rejected"' in r.text, text_of(r.text)
    rec = receipts(entry_home)[-1]
    assert rec["unit_id"] == "gongan"
    path = entry_home.home / rec["stored_path"]
    direct = precheck(
        entry_home, path, unit="gongan", form="F9", period=WEEK,
        received_at=dt.datetime.fromisoformat(rec["received_at"]), original_name=rec["original_name"],
    )  # fmt: skip
    assert direct.status == "rejected" and direct.errors
    from portal.store import Store

    stored = Store(entry_home.home / "portal" / "users.sqlite3").attempt(rec["receipt_id"])
    shown = [(m["text"], m["row_no"], m["column_header"]) for m in json.loads(stored["messages_json"])]
    assert shown == [(m.text, m.row_no, m.column_header) for m in direct.messages]
    assert any(m.column_header == "完成状态" for m in direct.errors)
    page = text_of(r.text)
    for m in direct.errors:
        assert m.text in page


def test_office_enters_for_a_unit_and_it_is_recorded(browser, entry_home):
    http = browser("office")
    assert "任务3（牵头）" in text_of(http.get("/entry?unit=gongan").text)
    r = _post(http, {"t24-status": "推进中", "t24-progress": "整治办代填：已召开推进会"}, unit="gongan")
    assert r.status_code == 200 and 'data-status="accepted"' in r.text, text_of(r.text)
    assert "代市公安局填报" in text_of(r.text)
    rec = receipts(entry_home)[-1]
    assert (rec["unit_id"], rec["submitted_by"]) == ("gongan", "office")


def test_refusals_land_nothing(browser, entry_home):
    http = browser("xunyang")
    before = len(receipts(entry_home))
    r = _post(http, {"t20-progress": "长" * 2001})
    assert r.status_code == 400 and "任务20" in text_of(r.text) and "工作推进落实情况" in text_of(r.text)
    r = _post(http, {"t3-status": "已完成"})  # not its task: ignored, so nothing entered
    assert r.status_code == 400 and "请至少填写一项" in text_of(r.text)
    r = http.post(
        "/entry", files={"csrf_token": (None, "forged"), "week": (None, "5"), "t20-status": (None, "推进中")}
    )
    assert r.status_code == 403
    assert len(receipts(entry_home)) == before
