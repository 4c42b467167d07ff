"""Validation on its own: the table checks over hand-made cells, and the file-level rules."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from corpus import at, f1_rows, f1_xlsx, query, settings

from ingest.messages import ERROR, WARNING, Place
from ingest.normalise import normalise_table
from ingest.schema import ensure_raw_schema
from ingest.service import submit
from ingest.validate import MAX_PER_CHECK, Findings, TableContext, check_table, submitter_problem
from roadsafe.campaign import load_campaign

C = load_campaign("jiujiang-2022")


def run(
    form_code: str,
    cells: list[list[str | None]],
    *,
    unit: str,
    period: int = 5,
    con=None,
    present: list[str] | None = None,
) -> Findings:
    """Normalise and check ``cells`` (one list per row, form column order) as if read from rows 4, 5, …"""
    form = C.forms[form_code]
    keys = present or form.column_keys
    con = con or duckdb.connect()
    ensure_raw_schema(con, C)
    con.execute(
        "create or replace temp table src (source_row integer, "
        + ", ".join(f'"{k}" varchar' for k in keys)
        + ")"
    )
    for i, row in enumerate(cells):
        con.execute(f"insert into src values ({i + 4}, {', '.join('?' for _ in keys)})", row)
    normalise_table(con, C, form, "src", "norm", keys, year=2022, submitter_id=unit)
    ctx = TableContext(
        campaign=C,
        form=form,
        place=Place("t.xlsx", "表1"),
        headers={},
        present=keys,
        submitter=C.units[unit],
        period=C.period(period),
        received_at=at(2022, 5, 12),
        norm="norm",
        src="src",
    )
    return check_table(con, ctx)


def bodies(found: Findings) -> list[tuple[str, str]]:
    return [(m.severity, m.text.split("：", 1)[1]) for m in found.sorted(Place("t.xlsx", "表1"))]


def test_a_clean_table_has_nothing_to_say():
    found = run("F1", [["浔阳区", "100", "90", "80", "10", "5"]], unit="gongan")
    assert (found.errors, found.warnings, found.messages) == (0, 0, [])


def test_messages_name_file_sheet_row_and_header():
    found = run("F1", [["浔阳区", "100", "90", "abc", "10", "5"]], unit="gongan")
    (msg,) = found.sorted(Place("t.xlsx", "表1"))
    assert (
        msg.text
        == "文件“t.xlsx”工作表“表1”第4行（浔阳区）“已检验数”列：数值“abc”无法识别，请填写不小于0的整数（如 1234）。"
    )
    assert (msg.severity, msg.sheet, msg.row_no, msg.column_header, msg.value) == (
        ERROR,
        "表1",
        4,
        "已检验数",
        "abc",
    )


def test_one_cell_one_message():
    """A cell that does not parse is not also reported as blank or out of range."""
    found = run(
        "F4", [["XY-1", "浔阳区", "路", "城市道路", "x", "abc", "已整改", "2022-05-10", None]], unit="xunyang"
    )
    assert bodies(found) == [(ERROR, "日期“abc”无法识别，请按“2022-04-15”或“2022年4月15日”的格式填写。")]


def test_a_county_reports_only_its_own_ledger_rows():
    rows = [
        ["XY-1", "浔阳区", "路", "城市道路", "x", "2022-05-06", "未整改", None, None],
        ["XY-2", "庐山", "路", "村道", "x", "2022-05-06", "未整改", None, None],
    ]
    assert bodies(run("F4", rows, unit="xunyang")) == [
        (
            ERROR,
            "“庐山”不属于浔阳区的填报范围，县（市、区）只能报送本地区的数据，请删除该行或由有关单位报送。",
        )
    ]
    assert run("F4", rows, unit="gonglu").errors == 0  # a city department reports on every county


def test_ledger_keys_are_folded_before_the_uniqueness_check():
    rows = [
        ["XY-001", "浔阳区", "路", "城市道路", "x", "2022-05-06", "未整改", None, None],
        ["ＸＹ－００１", "浔阳区", "路", "城市道路", "x", "2022-05-06", "未整改", None, None],
    ]
    assert bodies(run("F4", rows, unit="xunyang")) == [
        (ERROR, "“ＸＹ－００１”与第4行重复，同一隐患编号只能填报一行，请合并或删除重复行。")
    ]


def test_dates_before_2000_and_after_the_receipt():
    rows = [["XY-1", "浔阳区", "路", "城市道路", "x", "1999-12-31", "已整改", "2022-05-20", None]]
    assert bodies(run("F4", rows, unit="xunyang")) == [
        (ERROR, "日期“1999-12-31”早于2000年，请核实后按“2022-04-15”或“2022年4月15日”的格式填写。"),
        (WARNING, "日期“2022-05-20”晚于报送日期（2022-05-12），请核实日期是否填写有误。"),
    ]


def test_each_check_lists_at_most_a_hundred_rows_but_counts_all():
    rows = [
        [f"XY-{i}", "浔阳区", "路", "城市道路", "x", "2022-05-06", "未整改", None, "-1"] for i in range(3)
    ]
    rows += [
        [f"XY-{i}", "浔阳区", "路", "高速", "x", "2022-05-06", "未整改", None, None] for i in range(3, 250)
    ]
    found = run("F4", rows, unit="xunyang")
    assert found.errors == 247
    listed = found.sorted(Place("t.xlsx", "表1"))
    assert len(listed) == MAX_PER_CHECK + 1
    assert (
        listed[-1].text == "文件“t.xlsx”工作表“表1”：另有147处问题未逐条列出，请参照上述问题对全表逐一核对。"
    )


def test_submitter_rules():
    assert submitter_problem(C, C.forms["F1"], C.units["gongan"]) is None
    assert submitter_problem(C, C.forms["F1"], C.units["lushan"]) is None  # every county may send its own row
    assert submitter_problem(C, C.forms["F8"], C.units["xunyang"]) == (
        "浔阳区不是《道路交通事故周报》的报送单位（报送单位：市公安局），请核对报表或报送单位。"
    )
    no_lead = next(u for u in C.units.values() if u.kind == "department" and not C.tasks_led_by(u.id))
    assert submitter_problem(C, C.forms["F9"], no_lead) == (
        f"{no_lead.name}没有牵头的任务，无需报送《重点工作推进情况表》，请核对报表或报送单位。"
    )


# --------------------------------------------------------------------------- across weeks, in a warehouse


@pytest.fixture
def s(tmp_path):
    return settings(tmp_path)


def test_monotone_compares_with_the_current_previous_submission(s, tmp_path):
    """The previous week's figure is the one from the current (not superseded) accepted submission."""
    high = f1_rows(bump=50)
    submit(
        s, f1_xlsx(tmp_path / "w4a.xlsx", week=4, rows=high), unit="市公安局", received_at=at(2022, 5, 5, 9)
    )
    submit(
        s, f1_xlsx(tmp_path / "w4b.xlsx", week=4), unit="市公安局", received_at=at(2022, 5, 5, 10)
    )  # corrected
    r = submit(
        s,
        f1_xlsx(tmp_path / "w5.xlsx", week=5, rows=f1_rows(bump=1)),
        unit="市公安局",
        received_at=at(2022, 5, 12, 9),
    )
    assert r.status == "accepted" and r.messages == ()  # above the corrected week 4, below the superseded one
    # a county's own row is compared with whatever was accepted for that county
    own = [["浔阳区", 101, 91, 70, 11, 6]]
    r = submit(
        s, f1_xlsx(tmp_path / "xy.xlsx", week=6, rows=own), unit="浔阳区", received_at=at(2022, 5, 19, 9)
    )
    assert r.status == "rejected"
    assert [m.text.split("：", 1)[1] for m in r.errors] == [
        "累计数“70”小于上期（第5周，回执编号 S000003）已报送的“81”，累计数不应减少，请核实后更正。"
    ]


