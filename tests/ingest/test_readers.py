"""Reading real submitted files: .xlsx (xlsxwriter/openpyxl), .xls (xlwt) and .csv in offices' encodings.

Every test writes a real file into ``tmp_path``, parses it with :func:`ingest.readers.parse_file` and, where
rows matter, loads them into a real DuckDB connection with :meth:`ParsedTable.load_into`, asserting the exact
Excel row numbers and cell texts a submitter would see.
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile

import duckdb
import openpyxl
import pytest
import xlsxwriter
import xlwt
from corpus import F1_HEADER, F4_HEADER

from ingest.headers import SKIP_BLANK, SKIP_FOOTER, SKIP_TOTAL
from ingest.readers import FormNotRecognised, ParsedTable, UnreadableFile, parse_file
from roadsafe.campaign import load_campaign

F1_TITLE = "2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）"


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("jiujiang-2022")


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def loaded(parsed: ParsedTable, con, table: str = "cells") -> list[tuple]:
    n = parsed.load_into(con, table)
    rows = con.execute(f"select * from {table} order by source_row").fetchall()
    assert len(rows) == n
    return rows


def write_xlsx(path, rows, merges=(), sheet="Sheet1"):
    """Rows of cells from A1 down; ``None`` leaves a cell empty. ``merges``: (first row, first col, last row,
    last col) 0-based, the text being the top-left cell of ``rows``."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet)
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    merged = {(r1, c1) for r1, c1, _, _ in merges}
    for r1, c1, r2, c2 in merges:
        ws.merge_range(r1, c1, r2, c2, rows[r1][c1])
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or (r, c) in merged:
                continue
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, value, date_format)
            else:
                ws.write(r, c, value)
    wb.close()
    return path


# ---------------------------------------------------------------------------------------------- xlsx layouts


def test_xlsx_title_unit_line_merged_header_total_blank_and_footer(campaign, con, tmp_path):
    rows = [
        [F1_TITLE, None, None, None, None, None],
        ["填报单位：市公安局", None, None, "填报日期：2022年5月12日", None, None],
        ["县区", "重点车辆总数", "检验情况", None, "注销情况", None],
        [None, None, "应检验数", "已检验数", "应注销数", "已注销数"],
        ["浔阳区", 3120, 690, 455, 71, 40],
        [],
        ["九江市濂溪区", 2890, 610, 600, 66, 66],
        ["合  计", 6010, 1300, 1055, 137, 106],
        [],
        ["填报人：张三", None, "联系电话：0792-1234567", None, "审核人：李四", None],
        ["说明：数据截至本周三"],
    ]
    merges = [(0, 0, 0, 5), (1, 0, 1, 2), (2, 0, 3, 0), (2, 1, 3, 1), (2, 2, 2, 3), (2, 4, 2, 5)]
    path = write_xlsx(tmp_path / "公安局.xlsx", rows, merges, sheet="F1")
    parsed = parse_file(path, campaign, original_name="重点车辆周报.xlsx")

    assert (parsed.sheet, parsed.form_code, parsed.header_row) == ("F1", "F1", 4)
    assert parsed.original_name == "重点车辆周报.xlsx"
    assert parsed.columns == {
        "county": 0,
        "vehicles_total": 1,
        "inspect_due": 2,
        "inspected": 3,
        "cancel_due": 4,
        "cancelled": 5,
    }
    assert parsed.headers["inspected"] == "检验情况/已检验数"
    assert parsed.headers["county"] == "县区"
    assert (parsed.missing_required, parsed.missing_optional, parsed.extra_headers) == ([], [], [])
    assert (parsed.detected_form, parsed.detected_period, parsed.detected_unit) == ("F1", 5, "gongan")
    assert parsed.skipped_rows == [
        (6, SKIP_BLANK),
        (8, SKIP_TOTAL),
        (9, SKIP_BLANK),
        (10, SKIP_FOOTER),
        (11, SKIP_FOOTER),
    ]
    assert loaded(parsed, con) == [
        (5, "浔阳区", "3120", "690", "455", "71", "40"),
        (7, "九江市濂溪区", "2890", "610", "600", "66", "66"),
    ]
    cols = con.execute("describe cells").fetchall()
    assert [(c[0], c[1]) for c in cols] == [("source_row", "INTEGER")] + [
        (k, "VARCHAR") for k in campaign.forms["F1"].column_keys
    ]


