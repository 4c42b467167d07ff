"""The office's campaign set-up page over real HTTP: upload a 责任分工表, read the import report (cells it
could not interpret, units and targets to confirm), confirm, and find the campaign under
``$ROADSAFE_HOME/campaigns/<code>/`` loading like the CLI's import."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from portal_helpers import csrf_of, text_of

sys.path.insert(0, str(Path(__file__).parents[1] / "campaign_setup"))
sys.path.insert(0, str(Path(__file__).parents[1] / "documents"))

from document_files import make_ole_document  # noqa: E402
from setup_docx import write_plan_docx  # noqa: E402
from setup_tables import write_odd_table, write_plan_table  # noqa: E402

pytestmark = pytest.mark.slow


def _preview(http, path: Path, **fields):
    token = csrf_of(http.get("/campaign-setup").text)
    data = {"csrf_token": token, **{k: str(v) for k, v in fields.items()}}
    with open(path, "rb") as fh:
        return http.post("/campaign-setup", data=data, files={"file": (path.name, fh.read())})


def _token(page: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)


def _confirm(http, page: str):
    return http.post("/campaign-setup/confirm", data={"csrf_token": csrf_of(page), "token": _token(page)})


def test_only_the_office(browser):
    http = browser("gongan")
    assert http.get("/campaign-setup").status_code == 403


def test_odd_table_report_and_nothing_written_before_confirmation(browser, entry_home, tmp_path):
    http = browser("office")
    r = _preview(http, write_odd_table(tmp_path / "百日攻坚分工表.xlsx"), code="bairi-2022", year=2022)
    assert r.status_code == 200, text_of(r.text)
    page = text_of(r.text)
    assert "导入检查结果" in page
    # the cell it could not interpret (13月底), units and targets to confirm
    assert "第8行（第5项任务）" in page and "13月底" in page
    assert "市发改委" in page and "新增单位" in page
    assert "识别出目标值“100%”" in page
    assert "--year" not in page
    assert 'id="confirm-form"' not in r.text  # an error blocks the confirmation
    root = entry_home.home / "campaigns"
    assert not (root / "bairi-2022").exists()
    assert [p.name for p in root.iterdir() if not p.name.startswith(".setup-")] == []


def test_plan_table_is_confirmed_and_written(browser, entry_home, tmp_path):
    from roadsafe.campaign import load_campaign

    http = browser("office")
    r = _preview(http, write_plan_table(tmp_path / "责任分工表.xlsx"), code="plan-2022", name="专项整治")
    assert r.status_code == 200, text_of(r.text)
    assert "识别任务 26 项" in text_of(r.text)
    token = _token(r.text)
    done = _confirm(http, r.text)
    assert done.status_code == 200, text_of(done.text)
    assert "已导入：plan-2022" in text_of(done.text)
    target = entry_home.home / "campaigns" / "plan-2022"
    imported = load_campaign("plan-2022", home=entry_home.home)
    shipped = load_campaign("jiujiang-2022")
    assert [(t.no, tuple(t.lead), tuple(t.co), t.deadline) for t in imported.tasks] == [
        (t.no, tuple(t.lead), tuple(t.co), t.deadline) for t in shipped.tasks
    ]
    record = json.loads((target / "导入记录.json").read_text(encoding="utf-8"))
    assert record["imported_by"] == "office" and record["tasks"] == 26
    assert not (target.parent / f".setup-{token}").exists()  # its staging folder is removed
    # the code is now taken: a second import is refused, nothing changes
    r = _preview(http, write_plan_table(tmp_path / "again.xlsx"), code="plan-2022")
    assert r.status_code == 400 and "已导入" in text_of(r.text)


def test_a_word_table_is_read_like_a_workbook(browser, entry_home, tmp_path):
    http = browser("office")
    table, _ = write_plan_docx(tmp_path / "责任分工表.docx")
    r = _preview(http, table, code="plan-docx", name="专项整治")
    assert r.status_code == 200, text_of(r.text)
    assert "识别任务 26 项" in text_of(r.text) and "表格2" in text_of(r.text)


def test_untrusted_files_are_refused(browser, tmp_path):
    http = browser("office")
    exe = tmp_path / "表.xlsx"
    exe.write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 8)
    r = _preview(http, exe, code="bad-2022")
    assert r.status_code == 415 and "文件类型不符合要求" in text_of(r.text)
    pdf = tmp_path / "分工表.xlsx"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    r = _preview(http, pdf, code="bad-2022")
    assert r.status_code == 415 and "文件类型不符合要求" in text_of(r.text)
    word = tmp_path / "分工表.docx"
    import zipfile

    with zipfile.ZipFile(word, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    r = _preview(http, word, code="bad-2022")
    assert r.status_code == 400 and "分工表.docx：Word 文档的正文结构已损坏" in text_of(r.text)
    old_word = tmp_path / "分工表.doc"
    r = _preview(http, make_ole_document(old_word), code="bad-2022")
    assert r.status_code == 415 and "另存为 .docx 或 .xlsx" in text_of(r.text)
    r = _preview(http, exe, code="../etc")
    assert r.status_code == 400 and "活动代码" in text_of(r.text)
