"""The corpus: real files as offices send them, each submitted through the service into a real warehouse,
each with its exact outcome — the rows loaded with their values, or the exact Chinese messages.
"""

from __future__ import annotations

import datetime as dt

import pytest
from corpus import (
    CAMPAIGN,
    COUNTY_IDS,
    COUNTY_NAMES,
    F1_HEADER,
    F4_HEADER,
    ON_TIME_W5,
    at,
    campaigns_with_rate_form,
    f1_rows,
    f1_title,
    f1_values,
    f1_xlsx,
    f4_row,
    f4_xlsx,
    f5_xlsx,
    f9_xlsx,
    query,
    settings,
    write_csv,
    write_xls,
    write_xlsx,
)

from ingest.service import submit


@pytest.fixture
def s(tmp_path):
    return settings(tmp_path)


def go(s, path, unit="市公安局", **kw):
    kw.setdefault("received_at", ON_TIME_W5)
    return submit(s, path, unit=unit, **kw)


P = "文件“F1.xlsx”工作表“Sheet1”"


def texts(receipt) -> list[str]:
    return [m.text for m in receipt.messages]


def f1_loaded(s, submission_id) -> list[tuple]:
    return query(
        s,
        "select source_row, subject_unit_id, record_key, county, vehicles_total, inspect_due, inspected, "
        "cancel_due, cancelled from raw.form_f1 where submission_id = ? order by source_row",
        [submission_id],
    )


def f1_expected(first_row: int, counties=COUNTY_IDS, rows=None) -> list[tuple]:
    rows = rows or [f1_values(i) for i in range(len(counties))]
    return [(first_row + i, c, c, c, *vals) for i, (c, vals) in enumerate(zip(counties, rows, strict=True))]


# --------------------------------------------------------------------------- layouts


