"""Edition workbooks: the tables as data, and no formula smuggled in through submitted text."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import polars as pl
import pytest
from fixture_marts import HOSTILE_DIFFICULTY, HOSTILE_PROGRESS

from dashboards.workbook import Sheet, is_formula_like, write_workbook


def test_hostile_f9_text_stays_text(weekly5):
    path = weekly5["weekly_bulletin"].outputs()["xlsx"]
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert "<f>" not in z.read(name).decode("utf-8"), name  # no formula anywhere
    wb = openpyxl.load_workbook(path)
    ws = wb["牵头单位报告"]
    header = [c.value for c in ws[1]]
    col = header.index("工作推进落实情况") + 1
    cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    hostile = [c for c in cells if c.value == HOSTILE_PROGRESS]
    assert hostile, "the hostile progress text is in the workbook, unchanged"
    for cell in hostile:
        assert cell.data_type == "s"
        assert cell.quotePrefix  # Excel's stored leading apostrophe: editing it cannot make a formula
    diff_col = header.index("推进中的困难问题及有关建议") + 1
    assert any(ws.cell(row=r, column=diff_col).value == HOSTILE_DIFFICULTY for r in range(2, ws.max_row + 1))


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", '=HYPERLINK("http://x","y")'])
def test_every_trigger_is_neutralised(tmp_path, text):
    assert is_formula_like(text)
    path = write_workbook(
        tmp_path / "x.xlsx",
        [Sheet("s", pl.DataFrame({"说明": [text, "正常文字"]}))],
        title="t",
        created=dt.datetime(2022, 5, 12, tzinfo=dt.UTC),
    )
    ws = openpyxl.load_workbook(path).active
    assert ws["A2"].value == text and ws["A2"].data_type == "s" and ws["A2"].quotePrefix
    assert not ws["A3"].quotePrefix


def test_workbook_dates_come_from_the_freeze_time(weekly5):
    path = weekly5["weekly_bulletin"].outputs()["xlsx"]
    wb = openpyxl.load_workbook(path)
    assert wb.properties.created == dt.datetime(2022, 7, 5, 1, 0)  # 09:00 Beijing time, stored as UTC
    assert wb.properties.title == "九江市道路交通安全专项整治工作通报（第5期）"
    with zipfile.ZipFile(path) as z:
        stamps = {info.date_time for info in z.infolist()}
    assert len(stamps) == 1 and next(iter(stamps))[0] == 1980  # xlsxwriter's fixed date, not the clock


def test_indicator_sheet_numbers_are_numbers(weekly5, marts):
    wb = openpyxl.load_workbook(weekly5["weekly_bulletin"].outputs()["xlsx"])
    ws = wb["指标完成情况"]
    header = [c.value for c in ws[3]]  # a title row, a blank row, then the header
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=4)]
    ((actual,),) = marts.execute(
        "select actual from marts.fct_indicator_values where indicator_code='I02' and unit_id='jiujiang' "
        "and period_no=5"
    ).fetchall()
    row = next(r for r in rows if r["指标编号"] == "I02" and r["单位"] == "九江市")
    assert row["实际值"] == pytest.approx(actual)
