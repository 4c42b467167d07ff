"""Messages name a row by its key beside its number, so the clerk correcting the file finds it: the county
of a county table (第6行（柴桑区）), the record of a ledger (its 隐患编号, or its location when it has none),
the task of a task table (第4行（任务3）). Each kind is submitted through the service into a real warehouse."""

from __future__ import annotations

from corpus import CAMPAIGN, COUNTY_NAMES, ON_TIME_W5, f1_rows, f1_xlsx, f4_row, f4_xlsx, f9_xlsx, settings

from ingest.messages import label_columns, row_label
from ingest.service import submit


def _texts(tmp_path, path, unit):
    receipt = submit(settings(tmp_path), path, unit=unit, received_at=ON_TIME_W5)
    assert receipt.status == "rejected"
    return [m.text for m in receipt.messages]


def test_county_table_rows_are_named_by_their_county(tmp_path):
    rows = f1_rows()
    i = COUNTY_NAMES.index("德安县")
    rows[i][2] = "一百"  # 应检验数 of 德安县
    rows[i + 1][0] = "德安"  # the county cell itself is wrong: the message quotes it, no label
    texts = _texts(tmp_path, f1_xlsx(tmp_path / "F1.xlsx", rows=rows), "市公安局")
    assert [t.split("：")[0] for t in texts] == [
        f"文件“F1.xlsx”工作表“Sheet1”第{i + 4}行（德安县）“应检验数”列",
        f"文件“F1.xlsx”工作表“Sheet1”第{i + 5}行“县区”列",
    ]


def test_ledger_rows_are_named_by_their_number_or_their_location(tmp_path):
    numbered = f4_row(2, status="整改中", fixed="2022-05-09")
    unnumbered = f4_row(3, found="2022-02-30", status="未整改", fixed=None)
    unnumbered[0] = None  # no 隐患编号: the row is named by its county and road
    texts = _texts(tmp_path, f4_xlsx(tmp_path / "F4.xlsx", [f4_row(1), numbered, unnumbered]), "浔阳区")
    heads = [t.split("：")[0] for t in texts]
    assert heads == [
        "文件“F4.xlsx”工作表“Sheet1”第5行（XY-002）“整改完成日期”列",
        "文件“F4.xlsx”工作表“Sheet1”第6行（浔阳区 长虹大道3号段）“隐患编号”列",
        "文件“F4.xlsx”工作表“Sheet1”第6行（浔阳区 长虹大道3号段）“发现日期”列",
    ]


def test_task_rows_are_named_by_their_task_number(tmp_path):
    led = CAMPAIGN.tasks_led_by("gonglu")
    rows = [[str(led[0]), "进行中", None, None, None], [f"第{led[1]}项", "已完成", "完成", None, None]]
    rows[1][1] = "完成了"
    texts = _texts(tmp_path, f9_xlsx(tmp_path / "F9.xlsx", rows), "市公路发展中心")
    assert [t.split("：")[0] for t in texts] == [
        f"文件“F9.xlsx”工作表“Sheet1”第4行（任务{led[0]}）“完成状态”列",
        f"文件“F9.xlsx”工作表“Sheet1”第5行（任务{led[1]}）“完成状态”列",
    ]


def test_labels_are_short_and_printable():
    f4 = CAMPAIGN.forms["F4"]
    assert label_columns(f4) == ["hazard_id", "county", "road_name"]
    assert label_columns(CAMPAIGN.forms["F1"]) == ["county"]
    assert row_label(f4, {"hazard_id": "  ", "county": "濂溪区", "road_name": None}) == "濂溪区"
    assert row_label(f4, {"hazard_id": None, "county": None, "road_name": None}) is None
    long = row_label(f4, {"hazard_id": "编号" * 30})
    assert len(long) == 20 and long.endswith("…")
    assert row_label(f4, {"hazard_id": "XY\u202e-1"}) == "XY\ufffd-1"
    f9 = CAMPAIGN.forms["F9"]
    assert row_label(f9, {"task_no": "任务07"}) == "任务7"
    assert row_label(f9, {"task_no": "三"}) == "任务“三”"