def test_01_plain_header_in_row_1(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", title=False), period=5)
    assert r.status == "accepted" and r.messages == ()
    assert (
        r.text()
        == "已受理：市公安局 报送的《重点车辆隐患清零周报》第5周，共15行，按时报送。回执编号 S000001。"
    )
    assert f1_loaded(s, r.submission_id) == f1_expected(2)


def test_02_title_and_unit_rows_above_header_give_the_week(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", week=5))  # no --week: read from the title
    assert (r.status, r.form, r.unit, r.period, r.row_count) == ("accepted", "F1", "gongan", 5, 15)
    assert f1_loaded(s, r.submission_id) == f1_expected(4)


def test_03_merged_two_row_header(s, tmp_path):
    header1 = ["县区", "重点车辆总数", "检验情况", None, "注销情况", None]
    header2 = [None, None, "应检验数", "已检验数", "应注销数", "已注销数"]
    rows = [*f1_title(), header1, header2, *f1_rows()]
    merges = [
        (0, 0, 0, 5, rows[0][0]),
        (2, 0, 3, 0, "县区"),
        (2, 1, 3, 1, "重点车辆总数"),
        (2, 2, 2, 3, "检验情况"),
        (2, 4, 2, 5, "注销情况"),
    ]
    r = go(s, write_xlsx(tmp_path / "F1-merged.xlsx", rows, merges=merges))
    assert r.status == "accepted" and r.row_count == 15
    assert f1_loaded(s, r.submission_id) == f1_expected(5)


def test_04_total_row_blank_rows_and_footer_are_skipped(s, tmp_path):
    rows = [*f1_title(), F1_HEADER]
    body = f1_rows()
    rows += body[:5] + [[None] * 6] + body[5:] + [["合计", 9999, 9999, 9999, 9999, 9999]]
    rows += [[None], ["填报人：张三", None, "联系电话：0792-1234567", None, "审核人：李四"]]
    r = go(s, write_xlsx(tmp_path / "F1.xlsx", rows))
    assert r.status == "accepted" and r.row_count == 15
    loaded = f1_loaded(s, r.submission_id)
    # Excel rows as the submitter sees them: the blank row 9 is skipped, not renumbered
    assert [row[0] for row in loaded] == [4, 5, 6, 7, 8, *range(10, 20)]
    assert [row[1:] for row in loaded] == [row[1:] for row in f1_expected(0)]


def test_05_columns_out_of_order(s, tmp_path):
    order = [3, 0, 5, 1, 4, 2]
    header = [F1_HEADER[i] for i in order]
    rows = [[row[i] for i in order] for row in f1_rows()]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", header=header, rows=rows))
    assert r.status == "accepted"
    assert f1_loaded(s, r.submission_id) == f1_expected(4)


def test_06_extra_column_is_ignored_with_a_warning(s, tmp_path):
    header = [*F1_HEADER, "备注"]
    rows = [[*row, "已核实"] for row in f1_rows()]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", header=header, rows=rows))
    assert r.status == "accepted"
    assert texts(r) == ["文件“F1.xlsx”工作表“Sheet1”：“备注”列不是本表的规定列，未导入。"]
    assert r.warning_count == 1
    assert f1_loaded(s, r.submission_id) == f1_expected(4)


def test_07_missing_optional_column_is_a_warning_and_null(s, tmp_path):
    header = [h for h in F1_HEADER if h != "应注销数"]
    rows = [[v for j, v in enumerate(row) if j != 4] for row in f1_rows()]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", header=header, rows=rows))
    assert r.status == "accepted"
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”：缺少“应注销数”列，该列按未填报处理；如有数据，请使用统一模板补充该列。"
    ]
    loaded = f1_loaded(s, r.submission_id)
    assert {row[7] for row in loaded} == {None}  # cancel_due unknown, not 0
    assert [row[8] for row in loaded] == [f1_values(i)[4] for i in range(15)]


def test_08_missing_required_column(s, tmp_path):
    rows = [
        [v for j, v in enumerate(row) if j != 3]
        for row in [["道路交通隐患排查整治台账（第5周）"], ["填报单位：浔阳区"], F4_HEADER, f4_row(1)]
    ]
    r = go(s, write_xlsx(tmp_path / "F4-no-type.xlsx", rows), unit="浔阳区", form="F4")
    assert (r.status, r.row_count) == ("rejected", 1)  # one row read, none loaded
    assert texts(r) == [
        "文件“F4-no-type.xlsx”工作表“Sheet1”：缺少必填列“道路类型”，请使用统一模板，在表头中补充该列后重新报送。"
    ]
    assert r.messages[0].column_header == "道路类型"
    assert query(s, "select count(*) from raw.form_f4") == [(0,)]


def test_09_empty_sheet(s, tmp_path):
    r = go(s, write_xlsx(tmp_path / "empty.xlsx", []), period=5)
    assert r.status == "rejected"
    assert texts(r) == [
        "文件“empty.xlsx”无法读取：文件中没有任何内容（所有工作表都是空的）。请填写报表后重新上传。"
    ]
    assert r.text() == (
        "未受理：市公安局 报送的文件“empty.xlsx”有1处错误，请修改后重新报送。回执编号 S000001。\n"
        "1. 文件“empty.xlsx”无法读取：文件中没有任何内容（所有工作表都是空的）。请填写报表后重新上传。"
    )


def test_10_form_on_second_sheet_after_an_empty_one(s, tmp_path):
    data = [*f1_title(), F1_HEADER, *f1_rows()]
    r = go(s, write_xlsx(tmp_path / "F1.xlsx", data, sheet="重点车辆", first_sheets=[("说明", [])]))
    assert r.status == "accepted" and r.row_count == 15
    assert query(s, "select distinct sheet from raw.form_f1") == [("重点车辆",)]


def test_11_header_only_no_data_rows(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=[]))
    assert r.status == "rejected"
    assert texts(r) == ["文件“F1.xlsx”工作表“Sheet1”：没有找到数据行，请在表头下方逐行填写后重新报送。"]


def test_12_not_a_spreadsheet(s, tmp_path):
    path = tmp_path / "F1.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    r = go(s, path, period=5)
    assert r.status == "rejected" and r.form is None
    assert texts(r) == ["文件“F1.xlsx”无法读取：不是有效的 Excel 或 CSV 文件。请另存为 .xlsx 后重新上传。"]
    # the file is on record all the same, and so is when it came (the week was given)
    assert query(
        s, "select status, original_name, size_bytes, period_no, minutes_late from raw.submissions"
    ) == [("rejected", "F1.xlsx", 1032, 5, 0)]


def test_13_legacy_xls(s, tmp_path):
    r = go(s, write_xls(tmp_path / "F1.xls", [*f1_title(), F1_HEADER, *f1_rows()]))
    assert r.status == "accepted" and r.row_count == 15
    assert f1_loaded(s, r.submission_id) == f1_expected(4)


