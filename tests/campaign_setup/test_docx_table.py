"""A 责任分工表 written in Word (.docx) imports as the same table in Excel does: the 2022 plan's task list gives
the shipped campaign, merged cells read like merged cells of a workbook, a table's problems name the file, the
table, the row and the column; an XML bomb and an old binary .doc are refused with a Chinese message."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from setup_docx import NS, cell, para, table_xml, write_docx, write_plan_docx
from setup_tables import HEADER, plan_tasks

from application.cli import main
from roadsafe.campaign import load_campaign
from roadsafe.campaign.table import read_grid

sys.path.insert(0, str(Path(__file__).parents[1] / "documents"))

from document_files import make_ole_document  # noqa: E402

TASK_FIELDS = ("no", "section", "title", "lead", "co", "deadline", "frequency")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ROADSAFE_HOME", str(home))
    monkeypatch.delenv("ROADSAFE_CAMPAIGN", raising=False)
    return home


def _fields(campaign) -> list[dict]:
    return [{f: getattr(t, f) for f in TASK_FIELDS} for t in campaign.tasks]


def _import(*args: str) -> int:
    return main(["campaign", "import", *args])


def test_the_2022_task_list_in_word_imports_to_the_shipped_campaign(home, tmp_path, capsys):
    table, _ = write_plan_docx(tmp_path / "责任分工表.docx")
    assert _import(str(table), "--code", "plan-docx", "--like", "jiujiang-2022", "--start", "2022-04-07") == 0
    out = capsys.readouterr().out
    assert "工作表“表格2”" in out and "识别任务 26 项" in out and "发现" not in out
    imported, shipped = load_campaign("plan-docx"), load_campaign("jiujiang-2022")
    assert _fields(imported) == _fields(shipped)
    assert [(s.no, s.title) for s in imported.sections] == [(s.no, s.title) for s in shipped.sections]
    plan = {t.no: t for _, tasks in plan_tasks()[0] for t in tasks}
    assert all(t.summary == plan[t.no].measures for t in imported.tasks)
    assert imported.units_def == shipped.units_def
    assert (imported.frame.start, imported.frame.end) == (dt.date(2022, 4, 7), dt.date(2022, 6, 30))
    assert "2022年全市道路交通安全专项整治实施方案" in imported.frame.name  # the title above the table


def test_vertically_merged_lead_cells_take_the_value_above(home, tmp_path, capsys):
    table, merged = write_plan_docx(tmp_path / "合并单元格.docx", merge_leads=True)
    assert merged >= 1
    grid = next(g for g in read_grid(table) if g.sheet == "表格2")
    leads = {int(row[0]): row[3] for row in grid.rows if row[0] and str(row[0]).isdigit()}
    plan = {t.no: t.lead for _, tasks in plan_tasks()[0] for t in tasks}
    assert leads == plan
    section_row = grid.rows[1]  # spans the table: repeated in each column, as a merged workbook cell
    assert len(section_row) == len(HEADER) and len(set(section_row)) == 1
    assert _import(str(table), "--code", "merged", "--like", "jiujiang-2022", "--start", "2022-04-07") == 0
    assert _fields(load_campaign("merged")) == _fields(load_campaign("jiujiang-2022"))


def test_a_wrong_cell_names_the_file_table_row_and_column(home, tmp_path, capsys):
    rows = [
        "".join(cell(h) for h in ("序号", "整治内容", "牵头单位", "配合单位", "完成时限")),
        "".join(cell(v) for v in (1, "排查临水临崖路段", "市公安局", "市交通运输局", "6月底前")),
        "".join(cell(v) for v in (2, "施工路段整治", "市公安局", None, "13月底")),
    ]
    table = write_docx(tmp_path / "百日攻坚.docx", para("2023年百日攻坚行动重点任务分工表") + table_xml(rows))
    assert _import(str(table), "--code", "bairi") == 1
    out = capsys.readouterr().out
    assert "导入文件：百日攻坚.docx，工作表“表格1”" in out
    assert "第3行（第2项任务）、“完成时限”列（E列）：“13月底”不是有效日期" in out
    assert not (home / "campaigns" / "bairi").exists()


def test_xml_bombs_and_old_word_files_are_refused(home, tmp_path, capsys):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        f'<w:document xmlns:w="{NS}"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>'
    )
    table = write_docx(tmp_path / "炸弹.docx", "", document=bomb)
    assert _import(str(table), "--code", "bomb") == 2
    err = capsys.readouterr().err
    assert "炸弹.docx" in err and "DOCTYPE/ENTITY" in err

    spaces = f'<w:document xmlns:w="{NS}"><w:body>' + " " * (17 * 1024 * 1024) + "</w:body></w:document>"
    table = write_docx(tmp_path / "压缩炸弹.docx", "", document=spaces)
    assert table.stat().st_size < 1024 * 1024
    assert _import(str(table), "--code", "zip-bomb") == 2
    assert "解压后体积异常" in capsys.readouterr().err

    old = tmp_path / "分工表.doc"
    make_ole_document(old)
    assert _import(str(old), "--code", "old-word") == 2
    err = capsys.readouterr().err
    assert "分工表.doc" in err and "旧版 Word 文档" in err and "另存为 .docx 或 .xlsx" in err
    assert not list(home.glob("campaigns/*"))