def test_monotone_ignores_later_weeks_and_rejected_files(s, tmp_path):
    submit(
        s,
        f1_xlsx(tmp_path / "w6.xlsx", week=6, rows=f1_rows(bump=100)),
        unit="市公安局",
        received_at=at(2022, 5, 19, 9),
    )
    bad = f1_rows(bump=200)
    bad[0][1] = "abc"
    assert (
        submit(
            s, f1_xlsx(tmp_path / "w4.xlsx", week=4, rows=bad), unit="市公安局", received_at=at(2022, 5, 5, 9)
        ).status
        == "rejected"
    )
    r = submit(s, f1_xlsx(tmp_path / "w5.xlsx", week=5), unit="市公安局", received_at=at(2022, 5, 12, 9))
    assert r.status == "accepted" and r.messages == ()
    assert query(s, "select period_no, status from raw.submissions order by submission_id") == [
        (6, "accepted"),
        (4, "rejected"),
        (5, "accepted"),
    ]


def test_received_dates_are_local_time(s, tmp_path):
    # 2022-05-11 20:00 UTC is 2022-05-12 04:00 in Jiujiang
    r = submit(
        s,
        f1_xlsx(tmp_path / "F1.xlsx"),
        unit="市公安局",
        received_at=dt.datetime(2022, 5, 11, 20, 0, tzinfo=dt.UTC),
    )
    assert r.received_at == at(2022, 5, 12, 4, 0) and r.minutes_late == 0