# --------------------------------------------------------------------------- CSV encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_14_csv_encodings(s, tmp_path, encoding):
    path = write_csv(tmp_path / "F1.csv", [*f1_title(), F1_HEADER, *f1_rows()], encoding=encoding)
    r = go(s, path)
    assert r.status == "accepted" and r.row_count == 15, r.text()
    assert f1_loaded(s, r.submission_id) == f1_expected(4)
    assert query(s, "select distinct sheet from raw.form_f1") == [("CSV",)]


def test_15_csv_thousands_and_quotes(s, tmp_path):
    rows = [[name, "1,234", "1,200", "1,100", "12", "3"] for name in COUNTY_NAMES]
    r = go(s, write_csv(tmp_path / "F1.csv", [F1_HEADER, *rows]), period=5)
    assert r.status == "accepted"
    assert {row[4:] for row in f1_loaded(s, r.submission_id)} == {(1234, 1200, 1100, 12, 3)}


# --------------------------------------------------------------------------- values


def test_16_full_width_digits_and_spaces(s, tmp_path):
    rows = f1_rows()
    rows[0] = ["浔　阳　区", "１１０", "１００", "９０", "１１", "６"]
    rows[1] = [" 濂溪区 ", "１，２３４", "１２００", "１１００", "１２", "７"]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows))
    assert r.status == "accepted", r.text()
    loaded = f1_loaded(s, r.submission_id)
    assert loaded[0][1:] == ("xunyang", "xunyang", "xunyang", 110, 100, 90, 11, 6)
    assert loaded[1][1:] == ("lianxi", "lianxi", "lianxi", 1234, 1200, 1100, 12, 7)


def test_17_wan_suffix(s, tmp_path):
    rows = f1_rows()
    rows[0] = ["浔阳区", "3.15万", "3万", "2.5万", "1200", "1,000"]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows))
    assert r.status == "accepted", r.text()
    assert f1_loaded(s, r.submission_id)[0][4:] == (31500, 30000, 25000, 1200, 1000)


def test_18_dashes_and_blanks_are_unknown_not_zero(s, tmp_path):
    rows = f1_rows()
    rows[0] = ["浔阳区", "—", "-", "/", "无", None]
    rows[1] = ["濂溪区", "–", "空", "", "——", "0"]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows))
    assert r.status == "accepted", r.text()
    loaded = f1_loaded(s, r.submission_id)
    assert loaded[0][4:] == (None, None, None, None, None)
    assert loaded[1][4:] == (None, None, None, None, 0)


def test_19_county_aliases(s, tmp_path):
    spellings = [
        "浔阳",
        "九江市濂溪区",
        "柴桑区人民政府",
        "武宁",
        "修水县",
        "永修",
        "德安县",
        "都昌",
        "湖口县",
        "彭泽",
        "瑞昌",
        "共青城",
        "星子县",
        "经开区",
        "八里湖新区管委会",
    ]
    rows = [[name, *f1_values(i)] for i, name in enumerate(spellings)]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows))
    assert r.status == "accepted", r.text()
    assert f1_loaded(s, r.submission_id) == f1_expected(4)


