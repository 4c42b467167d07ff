"""The units' written documents (九府办字[2022]36号: 实施方案 by 04-18, 月度小结 on each month's last working
day, 总结 by 06-30) sent as real files — a .docx, a PDF made by WeasyPrint, a WPS compound file and a
renamed program — through the command line, the inbox and the portal's type check; then dbt, the
reminders and the monthly summary (工作小结) edition that quotes them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from document_files import make_docx, make_exe, make_ole_document, make_pdf

from ingest.docfiles import DocumentUnreadable, document_format, read_document
from ingest.history import replay_manifest
from ingest.landing import read_receipts
from ingest.service import process_inbox, submit
from roadsafe.settings import Settings

TZ = ZoneInfo("Asia/Shanghai")
PLAN_TEXT = [
    "浔阳区道路交通安全专项整治工作实施方案",
    "一、工作目标",
    "全面排查整治道路交通安全隐患，严查酒驾醉驾。",
]
SUMMARY_TEXT = "本月共排查道路交通安全隐患35处，已整改30处，查处酒驾醉驾违法行为42起。"


def at(m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2022, m, d, hh, mm, tzinfo=TZ)


def query(s: Settings, sql: str, params=(), *, published: bool = False) -> list[tuple]:
    con = duckdb.connect(str(s.published if published else s.warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'Asia/Shanghai'")
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """One campaign home: documents sent every way, then one real build (ref → dbt → published)."""
    from application.build import run_build

    tmp = tmp_path_factory.mktemp("docs")
    s = Settings(home=tmp / "home", campaign_code="jiujiang-2022").ensure()
    files = tmp / "files"
    files.mkdir()
    receipts = {
        # the plan a day late (due 04-18 18:00), by the command line
        "plan_late": submit(
            s,
            make_docx(files / "浔阳区专项整治实施方案.docx", PLAN_TEXT, pages=3),
            unit="浔阳区",
            received_at=at(4, 19, 9),
        ),
        "plan_on_time": submit(
            s, make_ole_document(files / "濂溪区工作实施方案.wps"), unit="濂溪区", received_at=at(4, 15, 16)
        ),
        "exe": submit(
            s, make_exe(files / "柴桑区工作实施方案.docx"), unit="柴桑区", received_at=at(4, 16, 10)
        ),
    }
    # the April summary, a PDF from the office's mail archive with its receive time (April's last working
    # day is 04-29; the units' summaries are due at noon, the office's 小结 at 18:00)
    archive = tmp / "archive"
    archive.mkdir()
    pdf = make_pdf(archive / "xunyang-04.pdf", "浔阳区4月份专项整治工作小结", [SUMMARY_TEXT])
    entry = {
        "path": pdf.name,
        "unit_id": "xunyang",
        "received_at": at(4, 29, 10).isoformat(),
        "channel": "inbox",
    }
    (archive / "manifest.jsonl").write_text(json.dumps(entry) + "\n", encoding="utf-8")
    receipts["archive"] = replay_manifest(s, archive)
    # May's summary dropped into the unit's shared folder today (so: late); the month is in its name
    inbox = s.home / "inbox" / "lianxi"
    inbox.mkdir(parents=True, exist_ok=True)
    make_docx(
        inbox / "濂溪区5月份专项整治工作小结.docx", ["濂溪区5月份专项整治工作小结", "本月开展联合检查2次。"]
    )
    receipts["inbox"] = process_inbox(s)
    result = run_build(s)
    assert result.ok, result.failures
    return s, receipts


def test_a_docx_plan_is_landed_registered_and_its_text_kept(home):
    s, receipts = home
    r = receipts["plan_late"]
    assert (r.status, r.form, r.period, r.row_count) == ("accepted", "D1", None, 0)
    assert r.due_at == at(4, 18, 18) and r.minutes_late == 15 * 60
    assert (
        "《工作实施方案》" in r.text()
        and "逾期报送（超过截止时间15小时）" in r.text()
        and "行" not in r.text()
    )
    ((stored, sha, receipt_id),) = query(
        s,
        "select stored_path, file_sha256, receipt_id from raw.submissions where submission_id = ?",
        [r.submission_id],
    )
    assert stored == f"landing/{sha[:2]}/{sha}.docx" and (s.home / stored).is_file()
    assert receipt_id in {x.receipt_id for x in read_receipts(s)}
    ((fmt, pages, title, text, occurrence),) = query(
        s,
        "select file_format, page_count, title, body_text, occurrence from raw.documents where submission_id = ?",
        [r.submission_id],
    )
    assert (fmt, pages, title, occurrence) == ("docx", 3, PLAN_TEXT[0], "")
    assert text.splitlines() == PLAN_TEXT


def test_a_wps_file_is_accepted_without_text(home):
    s, receipts = home
    r = receipts["plan_on_time"]
    assert (r.status, r.form, r.minutes_late) == ("accepted", "D1", 0)
    assert query(
        s, "select file_format, body_text from raw.documents where submission_id = ?", [r.submission_id]
    ) == [("wps", None)]


def test_a_renamed_program_is_refused_in_chinese(home):
    s, receipts = home
    r = receipts["exe"]
    assert r.status == "rejected" and r.error_count == 1
    assert "文件扩展名为 .docx，但内容不是 Word、WPS 或 PDF 文档" in r.text()
    # the portal's type check refuses it before anything is landed
    from portal.uploads import UploadRefused, sniff_type

    with pytest.raises(UploadRefused) as refused:
        sniff_type((s.home / r.stored_path).read_bytes())
    assert refused.value.status == 415 and "Word（.docx、.doc）、WPS（.wps）或 PDF" in refused.value.message
    assert sniff_type((s.home / receipts["plan_late"].stored_path).read_bytes()) == "docx"


def test_a_docx_summary_dropped_in_the_inbox_answers_the_month_it_names(home):
    s, receipts = home
    (r,) = receipts["inbox"]
    assert (r.status, r.form, r.unit, r.period_label) == ("accepted", "D2", "lianxi", "2022年5月")
    assert r.due_at == at(5, 31, 12) and r.minutes_late > 0  # received now, years after the due time
    assert query(s, "select channel from raw.submissions where submission_id = ?", [r.submission_id]) == [
        ("inbox",)
    ]


def test_a_pdf_summary_is_on_time_for_april(home):
    s, receipts = home
    (r,) = receipts["archive"]
    assert (r.status, r.form, r.unit, r.minutes_late) == ("accepted", "D2", "xunyang", 0)
    assert r.due_at == at(4, 29, 12) and "《月度工作小结》2022年4月" in r.text()
    ((occurrence, fmt, text),) = query(
        s,
        "select occurrence, file_format, body_text from raw.documents where submission_id = ?",
        [r.submission_id],
    )
    assert (occurrence, fmt) == ("2022-04", "pdf") and SUMMARY_TEXT in text.replace("\n", "")


def test_lateness_is_counted_in_the_documents_mart(home):
    s, _ = home
    rows = query(
        s,
        "select unit_id, received, on_time, is_late, minutes_late from marts.fct_document_submissions "
        "where oneoff_code = 'plan' and unit_id in ('xunyang', 'lianxi', 'chaisang') order by unit_id",
        published=True,
    )
    assert rows == [
        ("chaisang", False, False, False, None),
        ("lianxi", True, True, False, 0),
        ("xunyang", True, False, True, 900),
    ]
    # documents carry no figures: the form marts do not count them
    assert query(s, "select count(*) from marts.fct_submissions", published=True) == [(0,)]


def test_reminders_include_the_documents(home):
    from application.reminders import select_notices
    from dashboards.notices import notice_message
    from roadsafe.campaign import load_campaign

    s, _ = home
    campaign = load_campaign("jiujiang-2022")
    con = duckdb.connect(str(s.published), read_only=True)
    try:
        overdue = select_notices(con, campaign, (at(4, 18, 17), at(4, 18, 18)))
        before_summary = select_notices(con, campaign, (at(4, 28, 11), at(4, 28, 12)))
        summary_due = select_notices(con, campaign, (at(4, 29, 11), at(4, 29, 12)))
    finally:
        con.close()
    plan = {n.unit_id: n for n in overdue if n.form_code == "D1"}
    assert "xunyang" in plan and "chaisang" in plan and "lianxi" not in plan  # lianxi sent on 04-15
    assert plan["xunyang"].kind == "overdue" and plan["xunyang"].occurrence == ""
    assert len(plan) == len(campaign.responsible_units) - 1
    message = notice_message(campaign, plan["xunyang"], "https://portal.example")
    assert "《工作实施方案》" in message.subject and "2022年4月18日（周一）18:00" in message.text
    summary = {n.unit_id: n for n in before_summary if n.form_code == "D2"}
    assert summary["lianxi"].kind == "reminder" and summary["lianxi"].occurrence == "2022-04"
    assert "（2022年4月）" in notice_message(campaign, summary["lianxi"], "https://portal.example").subject
    assert summary["xunyang"].kind == "reminder"  # the day before, 浔阳区 had not sent it yet
    # at the due time a unit that sent April's summary (04-29 10:00) is not told it is overdue
    late = {n.unit_id: n.kind for n in summary_due if n.form_code == "D2"}
    assert "xunyang" not in late and late["lianxi"] == "overdue"
    assert len({n.key(campaign.code) for n in overdue + before_summary}) == len(overdue + before_summary)


def test_the_monthly_summary_quotes_the_units_own_summaries(home, tmp_path):
    from dashboards.editions import monthly_edition, open_edition

    s, _ = home
    edition_home = Settings(home=tmp_path / "h", campaign_code="jiujiang-2022").ensure()
    edition_home.published.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(s.published, edition_home.published)
    folders = monthly_edition(edition_home, "2022-04", frozen_at=at(4, 29, 18))
    summary = next(open_edition(f) for f in folders if open_edition(f).meta.kind == "monthly_summary")
    html = summary.outputs()["html"].read_text(encoding="utf-8")
    assert "各单位月度工作小结" in html
    assert "浔阳区</span>《浔阳区4月份专项整治工作小结》（4月29日" in html
    assert "按时）" in html and SUMMARY_TEXT in html
    assert "未报送本月工作小结的单位" in html and "濂溪区" in html.split("未报送本月工作小结的单位")[1]
    assert "《濂溪区5月份专项整治工作小结》" not in html  # May's is not April's


# --------------------------------------------------------------------------- hostile documents (no warehouse)


def test_hostile_docx_parts_are_refused_and_macros_only_noted(tmp_path):
    import zipfile

    bomb = tmp_path / "bomb.docx"
    make_docx(bomb, ["x"])
    with zipfile.ZipFile(bomb, "a") as zf:
        zf.writestr("word/media/zeros.bin", b"\x00" * (300 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(DocumentUnreadable, match="解压后体积异常"):
        read_document(bomb.read_bytes(), "docx")

    entity = tmp_path / "entity.docx"
    make_docx(entity, ["x"])
    with zipfile.ZipFile(entity, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><w:document xmlns:w="x">&a;</w:document>',
        )
    with pytest.raises(DocumentUnreadable, match="DOCTYPE/ENTITY"):
        read_document(entity.read_bytes(), "docx")

    docm = make_docx(tmp_path / "宏.docx", ["带宏的方案"], macros=True)
    content = read_document(docm.read_bytes(), "docx")
    assert content.macros and content.text == "带宏的方案"
    assert document_format(b"%PDF-1.4\n", "x.bin") == "pdf"
    assert document_format(make_exe(tmp_path / "a.pdf").read_bytes(), "a.pdf") is None
    assert document_format(Path(make_ole_document(tmp_path / "b.doc")).read_bytes(), "b.doc") == "doc"
