"""Blank official forms: layout, prefilled rows, validations, and that the reader recognises them."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from ingest.formfile import display_width, form_due_at, form_filename, form_title, unit_line, write_form_csv
from ingest.templates import write_template
from roadsafe.campaign import load_campaign


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("jiujiang-2022")


def _validations(ws) -> dict[str, object]:
    """First column letter of each validation range → the validation."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0].rstrip("0123456789")] = dv
    return out


def test_title_unit_line_and_due_time(campaign):
    assert form_title(campaign, "F1", 5) == "2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）"
    assert unit_line(campaign, "gongan", 5) == "填报单位：市公安局\u3000\u3000统计时段：2022年5月5日至5月11日"
    assert unit_line(campaign, "xunyang", 13).endswith("统计时段：2022年6月30日")
    assert form_filename(campaign, "F1", "gongan", 5) == "重点车辆隐患清零周报（第5周）-市公安局.xlsx"
    # week 4 ends on 05-04, the last day of the 劳动节 break; 05-05 is a working day
    assert form_due_at(campaign, 4).isoformat() == "2022-05-05T12:00:00+08:00"
    assert form_due_at(campaign, 13).isoformat() == "2022-07-01T12:00:00+08:00"


def test_city_department_county_form(campaign, tmp_path):
    path = write_template(campaign, "F1", "gongan", 5, tmp_path / "F1.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "重点车辆隐患清零周报" and "填表说明" in wb.sheetnames
    ws = wb.worksheets[0]
    assert ws["A1"].value == "2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）"
    assert ws["A2"].value == "填报单位：市公安局\u3000\u3000统计时段：2022年5月5日至5月11日"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:F1", "A2:F2", "C3:D3", "E3:F3", "A3:A4", "B3:B4"} <= merged
    assert [ws.cell(3, c).value for c in range(1, 7)] == [
        "县区",
        "重点车辆总数",
        "检验情况",
        None,
        "注销情况",
        None,
    ]
    assert [ws.cell(4, c).value for c in range(3, 7)] == ["应检验数", "已检验数", "应注销数", "已注销数"]
    assert [ws.cell(r, 1).value for r in range(5, 20)] == [u.name for u in campaign.counties]
    assert all(ws.cell(r, c).value is None for r in range(5, 20) for c in range(2, 7))
    assert ws.cell(20, 1).value.startswith("填报人：")
    assert ws.freeze_panes == "A5"
    dvs = _validations(ws)
    assert dvs["A"].type == "list" and "浔阳区" in dvs["A"].formula1 and "八里湖新区" in dvs["A"].formula1
    for col in "BCDEF":
        assert (
            dvs[col].type == "whole"
            and dvs[col].operator == "greaterThanOrEqual"
            and dvs[col].formula1 == "0"
        )
        assert dvs[col].errorStyle == "warning"  # “—” for unknown can still be typed
        assert str(dvs[col].sqref) == f"{col}5:{col}19"
    for col, header in zip(
        "ABCDEF", ["县区", "重点车辆总数", "应检验数", "已检验数", "应注销数", "已注销数"], strict=True
    ):
        assert ws.column_dimensions[col].width >= display_width(header)
    assert "截至本周末累计" in ws["D4"].comment.text
    notes = "\n".join(str(r[0]) for r in wb["填表说明"].iter_rows(values_only=True) if r[0])
    assert "截至本周末累计" in notes and "2022年5月12日12:00前" in notes and "不要填0" in notes


def test_county_gets_only_itself_by_alias(campaign, tmp_path):
    path = write_template(campaign, "F2", "浔阳", 3, tmp_path / "F2.xlsx")
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["A2"].value.startswith("填报单位：浔阳区")
    assert ws["A5"].value == "浔阳区" and ws["A6"].value.startswith("填报人：")


def test_task_form_prefilled_with_led_tasks(campaign, tmp_path):
    path = write_template(campaign, "F9", "gongan", 2, tmp_path / "F9.xlsx")
    ws = openpyxl.load_workbook(path).worksheets[0]
    headers = [ws.cell(3, c).value for c in range(1, ws.max_column + 1)]
    assert headers == [c.header for c in campaign.forms["F9"].columns]
    tasks = campaign.tasks_led_by("gongan")
    assert [ws.cell(4 + i, 1).value for i in range(len(tasks))] == tasks
    first = campaign.task(tasks[0])
    assert first.title in ws["A4"].comment.text and "2022年4月30日" in ws["A4"].comment.text
    dvs = _validations(ws)
    assert dvs["B"].type == "list" and dvs["B"].formula1 == '"未启动,推进中,已完成"'
    assert ws.column_dimensions["C"].width >= 40


def test_ledger_form_has_checks_on_empty_rows(campaign, tmp_path):
    path = write_template(campaign, "F5", "市公路发展中心", 7, tmp_path / "F5.xlsx")
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["A5"].value is None  # no prefilled sites, and no footer under the empty ledger
    dvs = _validations(ws)
    assert dvs["D"].type == "list" and "十大事故多发路段" in dvs["D"].formula1
    for col in "EFGHI":
        assert dvs[col].formula1 == '"是,否"'
    assert dvs["J"].type == "date"
    assert str(dvs["E"].sqref).endswith("304")  # 300 ledger rows below the two header rows


def test_template_errors_are_chinese(campaign, tmp_path):
    with pytest.raises(ValueError, match="报表代码“F99”不存在"):
        write_template(campaign, "F99", "gongan", 1, tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match="找不到填报单位"):
        write_template(campaign, "F1", "火星局", 1, tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match="第14周不在活动期内"):
        write_template(campaign, "F1", "gongan", 14, tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match="不是任何重点任务的牵头单位"):
        write_template(campaign, "F9", "zhujian", 1, tmp_path / "x.xlsx")
    with pytest.raises(ValueError, match=r"\.xlsx"):
        write_template(campaign, "F1", "gongan", 1, tmp_path / "x.xls")


def test_csv_writer_saves_merged_cells_like_excel(campaign, tmp_path):
    rows = [
        {
            "county": "浔阳区",
            "vehicles_total": 3120,
            "inspect_due": 690,
            "inspected": 455,
            "cancel_due": 71,
            "cancelled": 40,
        }
    ]
    path = tmp_path / "f1.csv"
    write_form_csv(
        path,
        campaign,
        "F1",
        "gongan",
        5,
        rows,
        encoding="gbk",
        grouped_header=True,
        total_row="bottom",
        created=dt.datetime(2022, 5, 12),
    )
    lines = path.read_bytes().decode("gbk").splitlines()
    assert lines[2] == "县区,重点车辆总数,检验情况,,注销情况,"
    assert lines[3] == ",,应检验数,已检验数,应注销数,已注销数"
    assert lines[4] == "浔阳区,3120,690,455,71,40"
    assert lines[5] == "合计,3120,690,455,71,40"


@pytest.mark.parametrize(
    ("form", "unit", "week"),
    [("F1", "gongan", 5), ("F9", "jiaotong", 8), ("F4", "xiushui", 2), ("F5", "gonglu", 13)],
)
def test_reader_recognises_template(campaign, tmp_path, form, unit, week):
    from ingest.readers import parse_file

    path = write_template(campaign, form, unit, week, tmp_path / f"{form}.xlsx")
    parsed = parse_file(path, campaign)
    assert parsed.form_code == form
    assert parsed.detected_period == week
    assert parsed.detected_unit == unit
    assert parsed.missing_required == [] and parsed.missing_optional == []