def test_20_unit_option_accepts_any_alias(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx"), unit="交警支队")
    assert (r.status, r.unit, r.unit_name) == ("accepted", "gongan", "市公安局")


def test_21_dates_in_every_spelling_and_serials(s, tmp_path):
    spellings = [
        "2022-05-06",
        "2022/5/6",
        "2022.5.6",
        "2022年5月6日",
        "5月6日",
        "44687",
        dt.date(2022, 5, 6),
        "20220506",
        44687,
    ]
    rows = [f4_row(i + 1, found=d, status="未整改", fixed=None) for i, d in enumerate(spellings)]
    r = go(s, f4_xlsx(tmp_path / "F4.xlsx", rows), unit="浔阳区")
    assert r.status == "accepted", r.text()
    assert query(s, "select distinct found_on from raw.form_f4") == [(dt.date(2022, 5, 6),)]
    assert query(s, "select count(*), count(fixed_on) from raw.form_f4") == [(9, 0)]


@pytest.mark.parametrize("rate_cells", [("95%", "0.95"), ("0.95", "95%"), (0.95, "９５％")])
def test_22_rates_percent_and_fraction(tmp_path, monkeypatch, rate_cells):
    monkeypatch.setenv("ROADSAFE_CAMPAIGNS_DIR", str(campaigns_with_rate_form(tmp_path)))
    s = settings(tmp_path)
    rows = [["重点车辆检验率周报（第5周）"], ["县区", "检验率", "注销率"]]
    rows += [[name, *rate_cells] for name in COUNTY_NAMES[:3]]
    rows += [["德安县", "100%", "0"], ["都昌县", "—", "1"]]
    r = go(s, write_xlsx(tmp_path / "R1.xlsx", rows), form="R1")
    assert r.status == "accepted", r.text()
    got = query(s, "select county, inspect_rate, cancel_rate from raw.form_r1 order by source_row")
    assert got == [
        ("xunyang", 0.95, 0.95),
        ("lianxi", 0.95, 0.95),
        ("chaisang", 0.95, 0.95),
        ("dean", 1.0, 0.0),
        ("duchang", None, 1.0),
    ]


def test_23_rate_without_percent_above_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ROADSAFE_CAMPAIGNS_DIR", str(campaigns_with_rate_form(tmp_path)))
    s = settings(tmp_path)
    rows = [
        ["重点车辆检验率周报（第5周）"],
        ["县区", "检验率", "注销率"],
        ["浔阳区", "95", "0.9"],
        ["濂溪区", "120%", "0.5"],
    ]
    r = go(s, write_xlsx(tmp_path / "R1.xlsx", rows), form="R1")
    assert r.status == "rejected"
    assert texts(r) == [
        "文件“R1.xlsx”工作表“Sheet1”第3行（浔阳区）“检验率”列：数值“95”大于1且未带百分号，无法判断所指比例，"
        "请填写带百分号的比例（如 95%）或0至1之间的小数（如 0.95）。",
        "文件“R1.xlsx”工作表“Sheet1”第4行（濂溪区）“检验率”列：比例“120%”超出0%至100%的范围，"
        "请填写0%至100%之间的比例（如 95% 或 0.95）。",
    ]
    assert query(s, "select count(*) from raw.form_r1") == [(0,)]


def test_24_yes_no_spellings(s, tmp_path):
    base = ["P-01", "浔阳区", "长虹大道与浔阳路交叉口", "2018年以来死亡2人以上路口"]
    rows = [
        [*base, "是", "否", "Y", "N", "√", "2022-05-08"],
        ["P-02", "濂溪区", "十里大道", "十大事故多发路段", "有", "无", "×", "—", "是", None],
    ]
    r = go(s, f5_xlsx(tmp_path / "F5.xlsx", rows), unit="市公路发展中心")
    assert r.status == "accepted", r.text()
    got = query(
        s,
        "select site_id, county, warning_sign, road_marking, speed_bump, warning_post, signal_light, "
        "completed_on from raw.form_f5 order by source_row",
    )
    assert got == [
        ("P-01", "xunyang", "是", "否", "是", "否", "是", dt.date(2022, 5, 8)),
        ("P-02", "lianxi", "是", "否", "否", None, "是", None),
    ]


# --------------------------------------------------------------------------- refusals with exact messages


def test_25_unreadable_number_and_huge_and_negative(s, tmp_path):
    rows = f1_rows()
    rows[2] = ["柴桑区", "abc", 120, 110, 12, 7]
    rows[3] = ["武宁县", 2_000_000_000, 130, 120, 13, 8]
    rows[4] = ["修水县", 140, 130, -5, 14, 9]
    rows[5] = ["永修县", 150, 140, "12.5", 15, 10]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows))
    assert r.status == "rejected" and r.error_count == 4
    assert texts(r) == [
        f"{P}第6行（柴桑区）“重点车辆总数”列：数值“abc”无法识别，请填写不小于0的整数（如 1234）。",
        f"{P}第7行（武宁县）“重点车辆总数”列：数值“2000000000”过大（超过10亿），请核实后填写实际数量。",
        f"{P}第8行（修水县）“已检验数”列：数值“-5”为负数，请填写不小于0的整数（如 1234）。",
        f"{P}第9行（永修县）“已检验数”列：数值“12.5”不是整数，请填写不小于0的整数（如 1234）。",
    ]
    assert r.text().startswith(
        "未受理：市公安局 报送的《重点车辆隐患清零周报》第5周有4处错误，请修改后重新报送。"
        "回执编号 S000001。\n1. "
    )
    assert query(s, "select count(*) from raw.form_f1") == [(0,)]
    assert query(s, "select count(*), min(seq), max(seq) from raw.submission_messages") == [(4, 1, 4)]
    assert query(s, "select row_no, column_header, value from raw.submission_messages order by seq") == [
        (6, "重点车辆总数", "abc"),
        (7, "重点车辆总数", "2000000000"),
        (8, "已检验数", "-5"),
        (9, "已检验数", "12.5"),
    ]


