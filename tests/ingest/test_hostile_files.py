"""Hostile and broken files (issue 8): each is refused or accepted with a clear Chinese message, within
bounded time and memory, and nothing changes in the warehouse but the record of that one submission.

Every case is built from code (``hostile_corpus.py``) and submitted into a real DuckDB file under a
temporary ``$ROADSAFE_HOME`` that already holds an accepted submission (week 4), in one of three ways:

* ``inline``: the real service (:func:`ingest.service.submit`) in this process;
* ``isolated``: the real service in one child process for all such cases — files that aborted the process
  (a failed allocation in the Rust reader) or hung it before the readers were hardened, so that a
  regression fails this test instead of killing the test session;
* ``command``: the heavy cases (decompression bombs, absurd sheet dimensions, megabyte cells, a 50 MB
  line) through the real ``roadsafe submit`` command, one child process each, whose peak memory is read
  from ``os.wait4`` (``ru_maxrss``, via bench.peak's launcher) and must stay under 600 MB, and whose time must stay under 30 s.

After every case:

* the outcome and the messages are the ones chosen for it (below, with the reason);
* every message is Chinese, names the file (and sheet, row, column where there is one), carries no
  control or invisible characters and no exception trace;
* the warehouse holds exactly what it held before plus this submission's registry row, its messages and —
  only when accepted — its rows; the file is landed byte for byte; nothing failed unexpectedly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import hostile_corpus as H
import pytest
from corpus import COUNTY_IDS, ON_TIME_W5, REPO, f1_values, f1_xlsx, settings

from bench.peak import run_with_peak
from ingest.service import submit
from roadsafe.settings import Settings

MAX_RSS_KIB = 600 * 1024  # peak resident memory of a `roadsafe submit` process (ru_maxrss is in KiB)
MAX_SECONDS_HEAVY = 30.0
MAX_SECONDS_LIGHT = 15.0

F1_COLUMNS = "county, vehicles_total, inspect_due, inspected, cancel_due, cancelled"


@dataclass(frozen=True)
class Expect:
    """The outcome chosen for a case.

    ``says``: fragments the receipt text must contain (the first one in the first error, for a refusal);
    ``rows``: rows loaded when accepted; ``warnings``: exact warning count when accepted;
    ``check``: a further check ``check(settings, receipt_row, messages)`` on what was recorded.
    """

    status: str
    says: tuple[str, ...] = ()
    rows: int | None = None
    warnings: int = 0
    check: Callable | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Case:
    """``mode``: ``inline`` (the service in this process), ``isolated`` (the service in one child process
    shared by such cases: files that crashed or hung the readers before they were hardened, so a regression
    cannot take the test session down with it) or ``command`` (``roadsafe submit``, peak memory measured)."""

    id: str
    build: Callable[[Path], H.Built]
    expect: Expect
    mode: str = "inline"
    why: str = ""


def refused(*says: str) -> Expect:
    return Expect("rejected", says)


def loaded_f1(s: Settings, sid: str) -> list[tuple]:
    return query(
        s, f"select {F1_COLUMNS} from raw.form_f1 where submission_id = ? order by source_row", [sid]
    )


def expect_f1(values=None) -> list[tuple]:
    rows = values if values is not None else [f1_values(i) for i in range(len(COUNTY_IDS))]
    return [(c, *v) for c, v in zip(COUNTY_IDS, rows, strict=True)]


def f1_as_filed(s, row, messages):
    assert loaded_f1(s, row["submission_id"]) == expect_f1()


def f1_formula_results(s, row, messages):
    # 重点车辆总数 is =C+10: the cached result, as Excel showed it
    values = [[v[1] + 10, *v[1:]] for v in (f1_values(i) for i in range(len(COUNTY_IDS)))]
    assert loaded_f1(s, row["submission_id"]) == expect_f1(values)


def sheet_is(name: str):
    def check(s, row, messages):
        f1_as_filed(s, row, messages)
        assert query(
            s, "select distinct sheet from raw.form_f1 where submission_id = ?", [row["submission_id"]]
        ) == [(name,)]

    return check


def no_traversal_written(s, row, messages):
    assert not Path("/tmp/roadsafe-evil.sh").exists()
    assert not Path("/etc/cron.d/roadsafe-evil").exists()


def cells_named(header: str, rows: list[int], values: list[str] | None = None):
    """Errors on exactly these Excel rows of this column (and these values as recorded)."""

    def check(s, row, messages):
        errors = [m for m in messages if m["severity"] == "error"]
        assert [(m["row_no"], m["column_header"]) for m in errors] == [(r, header) for r in rows]
        if values is not None:
            assert [m["value"] for m in errors] == values

    return check


def no_passwd(s, row, messages):
    secret = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert all(secret not in m["message"] for m in messages)


def long_sheet(s, row, messages):
    f1_as_filed(s, row, messages)
    (sheet,) = query(
        s, "select distinct sheet from raw.form_f1 where submission_id = ?", [row["submission_id"]]
    )[0]
    assert sheet == "重点车辆" * 2500  # stored as it is; only messages shorten it
    (warning,) = messages
    assert len(warning["message"]) < 200 and "工作表“重点车辆重点车辆" in warning["message"]
    assert "…" in warning["message"]


def sheet_shown_safely(s, row, messages):
    f1_as_filed(s, row, messages)
    (warning,) = messages
    assert "工作表“周报�[2J�表 ”" in warning["message"]
    assert warning["sheet"] == "周报�[2J�表 "


def long_header_shown_short(s, row, messages):
    f1_as_filed(s, row, messages)
    (warning,) = messages
    assert warning["message"].endswith("列不是本表的规定列，未导入。") and len(warning["message"]) < 200


def capped_warnings(s, row, messages):
    f1_as_filed(s, row, messages)
    from ingest.validate import MAX_MESSAGES

    assert len(messages) == MAX_MESSAGES + 1 and row["warning_count"] == 10_000
    assert messages[-1]["message"].endswith(
        f"另有{10_000 - MAX_MESSAGES}处问题未逐条列出，请参照上述问题对全表逐一核对。"
    )


def max_length_text(s, row, messages):
    got = query(
        s,
        "select length(road_name) from raw.form_f4 where submission_id = ? order by 1",
        [row["submission_id"]],
    )
    assert got == [(7,), (32767,)]


def name_kept(s, row, messages):
    f1_as_filed(s, row, messages)
    assert row["original_name"] == "../../../../etc/cron.d/F1.xlsx"
    assert not row["stored_path"].startswith("/") and ".." not in Path(row["stored_path"]).parts


def rtl_name(s, row, messages):
    f1_as_filed(s, row, messages)
    assert row["original_name"] == "周报\u202exslx.exe\x1b[2J.xlsx"  # the record keeps the name as sent
    (warning,) = messages
    assert warning["message"].startswith("文件“周报�xslx.exe�[2J.xlsx”工作表“Sheet1”：")
    assert row["stored_path"].endswith(".xlsx")


def sql_everywhere(s, row, messages):
    sid = row["submission_id"]
    assert query(
        s,
        "select sheet, road_name, responsible_unit from raw.form_f4 where submission_id = ? order by source_row",
        [sid],
    ) == [
        (H.SQL_TEXT, H.SQL_TEXT, "浔阳区交警大队"),
        (H.SQL_TEXT, "长虹大道2号段", 'x" OR 1=1; DELETE FROM raw.form_f1; --'),
    ]
    assert row["original_name"] == f"x{H.SQL_TEXT}.xlsx"
    assert query(s, "select count(*) from raw.submissions") == [(2,)]


def formula_text_stays_text(s, row, messages):
    """Stored as the text typed, and written back out by the report workbook writer as text, never a formula."""
    import openpyxl
    import polars as pl

    from dashboards.workbook import Sheet, write_workbook

    texts = [
        r[0]
        for r in query(
            s,
            "select road_name from raw.form_f4 where submission_id = ? order by source_row",
            [row["submission_id"]],
        )
    ]
    assert texts == H.FORMULA_TEXTS
    out = write_workbook(
        Path(s.home) / "export.xlsx",
        [Sheet(name="台账", frame=pl.DataFrame({"道路名称": texts}))],
        title="导出",
        created=dt.datetime(2022, 5, 12, 12, tzinfo=dt.UTC),
    )
    ws = openpyxl.load_workbook(out).active
    cells = [ws.cell(r, 1) for r in range(2, 2 + len(texts))]
    assert [c.value for c in cells] == texts and {c.data_type for c in cells} == {"s"}
    with zipfile.ZipFile(out) as zf:
        assert "<f>" not in zf.read("xl/worksheets/sheet1.xml").decode()


def formula_values_in_messages(s, row, messages):
    for m in messages:
        assert m["message"].startswith("文件“F1.csv”")  # a message never starts with = + - @
    assert [m["value"] for m in messages] == [H.FORMULA_TEXTS[0][:39] + "…", *H.FORMULA_TEXTS[1:3]]


def html_kept(s, row, messages):
    sid = row["submission_id"]
    assert query(
        s,
        "select road_name, responsible_unit from raw.form_f4 where submission_id = ? order by source_row",
        [sid],
    ) == [
        (H.HTML_TEXTS[0], "浔阳区交警大队"),
        ("长虹大道2号段", H.HTML_TEXTS[1]),
    ]


def control_text_kept(s, row, messages):
    got = [
        r[0]
        for r in query(
            s,
            "select road_name from raw.form_f4 where submission_id = ? order by source_row",
            [row["submission_id"]],
        )
    ]
    # kept as typed; only a trailing byte-order mark (white space to the normaliser) is trimmed
    assert got == [t.rstrip("\ufeff") for t in H.CONTROL_TEXTS]


CASES = [
    # ---- not a workbook at all
    Case("zero_byte_csv", H.zero_byte_csv, refused("文件是空的（0 字节）")),
    Case("zero_byte_xls", H.zero_byte_xls, refused("文件是空的（0 字节）")),
    Case("pdf_named_xlsx", H.pdf_named_xlsx, refused("不是有效的 Excel 或 CSV 文件")),
    Case("zip_archive_named_xlsx", H.zip_archive_named_xlsx, refused("可能是 Word 文档或压缩包")),
    Case("jpeg_named_xls", H.jpeg_named_xls, refused("不是有效的 Excel 或 CSV 文件")),
    Case("gif_named_csv", H.gif_named_csv, refused("不是有效的 Excel 或 CSV 文件")),
    Case("exe_named_xlsx", H.exe_named_xlsx, refused("不是有效的 Excel 或 CSV 文件")),
    Case("ods_named_xlsx", H.ods_named_xlsx, refused("WPS/OpenOffice 格式")),
    Case("html_named_xls", H.html_named_xls, refused("网页（HTML）格式的文件", "请另存为 .xlsx")),
    Case("xml2003_named_xls", H.xml2003_named_xls, refused("XML 电子表格 2003")),
    # ---- broken or locked workbooks
    Case("xlsx_cut_in_half", H.xlsx_cut_in_half, refused("文件已损坏（压缩包结构不完整）")),
    Case("xls_cut_in_half", H.xls_cut_in_half, refused("不是有效的 Excel 文件或文件已损坏")),
    Case("xlsx_without_sheets", H.xlsx_without_sheets, refused("文件中没有任何工作表")),
    Case("xlsx_sheet_part_missing", H.xlsx_sheet_part_missing, refused("工作表“Sheet1”已损坏")),
    Case("xlsx_malformed_sheet_xml", H.xlsx_malformed_sheet_xml, refused("工作表“Sheet1”已损坏")),
    Case("encrypted_xlsx", H.encrypted_xlsx, refused("文件设置了打开密码", "取消密码")),
    Case("encrypted_xlsx_named_xls", H.encrypted_xlsx_named_xls, refused("文件设置了打开密码")),
    Case("password_xls", H.password_xls, refused("文件设置了打开密码")),
    Case("word_doc_named_xls", H.word_doc_named_xls, refused("不是有效的 Excel 文件或文件已损坏")),
    Case("zip_encrypted_member", H.zip_encrypted_member, refused("文件设置了打开密码")),
    Case("zip_unknown_compression", H.zip_unknown_compression, refused("不支持的压缩方式")),
    Case(
        "zip_path_traversal",
        H.zip_path_traversal,
        Expect(
            "rejected",
            ("指向其他文件夹的路径“../../../../tmp/roadsafe-evil.sh”",),
            check=no_traversal_written,
        ),
        why="never extracted by us, but no Excel writes it: a crafted file, and a trap for anyone unzipping it",
    ),
    Case(
        "zip_duplicate_members",
        H.zip_duplicate_members,
        refused("部件“xl/worksheets/sheet1.xml”在压缩包内出现了两次"),
    ),
    Case("zip_many_members", H.zip_many_members, refused("压缩包内有 20005 个部件")),
    # ---- decompression bombs and lying sizes
    Case("zip_bomb_sheet", H.zip_bomb_sheet, refused("疑似“压缩炸弹”", "1024.0 MB"), mode="command"),
    Case(
        "zip_bomb_shared_strings",
        H.zip_bomb_shared_strings,
        refused("xl/sharedStrings.xml", "疑似“压缩炸弹”"),
        mode="command",
    ),
    Case("zip_size_lie_small", H.zip_size_lie_small, refused("与压缩包记录的大小不符"), mode="command"),
    Case(
        "zip_size_lie_plausible",
        H.zip_size_lie_plausible,
        refused("与压缩包记录的大小不符"),
        mode="command",
    ),
    # ---- absurd dimensions and counts
    Case(
        "dimension_claims_whole_sheet",
        H.dimension_claims_whole_sheet,
        Expect("accepted", rows=15, check=f1_as_filed),
    ),
    Case(
        "far_corner_cell",
        H.far_corner_cell,
        refused("数据区域过大", "XFD1048576", "请删除报表以外多余的行、列"),
        mode="command",
        why="the grid from A1 to XFD1048576 is 17 billion cells: refused before any reader allocates it",
    ),
    Case(
        "far_row_cell",
        H.far_row_cell,
        Expect("accepted", rows=15, check=f1_as_filed),
        mode="command",
        why="a stray cell in the last row is within limits (1 048 576 x 8 cells): read, blank rows skipped",
    ),
    Case("far_column_cell", H.far_column_cell, Expect("accepted", rows=15, check=f1_as_filed)),
    Case("row_beyond_excel", H.row_beyond_excel, refused("超出了 Excel 的最大范围"), mode="isolated"),
    Case("column_beyond_excel", H.column_beyond_excel, refused("超出了 Excel 的最大范围"), mode="isolated"),
    Case(
        "shared_strings_count_lie",
        H.shared_strings_count_lie,
        refused("xl/sharedStrings.xml", "声明的条目数远多于其实际内容"),
        mode="isolated",
        why="calamine reserves room for every string the table claims: two billion aborted the process",
    ),
    *(
        Case(
            f"far_cell_{spelling}",
            H.far_cell_spelled(spelling),
            refused("XFD1048576" if spelling != "out_of_order" else "Z1048576", "数据区域过大")
            if spelling != "character_reference"
            else refused("超出了 Excel 的最大范围"),
            mode="isolated",
            why="calamine reads every one of these spellings of a reference; the scan must too",
        )
        for spelling in H.FAR_CELL_SPELLINGS
    ),
    Case("styles_count_lie", H.styles_count_lie, refused("xl/styles.xml", "声明的条目数远多于其实际内容")),
    # ---- XML entities
    Case("billion_laughs_shared_strings", H.billion_laughs_shared_strings, refused("DOCTYPE")),
    Case("billion_laughs_sheet", H.billion_laughs_sheet, refused("DOCTYPE")),
    Case("billion_laughs_workbook", H.billion_laughs_workbook, refused("DOCTYPE")),
    Case("external_entity", H.external_entity, Expect("rejected", ("DOCTYPE",), check=no_passwd)),
    # ---- formulas, links, macros
    Case(
        "formulas_with_cached_values",
        H.formulas_with_cached_values,
        Expect("accepted", rows=15, check=f1_formula_results),
        why="the saved result is what the submitter saw in Excel",
    ),
    Case(
        "formulas_without_cached_values",
        H.formulas_without_cached_values,
        refused(
            "第4行（浔阳区）“重点车辆总数”列：单元格是公式，但文件中没有保存公式的计算结果", "共有 15 个", "选择性粘贴"
        ),
        why="the cells would read as empty, i.e. unknown: refused, never silently blank",
    ),
    Case("formulas_calc_on_load", H.formulas_calc_on_load, refused("第4行（浔阳区）“重点车辆总数”列：单元格是公式")),
    Case(
        "shared_formulas_without_values",
        H.shared_formulas_without_values,
        refused("第4行（浔阳区）“重点车辆总数”列：单元格是公式"),
    ),
    Case(
        "external_link_with_cached_values",
        H.external_link_with_cached_values,
        Expect("accepted", rows=15, check=f1_as_filed),
    ),
    Case(
        "external_link_without_values",
        H.external_link_without_values,
        refused("第4行（浔阳区）“重点车辆总数”列：单元格是公式"),
    ),
    Case(
        "macro_workbook_xlsm",
        H.macro_workbook_xlsm,
        Expect("accepted", rows=15, check=f1_as_filed),
        why="offices use macro templates; nothing here runs a macro, and reports are built afresh",
    ),
    Case(
        "error_cells",
        H.error_cells,
        refused("第6行（柴桑区）“已检验数”列：数值“#DIV/0!”无法识别", "第6行（柴桑区）“应注销数”列：数值“#REF!”无法识别"),
        why="fastexcel leaves an error value empty (unknown); it is put back as Excel shows it and refused",
    ),
    # ---- sheets and names
    Case(
        "hidden_sheet_holds_the_form",
        H.hidden_sheet_holds_the_form,
        Expect("accepted", rows=15, check=sheet_is("报表")),
    ),
    Case("hidden_decoy_sheet", H.hidden_decoy_sheet, Expect("accepted", rows=15, check=sheet_is("报表"))),
    Case(
        "very_hidden_decoy_sheet",
        H.very_hidden_decoy_sheet,
        Expect("accepted", rows=15, check=sheet_is("报表")),
    ),
    Case(
        "chart_sheet_beside_the_form",
        H.chart_sheet_beside_the_form,
        Expect("accepted", rows=15, check=sheet_is("报表")),
    ),
    Case("long_sheet_name", H.long_sheet_name, Expect("accepted", rows=15, warnings=1, check=long_sheet)),
    Case(
        "sheet_name_control_chars",
        H.sheet_name_control_chars,
        Expect("accepted", rows=15, warnings=1, check=sheet_shown_safely),
    ),
    Case(
        "long_column_name",
        H.long_column_name,
        Expect("accepted", rows=15, warnings=1, check=long_header_shown_short),
    ),
    Case(
        "nested_brackets_column_name",
        H.nested_brackets_column_name,
        Expect("accepted", rows=15, warnings=1, check=long_header_shown_short),
        mode="isolated",
        why="peeling nested brackets one level per pass hung the header matcher (quadratic)",
    ),
    Case(
        "ten_thousand_columns",
        H.ten_thousand_columns,
        Expect("accepted", rows=15, warnings=10_000, check=capped_warnings),
        mode="command",
    ),
    Case("name_path_traversal", H.name_path_traversal, Expect("accepted", rows=15, check=name_kept)),
    Case("name_rtl_override", H.name_rtl_override, Expect("accepted", rows=15, warnings=1, check=rtl_name)),
    # ---- cell contents
    Case(
        "ten_mb_cell_xlsx",
        H.ten_mb_cell_xlsx,
        refused("第5行（XY-002）“道路名称”列：内容过长", "32767"),
        mode="command",
    ),
    Case("excel_max_length_cell", H.excel_max_length_cell, Expect("accepted", rows=2, check=max_length_text)),
    Case(
        "control_chars_in_text", H.control_chars_in_text, Expect("accepted", rows=5, check=control_text_kept)
    ),
    Case(
        "control_chars_in_numbers",
        H.control_chars_in_numbers,
        Expect(
            "rejected",
            ("数值“12�[2J”无法识别",),
            check=cells_named("已检验数", [4, 5, 6, 7, 8], ["12�[2J", "�321", "1 2", "4�5", "9�"]),
        ),
    ),
    Case("html_in_text", H.html_in_text, Expect("accepted", rows=2, check=html_kept)),
    Case(
        "html_in_number",
        H.html_in_number,
        refused('第4行（浔阳区）“重点车辆总数”列：数值“<img src=x onerror="alert(1)">”无法识别'),
    ),
    Case("sql_text_everywhere", H.sql_text_everywhere, Expect("accepted", rows=2, check=sql_everywhere)),
    Case(
        "formula_text_in_text_cells",
        H.formula_text_in_text_cells,
        Expect("accepted", rows=5, check=formula_text_stays_text),
    ),
    Case(
        "formula_text_in_csv_numbers",
        H.formula_text_in_csv_numbers,
        Expect("rejected", ("无法识别",), check=formula_values_in_messages),
    ),
    Case(
        "huge_numbers",
        H.huge_numbers,
        Expect("rejected", ("过大（超过10亿）",), check=cells_named("重点车辆总数", [4, 5, 6, 7, 8, 9])),
    ),
    # ---- CSV
    Case("csv_cut_mid_character", H.csv_cut_mid_character, refused("文件末尾的文字被截断")),
    Case(
        "csv_mixed_encodings",
        H.csv_mixed_encodings,
        refused("混用了不同的文字编码（第1行是 UTF-8 编码，第2行是 GBK"),
    ),
    Case("csv_only_delimiters", H.csv_only_delimiters, refused("文件中没有任何内容（所有单元格都是空的）")),
    Case(
        "csv_one_line_50mb",
        H.csv_one_line_50mb,
        refused("列数超过了 Excel 的上限（16384 列）"),
        mode="command",
    ),
    Case("csv_ten_mb_cell", H.csv_ten_mb_cell, refused("第7行过长"), mode="command"),
    Case("csv_nested_quotes", H.csv_nested_quotes, Expect("accepted", rows=15, check=f1_as_filed)),
    Case(
        "csv_unclosed_quote",
        H.csv_unclosed_quote,
        refused('第7行有一个引号（"）没有配对'),
        why="DuckDB would read the rest of the file into one cell and silently lose every row after it",
    ),
    Case("csv_bom_in_the_middle", H.csv_bom_in_the_middle, Expect("accepted", rows=15, check=f1_as_filed)),
    Case("csv_nul_bytes", H.csv_nul_bytes, refused("不是有效的 Excel 或 CSV 文件")),
    Case("csv_too_many_columns", H.csv_too_many_columns, refused("列数超过了 Excel 的上限（16384 列）")),
    Case("csv_utf16_cut_odd", H.csv_utf16_cut_odd, refused("文件末尾的文字被截断")),
]

assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)


# --------------------------------------------------------------------------- the warehouse before and after


def query(s: Settings, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'Asia/Shanghai'")
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def snapshot(s: Settings, leave_out: str | None = None) -> dict[str, str]:
    """A digest of every table of the warehouse, leaving out the rows of submission ``leave_out``."""
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        out = {}
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                    [schema, table],
                ).fetchall()
            ]
            sql, params = f'select * from "{schema}"."{table}"', []
            if leave_out and "submission_id" in columns:
                sql, params = sql + " where submission_id <> ?", [leave_out]
            rows = con.execute(sql + " order by all", params).fetchall()
            out[f"{schema}.{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def record(s: Settings, sid: str) -> tuple[dict, list[dict]]:
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        cur = con.execute("select * from raw.submissions where submission_id = ?", [sid])
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
        cur = con.execute(
            "select severity, sheet, row_no, column_header, value, message from raw.submission_messages "
            "where submission_id = ? order by seq",
            [sid],
        )
        names = [d[0] for d in cur.description]
        messages = [dict(zip(names, m, strict=True)) for m in cur.fetchall()]
        return row, messages
    finally:
        con.close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """A home whose warehouse holds one accepted F1 (week 4, 市公安局), and the digest of every table."""
    root = tmp_path_factory.mktemp("hostile-baseline")
    s = settings(root)
    r = submit(
        s,
        f1_xlsx(root / "F1-w4.xlsx", week=4),
        unit="市公安局",
        received_at=ON_TIME_W5 - dt.timedelta(days=7),
    )
    assert r.status == "accepted" and r.submission_id == "S000001", r.text()
    return s.home, snapshot(s)


def fresh_home(baseline, tmp_path: Path) -> Settings:
    home, _ = baseline
    shutil.copytree(home, tmp_path / "home")
    return Settings(home=tmp_path / "home").ensure()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- running a case

_TRACE = re.compile(r"Traceback|\b\w+(?:Error|Exception)\b|panicked|File \"")
_HIDDEN = re.compile(
    "[\\x00-\\x08\\x0b-\\x1f\\x7f\\u200b-\\u200f\\u202a-\\u202e\\u2028\\u2029\\u2066-\\u2069\\ufeff]"
)
_CJK = re.compile("[\\u4e00-\\u9fff]")


def run_command(s: Settings, built: H.Built, tmp_path: Path) -> tuple[int, str, str, int, float]:
    """``roadsafe submit`` in a child process: (exit code, stdout, stderr, peak RSS in KiB, seconds)."""
    args = [sys.executable, "-m", "application.cli", "submit", str(built.path), "--unit", built.unit]
    if built.form:
        args += ["--form", built.form]
    if built.period:
        args += ["--week", str(built.period)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROADSAFE_")}
    env["ROADSAFE_HOME"] = str(s.home)
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        done = run_with_peak(args, stdout=out, stderr=err, env=env, cwd=REPO, timeout=4 * MAX_SECONDS_HEAVY)
    text = out_path.read_text(encoding="utf-8", errors="replace")
    return (
        done.returncode,
        text,
        err_path.read_text(encoding="utf-8", errors="replace"),
        done.peak_kib,
        done.seconds,
    )


def check_recorded(
    s: Settings, case: Case, built: H.Built, sid: str, text: str, digest_before, source_sha, size
):
    """Everything recorded for one case: outcome, messages, the landed file, and nothing else changed."""
    from ingest.messages import shown_name

    row, messages = record(s, sid)
    exp = case.expect
    assert row["status"] == exp.status, text
    assert not _TRACE.search(text), text
    named = f"文件“{shown_name(built.name)}”"
    for m in messages:
        assert _CJK.search(m["message"]), m
        for value in (m["message"], m["sheet"], m["column_header"], m["value"]):
            assert value is None or not _HIDDEN.search(value), m
        assert not _TRACE.search(m["message"]), m
        assert m["message"].startswith((named, f"未能识别报表类型：{named}")), m  # says which file
    errors = [m for m in messages if m["severity"] == "error"]
    if exp.status == "rejected":
        assert errors and row["error_count"] >= 1
        assert exp.says and exp.says[0] in errors[0]["message"], errors[0]["message"]
        for fragment in exp.says:
            assert fragment in text, (fragment, text)
        loaded = sum(
            query(s, f"select count(*) from raw.form_{code} where submission_id = ?", [sid])[0][0]
            for code in ("f1", "f4")
        )
        assert loaded == 0
    else:
        assert (row["row_count"], row["error_count"], row["warning_count"]) == (exp.rows, 0, exp.warnings), (
            text
        )
        assert not errors
    if exp.check is not None:
        exp.check(s, row, messages)
    # the original bytes are landed, inside the landing zone
    stored = (s.home / row["stored_path"]).resolve()
    assert stored.is_relative_to(s.landing.resolve()) and stored.is_file()
    assert (row["file_sha256"], row["size_bytes"]) == (source_sha, size) and sha256(stored) == source_sha
    # one more submission, and not a row elsewhere changed
    assert query(s, "select count(*), max(submission_id) from raw.submissions") == [(2, sid)]
    assert snapshot(s, leave_out=sid) == digest_before
    assert not (s.logs / "ingest-errors.log").exists()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", [c for c in CASES if c.mode == "inline"], ids=lambda c: c.id)
def test_hostile_file_in_process(case: Case, baseline, tmp_path):
    s = fresh_home(baseline, tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    built = case.build(folder)
    source_sha, size = sha256(built.path), built.path.stat().st_size
    start = time.monotonic()
    r = submit(
        s,
        built.path,
        unit=built.unit,
        form=built.form,
        period=built.period,
        received_at=ON_TIME_W5,
        original_name=built.original_name,
    )
    seconds = time.monotonic() - start
    assert seconds < MAX_SECONDS_LIGHT, f"{case.id}: {seconds:.1f} s"
    assert r.status == case.expect.status, r.text()
    check_recorded(s, case, built, r.submission_id, r.text(), baseline[1], source_sha, size)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("case", [c for c in CASES if c.mode == "command"], ids=lambda c: c.id)
def test_hostile_file_through_the_command(case: Case, baseline, tmp_path):
    s = fresh_home(baseline, tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    built = case.build(folder)
    source_sha, size = sha256(built.path), built.path.stat().st_size
    code, out, err, rss_kib, seconds = run_command(s, built, tmp_path)
    assert not _TRACE.search(err), err
    assert code == (0 if case.expect.status == "accepted" else 1), (code, out, err)
    assert out.startswith("已受理：" if case.expect.status == "accepted" else "未受理："), out
    assert rss_kib < MAX_RSS_KIB, f"{case.id}: peak RSS {rss_kib / 1024:.0f} MB"
    assert seconds < MAX_SECONDS_HEAVY, f"{case.id}: {seconds:.1f} s"
    print(f"{case.id}: {seconds:.1f} s, peak RSS {rss_kib / 1024:.0f} MB")
    check_recorded(s, case, built, "S000002", out, baseline[1], source_sha, size)


_CHILD = """
import datetime as dt, json, sys, time
from pathlib import Path
from ingest.service import submit
from roadsafe.settings import Settings