def test_xlsx_table_not_at_a1_keeps_excel_row_numbers(campaign, con, tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "offset.xlsx"))
    ws = wb.add_worksheet()
    ws.write("C4", "道路交通事故周报（第3周）")
    for c, header in enumerate(["县区", "事故起数", "死亡人数", "受伤人数", "去年同期死亡人数"]):
        ws.write(6, 2 + c, header)
    ws.write_row(7, 2, ["修水县", 3, 1, 2, 2])
    ws.write_row(9, 2, ["武宁", 0, 0, 0, 1])
    wb.close()
    parsed = parse_file(tmp_path / "offset.xlsx", campaign)
    assert (parsed.form_code, parsed.header_row, parsed.detected_period) == ("F8", 7, 3)
    assert parsed.columns["county"] == 2
    assert loaded(parsed, con) == [(8, "修水县", "3", "1", "2", "2"), (10, "武宁", "0", "0", "0", "1")]
    assert parsed.skipped_rows == [(9, SKIP_BLANK)]


def test_cell_text_rules_xlsx(campaign, con, tmp_path):
    """Numbers as typed (no 1234.0, no float noise), dates as 2022-04-15, text stripped, blank → NULL."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(F1_HEADER)
    ws.append(["浔阳区", 1234, 1234.0, 0.95, 0.1 + 0.2, 123456789.123])
    ws.append(["  濂溪区\u3000", -5.0, "3.15万", "95%", "1,234", "　"])
    ws.append(["柴桑区", dt.date(2022, 4, 15), dt.datetime(2022, 4, 15, 13, 30), "2022/4/15", 44666, "—"])
    for i in range(1200):  # fastexcel would guess "number" from these and null the text below
        ws.append(["武宁县", i, i, i, i, i])
    ws.append(["修水县", "3.15万", "95%", "0.95", 1e-7, "12.50"])
    wb.save(tmp_path / "values.xlsx")
    rows = loaded(parse_file(tmp_path / "values.xlsx", campaign), con)
    assert rows[:3] == [
        (2, "浔阳区", "1234", "1234", "0.95", "0.3", "123456789.123"),
        (3, "濂溪区", "-5", "3.15万", "95%", "1,234", None),
        (4, "柴桑区", "2022-04-15", "2022-04-15", "2022/4/15", "44666", "—"),
    ]
    assert rows[-1] == (1205, "修水县", "3.15万", "95%", "0.95", "0.0000001", "12.50")
    assert len(rows) == 1204


def test_columns_full_width_out_of_order_extra_and_duplicate(campaign, con, tmp_path):
    header = [
        "序号",
        "已注销数（辆）",
        "　县　区　",
        "应检验数＊",
        "重点车辆\n总数",
        "已检验数",
        "应注销数",
        "备注",
        "县区",
    ]
    rows = [header, [1, 40, "浔阳区", 690, 3120, 455, 71, "无", "浔阳区"]]
    parsed = parse_file(write_xlsx(tmp_path / "odd.xlsx", rows), campaign)
    assert parsed.form_code == "F1"
    assert parsed.columns == {
        "county": 2,
        "vehicles_total": 4,
        "inspect_due": 3,
        "inspected": 5,
        "cancel_due": 6,
        "cancelled": 1,
    }
    assert parsed.headers["county"] == "县　区"  # as found, cell text stripped
    assert parsed.extra_headers == ["序号", "备注", "县区"]
    assert loaded(parsed, con) == [(2, "浔阳区", "3120", "690", "455", "71", "40")]


def test_missing_required_column_is_reported_not_refused(campaign, con, tmp_path):
    header = [h for h in F4_HEADER if h != "道路类型"]
    row = ["YH001", "浔阳区", "长虹大道", "缺少标志", dt.date(2022, 4, 20), "已整改", dt.date(2022, 5, 2)]
    row.append("城管局")
    rows = [header, row]
    parsed = parse_file(write_xlsx(tmp_path / "f4.xlsx", rows), campaign, form_code="F4")
    assert parsed.missing_required == ["road_type"]
    assert parsed.missing_optional == []
    assert loaded(parsed, con) == [
        (2, "YH001", "浔阳区", "长虹大道", "缺少标志", "2022-04-20", "已整改", "2022-05-02", "城管局")
    ]
    assert "road_type" not in [c[0] for c in con.execute("describe cells").fetchall()]


def test_second_sheet_holds_the_form(campaign, con, tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "two.xlsx"))
    notes = wb.add_worksheet("填表说明")
    notes.write("A1", "1. 县区请从下拉列表选择；2. 数字填整数。")
    notes.write("A2", "填报单位：市交通运输局")
    form = wb.add_worksheet("运输企业")
    form.write_row(0, 0, ["运输企业安全检查周报（第7周）"])
    form.write_row(1, 0, ["县区", "高风险运输企业数", "本周检查企业数", "发现问题数", "已整改问题数"])
    form.write_row(2, 0, ["庐山市", 4, 2, 5, 3])
    wb.close()
    parsed = parse_file(tmp_path / "two.xlsx", campaign)
    assert (parsed.sheet, parsed.form_code, parsed.header_row) == ("运输企业", "F6", 2)
    assert parsed.detected_period == 7
    assert loaded(parsed, con) == [(3, "庐山市", "4", "2", "5", "3")]


def test_xlsx_saved_with_xls_suffix_is_read_by_content(campaign, con, tmp_path):
    path = write_xlsx(tmp_path / "real.xlsx", [F1_HEADER, ["湖口县", 1, 2, 1, 0, 0]])
    renamed = tmp_path / "renamed.xls"
    renamed.write_bytes(path.read_bytes())
    assert loaded(parse_file(renamed, campaign), con) == [(2, "湖口县", "1", "2", "1", "0", "0")]


def test_load_into_twice_rereads_and_replaces(campaign, con, tmp_path):
    parsed = parse_file(write_xlsx(tmp_path / "f.xlsx", [F1_HEADER, ["都昌县", 1, 2, 1, 0, 0]]), campaign)
    first = loaded(parsed, con, "t1")
    assert parsed.load_into(con, "t1") == 1  # the cached rows were used once; this reads the file again
    assert con.execute("select * from t1").fetchall() == first


# ---------------------------------------------------------------------------------------------- xls


def test_xls_with_merged_header_dates_and_numbers(campaign, con, tmp_path):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("F4")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    ws.write_merge(0, 0, 0, 8, "道路交通隐患排查整治台账（第2周）")
    ws.write_merge(1, 1, 0, 8, "填报单位：修水县　　统计时段：2022年4月14日至4月20日")
    for c, header in enumerate(F4_HEADER[:6]):
        ws.write_merge(2, 3, c, c, header)
    ws.write_merge(2, 2, 6, 8, "整改情况")
    for c, header in enumerate(F4_HEADER[6:], start=6):
        ws.write(3, c, header)
    ws.write(4, 0, "YH-0001")
    ws.write(4, 1, "修水")
    ws.write(4, 2, "G105国道K12")
    ws.write(4, 3, "国省道")
    ws.write(4, 4, "缺少警示标志")
    ws.write(4, 5, dt.date(2022, 4, 15), date_style)
    ws.write(4, 6, "已整改")
    ws.write(4, 7, dt.datetime(2022, 4, 18, 9, 30), date_style)
    ws.write(4, 8, 12.0)
    ws.write(5, 0, 7)
    ws.write(5, 1, "修水县")
    ws.write(5, 2, 0.95)
    ws.write(5, 6, "整改中")
    ws.write(6, 0, "小计")
    ws.write(7, 0, "填报人：")
    wb.save(str(tmp_path / "f4.xls"))

    parsed = parse_file(tmp_path / "f4.xls", campaign)
    assert (parsed.sheet, parsed.form_code, parsed.header_row) == ("F4", "F4", 4)
    assert parsed.headers["fixed_on"] == "整改情况/整改完成日期"
    assert parsed.headers["found_on"] == "发现日期"
    assert (parsed.detected_form, parsed.detected_period, parsed.detected_unit) == ("F4", 2, "xiushui")
    assert parsed.skipped_rows == [(7, SKIP_TOTAL), (8, SKIP_FOOTER)]
    assert loaded(parsed, con) == [
        (
            5,
            "YH-0001",
            "修水",
            "G105国道K12",
            "国省道",
            "缺少警示标志",
            "2022-04-15",
            "已整改",
            "2022-04-18",
            "12",
        ),
        (6, "7", "修水县", "0.95", None, None, None, "整改中", None, None),
    ]


# ---------------------------------------------------------------------------------------------- csv

CSV_ROWS = [
    "道路交通隐患排查整治台账（第4周）,,,,,,,,",
    "填报单位：市公路发展中心,,,,,,,,",
    ",".join(F4_HEADER),
    "GL-001,武宁县,S304省道{road},国省道,急弯无标志,2022-04-21,未整改,,市公路发展中心",
    ",,,,,,,,",
    'GL-002,永修县,"昌九大道,北段",城市道路,"路灯缺失\n夜间照明差",2022/4/22,已整改,2022年4月26日,永修县城管局',
    "合计,2,,,,,,,",
    "填报人：王五,,联系电话：,,,,,,",
]
CSV_EXPECTED = [
    (
        4,
        "GL-001",
        "武宁县",
        "S304省道{road}",
        "国省道",
        "急弯无标志",
        "2022-04-21",
        "未整改",
        None,
        "市公路发展中心",
    ),
    (
        6,
        "GL-002",
        "永修县",
        "昌九大道,北段",
        "城市道路",
        "路灯缺失\n夜间照明差",
        "2022/4/22",
        "已整改",
        "2022年4月26日",
        "永修县城管局",
    ),
]


@pytest.mark.parametrize(
    ("encoding", "road", "newline"),
    [("gbk", "", "\r\n"), ("gb18030", "𠮷", "\r\n"), ("utf-8-sig", "𠮷", "\r\n"), ("utf-8", "𠮷", "\n")],
)
def test_csv_encodings(campaign, con, tmp_path, encoding, road, newline):
    text = newline.join(CSV_ROWS).replace("{road}", road) + newline
    if encoding == "gbk":
        with pytest.raises(UnicodeEncodeError):
            "𠮷".encode("gbk")  # the GB18030 case really needs GB18030
    path = tmp_path / "inbox" / "台账.csv"
    path.parent.mkdir()
    path.write_bytes(text.encode(encoding))
    parsed = parse_file(path, campaign)
    assert (parsed.sheet, parsed.form_code, parsed.header_row) == ("CSV", "F4", 3)
    assert (parsed.detected_form, parsed.detected_period, parsed.detected_unit) == ("F4", 4, "gonglu")
    assert parsed.skipped_rows == [(5, SKIP_BLANK), (7, SKIP_TOTAL), (8, SKIP_FOOTER)]
    expected = [tuple(v.replace("{road}", road) if v else v for v in row[1:]) for row in CSV_EXPECTED]
    expected = [(row[0], *rest) for row, rest in zip(CSV_EXPECTED, expected, strict=True)]
    assert loaded(parsed, con) == expected
    assert [p.name for p in path.parent.iterdir()] == ["台账.csv"]  # the UTF-8 temporary copy is gone


@pytest.mark.parametrize(("encoding", "newline"), [("utf-8", "\n"), ("gbk", "\r\n"), ("utf-16", "\r\n")])
def test_csv_blank_lines_keep_excel_row_numbers(campaign, con, tmp_path, encoding, newline):
    lines = ["F8 道路交通事故周报", "", "县区,事故起数,死亡人数,受伤人数", "", "浔阳区,1,0,2", "", ""]
    lines += ['濂溪区,2,1,"1"', ""]
    text = newline.join(lines)
    (tmp_path / "f8.csv").write_bytes(text.encode(encoding))
    parsed = parse_file(tmp_path / "f8.csv", campaign)
    assert (parsed.form_code, parsed.header_row) == ("F8", 3)
    assert loaded(parsed, con) == [(5, "浔阳区", "1", "0", "2"), (8, "濂溪区", "2", "1", "1")]
    assert parsed.skipped_rows == [(4, SKIP_BLANK), (6, SKIP_BLANK), (7, SKIP_BLANK)]


def test_csv_two_row_header_as_excel_saves_merged_cells(campaign, con, tmp_path):
    text = "\r\n".join(
        [
            "县区,重点车辆总数,检验情况,,注销情况,",
            ",,应检验数,已检验数,应注销数,已注销数",
            "德安县,812,120,118,9,9",
        ]
    )
    (tmp_path / "f1.csv").write_bytes(text.encode("gbk"))
    parsed = parse_file(tmp_path / "f1.csv", campaign)
    assert parsed.header_row == 2
    assert parsed.headers["cancelled"] == "注销情况/已注销数"
    assert loaded(parsed, con) == [(3, "德安县", "812", "120", "118", "9", "9")]


def test_tab_separated_utf16_text(campaign, con, tmp_path):
    text = "\r\n".join(["\t".join(F1_HEADER), "\t".join(["彭泽县", "10", "8", "7", "1", "1"])])
    (tmp_path / "f1.csv").write_bytes(text.encode("utf-16"))
    parsed = parse_file(tmp_path / "f1.csv", campaign)
    assert loaded(parsed, con) == [(2, "彭泽县", "10", "8", "7", "1", "1")]


def test_period_from_file_name_and_filing_date(campaign, tmp_path):
    path = tmp_path / "x.csv"
    lines = ["填报日期：2022年5月19日", ",".join(F1_HEADER), "浔阳区,1,1,1,1,1"]
    path.write_text("\n".join(lines), encoding="utf-8")
    assert parse_file(path, campaign).detected_period == 6  # week 6 ended 05-18
    assert parse_file(path, campaign, original_name="F1-第7周.csv").detected_period == 7
    path.write_text("\n".join([",".join(F1_HEADER), "浔阳区,1,1,1,1,1"]), encoding="utf-8")
    parsed = parse_file(path, campaign)
    assert (parsed.detected_period, parsed.detected_unit, parsed.detected_form) == (None, None, "F1")


# ---------------------------------------------------------------------------------------------- refusals


def test_empty_sheet_is_unreadable(campaign, tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "empty.xlsx"))
    wb.add_worksheet("Sheet1")
    wb.close()
    with pytest.raises(UnreadableFile) as exc:
        parse_file(tmp_path / "empty.xlsx", campaign, original_name="空表.xlsx")
    assert exc.value.message == (
        "文件“空表.xlsx”无法读取：文件中没有任何内容（所有工作表都是空的）。请填写报表后重新上传。"
    )


def test_zero_byte_file_is_unreadable(campaign, tmp_path):
    (tmp_path / "zero.xlsx").write_bytes(b"")
    with pytest.raises(UnreadableFile) as exc:
        parse_file(tmp_path / "zero.xlsx", campaign)
    assert exc.value.message == "文件“zero.xlsx”无法读取：文件是空的（0 字节）。请检查文件后重新上传。"


def _png() -> bytes:
    return bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\x00" * 64


@pytest.mark.parametrize(
    "content",
    [
        "县区,重点车辆总数\n浔阳区,1\n".encode(),  # a text file renamed .xlsx
        _png(),
        random.Random(7).randbytes(4096),
    ],
    ids=["text", "png", "random"],
)
def test_not_a_spreadsheet_renamed_xlsx(campaign, tmp_path, content):
    (tmp_path / "报表.xlsx").write_bytes(content)
    with pytest.raises(UnreadableFile) as exc:
        parse_file(tmp_path / "报表.xlsx", campaign)
    assert exc.value.message == (
        "文件“报表.xlsx”无法读取：不是有效的 Excel 或 CSV 文件。请另存为 .xlsx 后重新上传。"
    )


def test_binary_file_named_csv_and_word_file_named_xlsx(campaign, tmp_path):
    (tmp_path / "a.csv").write_bytes(_png())
    with pytest.raises(UnreadableFile, match="不是有效的 Excel 或 CSV 文件"):
        parse_file(tmp_path / "a.csv", campaign)
    with zipfile.ZipFile(tmp_path / "b.xlsx", "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UnreadableFile, match="可能是 Word 文档或压缩包"):
        parse_file(tmp_path / "b.xlsx", campaign)


def test_encrypted_workbook_container_is_unreadable(campaign, tmp_path):
    # Excel saves a password-protected .xlsx as an OLE2 container holding an "EncryptedPackage" stream.
    fake = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le")
    (tmp_path / "secret.xlsx").write_bytes(fake)
    with pytest.raises(UnreadableFile) as exc:
        parse_file(tmp_path / "secret.xlsx", campaign)
    assert exc.value.message.startswith("文件“secret.xlsx”无法读取：文件设置了打开密码。请在 Excel 中")


def test_unknown_table_is_not_recognised(campaign, tmp_path):
    path = write_xlsx(tmp_path / "名单.xlsx", [["姓名", "电话", "单位"], ["张三", "123", "市公安局"]])
    with pytest.raises(FormNotRecognised) as exc:
        parse_file(path, campaign)
    assert exc.value.message.startswith(
        "未能识别报表类型：文件“名单.xlsx”的工作表“Sheet1”前 30 行中找不到任何报表的表头"
    )
    assert exc.value.message.endswith("请使用下载的模板，或在上传时选择报表。")


def test_chosen_form_does_not_match_the_headers(campaign, tmp_path):
    f2 = [["县区", "应换证数", "已换证数", "应审验数", "已审验数"], ["浔阳区", 10, 9, 8, 8]]
    path = write_xlsx(tmp_path / "f2.xlsx", f2)
    with pytest.raises(FormNotRecognised) as exc:
        parse_file(path, campaign, form_code="F1")
    assert exc.value.message == (
        "未能识别报表类型：文件“f2.xlsx”的表头与「F1 重点车辆隐患清零周报」不符，只找到列：县区；"
        "未找到：重点车辆总数、应检验数、已检验数、应注销数、已注销数。"
        "文件的表头是「F2 重点驾驶人隐患清零周报」的，请确认选择的报表。"
        "请使用下载的模板，或在上传时选择报表。"
    )
    assert exc.value.suggested_form == "F2"
    assert parse_file(path, campaign).form_code == "F2"


def test_chosen_form_missing_most_required_columns(campaign, tmp_path):
    rows = [["隐患编号", "县区", "发现日期"], ["YH1", "浔阳区", "2022-04-20"]]
    path = write_xlsx(tmp_path / "f4.xlsx", rows)
    with pytest.raises(FormNotRecognised) as exc:
        parse_file(path, campaign, form_code="F4")
    assert "缺少必填列：道路名称、道路类型、隐患类型、整改状态。" in exc.value.message
    assert exc.value.missing == ["道路名称", "道路类型", "隐患类型", "整改状态"]


def test_unknown_form_code(campaign, tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [F1_HEADER])
    with pytest.raises(FormNotRecognised, match="报表代码“F99”不存在"):
        parse_file(path, campaign, form_code="F99")