def test_26_row_rule_le(s, tmp_path):
    rows = f1_rows()
    rows[0] = ["浔阳区", 110, 100, "3.15万", 11, 6]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows))
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”第4行（浔阳区）“已检验数”列：“已检验数”（31500）大于“应检验数”（100），"
        "已检验数不应超过应检验数，请核实后更正。"
    ]


def test_27_ledger_rules_and_enum(s, tmp_path):
    rows = [
        f4_row(1),
        f4_row(2, status="整改中", fixed="2022-05-09"),
        f4_row(3, status="已整改", fixed=None),
        f4_row(4, found="2022-05-09", fixed="2022-05-01"),
        f4_row(5, status="已整改完成"),
        f4_row(6, road_type="高速公路", status="未整改", fixed=None),
        f4_row(7, found="2022-02-30", status="未整改", fixed=None),
    ]
    r = go(s, f4_xlsx(tmp_path / "F4.xlsx", rows), unit="浔阳区")
    p = "文件“F4.xlsx”工作表“Sheet1”"
    assert texts(r) == [
        f"{p}第5行（XY-002）“整改完成日期”列：“整改状态”为“整改中”时不应填写“整改完成日期”（当前为“2022-05-09”），"
        "请删除该项或核实“整改状态”是否应为“已整改”。",
        f"{p}第6行（XY-003）“整改完成日期”列：“整改状态”为“已整改”时须填写“整改完成日期”，当前为空，请补充填写。",
        f"{p}第7行（XY-004）“整改完成日期”列：“整改完成日期”（2022-05-01）早于“发现日期”（2022-05-09），请核实日期后更正。",
        f"{p}第8行（XY-005）“整改状态”列：“已整改完成”不是规定的选项，请从“未整改、整改中、已整改”中选择填写。",
        f"{p}第9行（XY-006）“道路类型”列：“高速公路”不是规定的选项，请从“城市道路、国省道、县乡道、村道”中选择填写。",
        f"{p}第10行（XY-007）“发现日期”列：日期“2022-02-30”无法识别，请按“2022-04-15”或“2022年4月15日”的格式填写。",
    ]


def test_28_required_cells(s, tmp_path):
    rows = [f4_row(1), ["XY-002", "浔阳区", "—", "城市道路", "标志标线缺失", None, "未整改", None, None]]
    r = go(s, f4_xlsx(tmp_path / "F4.xlsx", rows), unit="浔阳区")
    p = "文件“F4.xlsx”工作表“Sheet1”第5行（XY-002）"
    assert texts(r) == [
        f"{p}“道路名称”列：此项为必填项，当前为“—”，请补充填写。",
        f"{p}“发现日期”列：此项为必填项，当前为空，请补充填写。",
    ]


def test_29_duplicate_record_key_in_one_file(s, tmp_path):
    rows = f1_rows()
    rows.append(["浔阳", 1, 1, 1, 1, 1])
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows))
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”第19行“县区”列：“浔阳”与第4行重复，同一县区只能填报一行，请合并或删除重复行。"
    ]


def test_30_wrong_units_rows(s, tmp_path):
    rows = [["浔阳区", *f1_values(0)], ["濂溪区", *f1_values(1)]]
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows), unit="浔阳区")
    assert r.status == "rejected"
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”：文件中的填报单位为“市公安局”，与报送单位浔阳区不一致，已按浔阳区受理，请核实。",
        "文件“F1.xlsx”工作表“Sheet1”第5行“县区”列：“濂溪区”不属于浔阳区的填报范围，县（市、区）只能报送本地区的数据，"
        "请删除该行或由有关单位报送。",
    ]


def test_31_department_name_in_county_column(s, tmp_path):
    rows = f1_rows()
    rows[0][0] = "市公安局"
    rows[1][0] = "南昌县"
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", rows=rows))
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”第4行“县区”列：“市公安局”是市公安局，不是县（市、区），请填写该行所属的县区名称。",
        "文件“F1.xlsx”工作表“Sheet1”第5行“县区”列：“南昌县”不是本市的县（市、区）名称，请填写规范的县区名称（如“浔阳区”）。",
    ]