for job in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
    print("START", job["id"], flush=True)
    start = time.monotonic()
    r = submit(
        Settings(home=Path(job["home"])).ensure(), job["path"], unit=job["unit"], form=job["form"],
        period=job["period"], received_at=dt.datetime.fromisoformat(job["received_at"]),
        original_name=job["original_name"],
    )
    done = {"id": job["id"], "sid": r.submission_id, "text": r.text(), "seconds": time.monotonic() - start}
    print("RESULT", json.dumps(done, ensure_ascii=False), flush=True)
"""


@pytest.mark.timeout(240)
def test_files_that_crashed_or_hung_the_readers(baseline, tmp_path):
    """The cases that aborted (a Rust allocation failure kills the process) or hung the readers before the
    hardening, each into its own copy of the warehouse, through the real service in one child process."""
    import json

    cases = [c for c in CASES if c.mode == "isolated"]
    jobs, built = [], {}
    for case in cases:
        home = fresh_home(baseline, tmp_path / case.id)
        folder = tmp_path / case.id / "in"
        folder.mkdir()
        b = case.build(folder)
        built[case.id] = (home, b, sha256(b.path), b.path.stat().st_size)
        jobs.append(
            {
                "id": case.id,
                "home": str(home.home),
                "path": str(b.path),
                "unit": b.unit,
                "form": b.form,
                "period": b.period,
                "received_at": ON_TIME_W5.isoformat(),
                "original_name": b.original_name,
            }
        )
    (tmp_path / "jobs.json").write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROADSAFE_")}
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "jobs.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=len(cases) * MAX_SECONDS_LIGHT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    started = [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("START ")]
    results = {
        r["id"]: r
        for r in (
            json.loads(line.split(" ", 1)[1]) for line in out.splitlines() if line.startswith("RESULT ")
        )
    }
    assert proc.returncode == 0 and len(results) == len(cases), (
        f"child process ended with {proc.returncode} during {started[-1] if started else '?'}: {err[-2000:]}"
    )
    assert not _TRACE.search(err), err
    print(f"{len(cases)} isolated cases in {time.monotonic() - start:.1f} s")
    for case in cases:
        home, b, source_sha, size = built[case.id]
        result = results[case.id]
        assert result["seconds"] < MAX_SECONDS_LIGHT, (case.id, result["seconds"])
        check_recorded(home, case, b, result["sid"], result["text"], baseline[1], source_sha, size)