def test_32_not_a_submitter_of_the_form(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx"), unit="市教育局")
    assert r.status == "rejected"
    assert texts(r)[0] == (
        "文件“F1.xlsx”工作表“Sheet1”：市教育局不是《重点车辆隐患清零周报》的报送单位"
        "（报送单位：市公安局、各县(市、区)人民政府），请核对报表或报送单位。"
    )


def test_33_period_outside_the_campaign(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", title=False), period=20)
    assert r.status == "rejected" and r.period == 20 and r.due_at is None
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”：第20周不在本次整治的报送期内（第1周至第13周，2022-04-07至2022-06-30），"
        "请核对周次后重新报送。"
    ]
    assert query(s, "select period_no, status, due_at from raw.submissions") == [(20, "rejected", None)]


def test_34_period_cannot_be_told(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", title=False))
    assert r.status == "rejected" and r.period is None
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”：无法确定报送的周次：文件标题中没有“第N周”字样，也未指定周次，"
        "请在标题中写明周次（如“第5周”），或在报送时选择周次。"
    ]


def test_35_chosen_week_differs_from_the_title(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", week=4), period=5)
    assert r.status == "accepted" and r.period == 5
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”：文件标题为第4周，但报送时选择的是第5周，已按第5周受理，请核实。"
    ]


def test_36_tasks_form(s, tmp_path):
    led = CAMPAIGN.tasks_led_by("gonglu")
    other = next(t.no for t in CAMPAIGN.tasks if t.no not in led)
    rows = [
        [str(led[0]), "推进中", "已完成排查", "资金不足", "照片"],
        [f"第{led[1]}项", "已完成", "完成", None, None],
    ]
    r = go(s, f9_xlsx(tmp_path / "F9.xlsx", rows), unit="市公路发展中心")
    assert r.status == "accepted", r.text()
    assert query(
        s,
        "select task_no, subject_unit_id, record_key, status, difficulties from raw.form_f9 "
        "order by source_row",
    ) == [
        (str(led[0]), "gonglu", str(led[0]), "推进中", "资金不足"),
        (str(led[1]), "gonglu", str(led[1]), "已完成", None),
    ]
    bad = [
        [str(other), "推进中", None, None, None],
        ["99", "未启动", None, None, None],
        ["三", "未启动", None, None, None],
    ]
    r = go(s, f9_xlsx(tmp_path / "F9-bad.xlsx", bad), unit="市公路发展中心")
    p = "文件“F9-bad.xlsx”工作表“Sheet1”"
    assert texts(r) == [
        f"{p}第4行“任务编号”列：第{other}项任务不由市公路发展中心牵头，不能由本单位报送；本单位牵头的任务为："
        f"{'、'.join(map(str, led))}。请删除该行。",
        f"{p}第5行“任务编号”列：任务编号“99”不存在，本次整治的任务编号为1至26，请核对。",
        f"{p}第6行“任务编号”列：任务编号“三”无法识别，请填写任务的阿拉伯数字编号（如 3）。",
    ]


def test_37_many_errors_are_capped_and_counted(s, tmp_path):
    rows = [f4_row(i, found="abc", status="未整改", fixed=None) for i in range(1, 151)]
    r = go(s, f4_xlsx(tmp_path / "F4.xlsx", rows), unit="浔阳区")
    assert r.status == "rejected" and r.error_count == 150
    assert len(r.messages) == 101
    assert (
        r.messages[-1].text
        == "文件“F4.xlsx”工作表“Sheet1”：另有50处问题未逐条列出，请参照上述问题对全表逐一核对。"
    )
    assert query(s, "select error_count, row_count from raw.submissions") == [(150, 150)]


# --------------------------------------------------------------------------- across submissions


def test_38_resubmission_supersedes_and_both_stay(s, tmp_path):
    first = go(s, f1_xlsx(tmp_path / "v1.xlsx"))
    second = go(s, f1_xlsx(tmp_path / "v2.xlsx", rows=f1_rows(bump=2)), received_at=at(2022, 5, 12, 11, 0))
    assert (first.status, second.status) == ("accepted", "accepted")
    assert second.superseded == ("S000001",)
    assert second.text() == (
        "已受理：市公安局 报送的《重点车辆隐患清零周报》第5周，共15行，按时报送。回执编号 S000002。"
        "本次报送替代此前的 S000001。"
    )
    assert query(s, "select submission_id, status, superseded_by from raw.submissions order by 1") == [
        ("S000001", "accepted", "S000002"),
        ("S000002", "accepted", None),
    ]
    assert query(s, "select submission_id, count(*) from raw.form_f1 group by 1 order by 1") == [
        ("S000001", 15),
        ("S000002", 15),
    ]


def test_39_same_file_twice_is_a_duplicate(s, tmp_path):
    path = f1_xlsx(tmp_path / "F1.xlsx")
    first = go(s, path)
    again = go(s, path, received_at=at(2022, 5, 12, 11, 0))
    assert (first.status, again.status, again.row_count) == ("accepted", "duplicate", 0)
    assert again.text() == (
        "重复报送：市公安局 报送的《重点车辆隐患清零周报》第5周与已受理的 S000001 内容完全相同，未重复导入。"
        "回执编号 S000002。"
    )
    assert query(s, "select count(*) from raw.form_f1") == [(15,)]
    assert query(s, "select submission_id, status, superseded_by from raw.submissions order by 1") == [
        ("S000001", "accepted", None),
        ("S000002", "duplicate", None),
    ]
    # the bytes are landed once
    landed = [p for p in s.landing.rglob("*.xlsx")]
    assert len(landed) == 1


def test_40_cumulative_may_not_fall(s, tmp_path):
    go(s, f1_xlsx(tmp_path / "w5.xlsx", week=5))
    rows = f1_rows(bump=5)
    rows[0] = ["浔阳区", 90, 95, 70, 16, 11]  # total falls (warning), inspected falls (error)
    r = go(s, f1_xlsx(tmp_path / "w6.xlsx", week=6, rows=rows), received_at=at(2022, 5, 19, 9))
    assert r.status == "rejected"
    p = "文件“w6.xlsx”工作表“Sheet1”第4行（浔阳区）"
    assert texts(r) == [
        f"{p}“重点车辆总数”列：累计数“90”小于上期（第5周，回执编号 S000001）已报送的“100”，"
        "累计数不应减少，请核实是否填报有误。",
        f"{p}“已检验数”列：累计数“70”小于上期（第5周，回执编号 S000001）已报送的“80”，"
        "累计数不应减少，请核实后更正。",
    ]
    assert (r.error_count, r.warning_count) == (1, 1)
    rows[0] = ["浔阳区", 90, 95, 85, 16, 11]  # only the warning is left: accepted
    r = go(s, f1_xlsx(tmp_path / "w6b.xlsx", week=6, rows=rows), received_at=at(2022, 5, 19, 10))
    assert r.status == "accepted" and r.warning_count == 1
    assert r.text() == (
        "已受理：市公安局 报送的《重点车辆隐患清零周报》第6周，共15行，按时报送。回执编号 S000003。\n"
        "请注意以下1条提示：\n"
        "1. 文件“w6b.xlsx”工作表“Sheet1”第4行（浔阳区）“重点车辆总数”列：累计数“90”小于上期（第5周，回执编号 S000001）"
        "已报送的“100”，累计数不应减少，请核实是否填报有误。"
    )


def test_41_late_submission(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx"), received_at=at(2022, 5, 13, 14, 5))
    assert (r.status, r.minutes_late) == ("accepted", 26 * 60 + 5)
    assert r.due_at == at(2022, 5, 12, 12, 0)
    assert "逾期报送（超过截止时间1天2小时5分钟）" in r.text()
    assert query(s, "select due_at, minutes_late from raw.submissions") == [(at(2022, 5, 12, 12, 0), 1565)]


def test_42_form_recognised_without_form_option(s, tmp_path):
    rows = [
        ["道路交通隐患排查整治台账"],
        ["填报单位：浔阳区", None, "统计时段：2022年5月5日至5月11日"],
        F4_HEADER,
        f4_row(1),
    ]
    r = go(s, write_xlsx(tmp_path / "ledger.xlsx", rows), unit="浔阳")
    assert (r.status, r.form, r.period) == ("accepted", "F4", 5)
    assert query(s, "select hazard_id, county, road_type, found_on, status, fixed_on from raw.form_f4") == [
        ("XY-001", "xunyang", "城市道路", dt.date(2022, 5, 6), "已整改", dt.date(2022, 5, 10))
    ]


# --------------------------------------------------------------------------- every other form


def test_43_flow_counts_gbk_csv_with_blank_line_and_subtotal(s, tmp_path):
    rows = [
        ["严重交通违法查处周报（第5周）"],
        ["县区", "酒驾醉驾", "电动自行车违法", "工程运输车违法", "客货车记分违法", "农村道路记分违法"],
    ]
    rows += [[name, i, i * 2, i * 3, i * 4, i * 5] for i, name in enumerate(COUNTY_NAMES)]
    rows.insert(8, [])
    rows.append(["小计", 1, 1, 1, 1, 1])
    r = go(s, write_csv(tmp_path / "违法查处.csv", rows, "gbk"))
    assert (r.status, r.form, r.period, r.row_count) == ("accepted", "F3", 5, 15)
    got = query(
        s, "select source_row, county, drunk_driving, rural_point_violations from raw.form_f3 order by 1"
    )
    assert got[5:8] == [(8, COUNTY_IDS[5], 5, 25), (10, COUNTY_IDS[6], 6, 30), (11, COUNTY_IDS[7], 7, 35)]


def test_44_drivers_form_two_row_header_in_a_bom_csv(s, tmp_path):
    rows = [
        ["重点驾驶人隐患清零周报（第5周）"],
        ["县区", "换证情况", None, "审验情况", None],
        [None, "应换证数", "已换证数", "应审验数", "已审验数"],
    ]
    rows += [[name, 100 + i, 90 + i, 50, 40] for i, name in enumerate(COUNTY_NAMES)]
    r = go(s, write_csv(tmp_path / "驾驶人.csv", rows, "utf-8-sig"))
    assert (r.status, r.form, r.row_count) == ("accepted", "F2", 15)
    assert query(
        s,
        "select county, renew_due, renewed, review_due, reviewed from raw.form_f2 order by source_row "
        "limit 2",
    ) == [("xunyang", 100, 90, 50, 40), ("lianxi", 101, 91, 50, 40)]


def test_45_transport_enterprises_by_the_transport_bureau(s, tmp_path):
    rows = [
        ["运输企业安全检查周报（第5周）"],
        ["县区", "高风险运输企业数", "本周检查企业数", "发现问题数", "已整改问题数"],
    ]
    rows += [[name, 5, 3, 2, 1] for name in COUNTY_NAMES]
    r = go(s, write_xlsx(tmp_path / "F6.xlsx", rows), unit="市交通局")
    assert (r.status, r.unit, r.form) == ("accepted", "jiaotong", "F6")
    assert query(s, "select sum(high_risk_enterprises), sum(problems_fixed) from raw.form_f6") == [(75, 15)]


def test_46_ebike_form_rule(s, tmp_path):
    rows = [
        ["电动车及工程运输车管理周报（第5周）"],
        ["县区", "共享电动车总数", "已登记上牌数", "已配备头盔数", "工程运输车放大号牌已安装数"],
        ["浔阳区", 1000, 900, 800, 30],
        ["濂溪区", 1000, 900, 1200, 30],
    ]
    r = go(s, write_xlsx(tmp_path / "F7.xlsx", rows), unit="市城管局")
    assert texts(r) == [
        "文件“F7.xlsx”工作表“Sheet1”第4行（濂溪区）“已配备头盔数”列：“已配备头盔数”（1200）大于“共享电动车总数”（1000），"
        "已配备头盔数不应超过共享电动车总数，请核实后更正。"
    ]


def test_47_accidents_with_unknown_last_year(s, tmp_path):
    rows = [["道路交通事故周报（第5周）"], ["县区", "事故起数", "死亡人数", "受伤人数", "去年同期死亡人数"]]
    rows += [[name, 3, 1, 2, "—"] for name in COUNTY_NAMES]
    r = go(s, write_xlsx(tmp_path / "F8.xlsx", rows))
    assert r.status == "accepted"
    assert query(s, "select count(*), sum(deaths), count(deaths_last_year) from raw.form_f8") == [(15, 15, 0)]


def test_48_a_spreadsheet_that_is_no_form(s, tmp_path):
    rows = [["会议签到表"], ["姓名", "单位", "电话"], ["张三", "市公安局", "0792-1234567"]]
    r = go(s, write_xlsx(tmp_path / "签到表.xlsx", rows), period=5)
    assert (r.status, r.form) == ("rejected", None)
    assert texts(r) == [
        "未能识别报表类型：文件“签到表.xlsx”的工作表“Sheet1”前 30 行中找不到任何报表的表头"
        "（如“县区”“隐患编号”“任务编号”等列名）。请使用下载的模板，或在上传时选择报表。"
    ]


def test_49_title_names_a_week_after_the_campaign(s, tmp_path):
    r = go(s, f1_xlsx(tmp_path / "F1.xlsx", week=14))
    assert (r.status, r.period) == ("rejected", 14)
    assert texts(r) == [
        "文件“F1.xlsx”工作表“Sheet1”：第14周不在本次整治的报送期内（第1周至第13周，2022-04-07至2022-06-30），"
        "请核对周次后重新报送。"
    ]
