"""Large files take the shortcuts of the big-table path; they must read, check and load as small files do.

- The cells reach DuckDB as a registered Arrow table (:meth:`ParsedTable.register_rows`), not a copy: the
  same rows, types and row numbers as :meth:`ParsedTable.load_into`.
- A first column of plain ASCII (serial numbers) cannot start a 合计 or footer row, so those patterns are
  not run over it; blank rows are still skipped and the row numbers kept.
- The .xlsx sheet scanner reads plain segments whose references grow (rows 10000, 100000…) without its
  general patterns, learning what :meth:`_SheetScanner._closely` learns; anything else is read closely.
- A file above :data:`ingest.normalise.PREPARED_MAX_ROWS` rows (normalised by one SQL statement planned for
  it) gets the very messages a small file (the prepared statement) gets for the same bad cells.
"""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import pytest
from corpus import F4_HEADER, at, query, settings

from ingest.headers import SKIP_BLANK, SKIP_FOOTER, SKIP_TOTAL
from ingest.messages import ERROR
from ingest.normalise import PREPARED_MAX_ROWS
from ingest.readers import parse_file
from ingest.service import submit
from ingest.xlsx import _SheetScanner
from roadsafe.campaign import load_campaign

_TYPES = ["国省道", "县乡道", "村道", "城市道路"]


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("jiujiang-2022")


def ledger_rows(n: int) -> list[list[str]]:
    """``n`` valid rows of 修水县's hazard ledger, ids XS-0000000… (plain ASCII)."""
    rows = []
    for i in range(n):
        found = dt.date(2022, 4, 1) + dt.timedelta(days=i % 30)
        status = ("已整改", "整改中", "未整改")[i % 3]
        fixed = (found + dt.timedelta(days=1)).isoformat() if status == "已整改" else ""
        road = f"X{i % 97:03d}线K{i % 50}段"
        rows.append(
            [
                f"XS-{i:07d}",
                "修水县",
                road,
                _TYPES[i % 4],
                "护栏缺失",
                found.isoformat(),
                status,
                fixed,
                "修水县交通运输局",
            ]
        )
    return rows


def spoil(rows: list[list[str]]) -> list[list[str]]:
    """One bad cell of each kind in the first rows (Excel rows 2-22)."""
    rows = [list(r) for r in rows]
    rows[1][5] = "2022/13/45"  # no date
    rows[3][1] = "火星县"  # no county
    rows[5][0] = rows[4][0]  # the same id twice
    rows[7][6], rows[7][7] = "已整改", ""  # fixed without a date
    rows[9][3] = "高速公路"  # not an option
    rows[11][2] = ""  # a required cell left empty
    rows[13][5] = "１９９９-01-01"  # full width and too early
    rows[15][1] = "浔阳区"  # not the submitter's county
    rows[17][6], rows[17][7] = "整改中", "2022-04-20"  # a date where none belongs
    rows[19] = [""] * 9  # a blank row
    return rows


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(F4_HEADER)
        writer.writerows(rows)
    return path


def table_rows(con, table: str) -> list[tuple]:
    return con.execute(f"select * from {table} order by source_row").fetchall()


def test_registered_rows_are_the_loaded_rows(campaign, tmp_path):
    rows = ledger_rows(30)
    rows[10] = [""] * 9
    rows.append(["合计", "", "", "", "", "", "", "", ""])
    rows.append(["填报人：张三", "", "", "", "", "", "", "", ""])
    path = write_csv(tmp_path / "台账.csv", rows)
    con = duckdb.connect()
    try:
        loaded = parse_file(path, campaign)
        assert loaded.load_into(con, "loaded") == 29
        registered = parse_file(path, campaign)
        assert registered.register_rows(con, "registered") == 29
        assert table_rows(con, "registered") == table_rows(con, "loaded")
        types = (
            "select column_name, data_type from information_schema.columns where table_name = ? order by 1"
        )
        assert con.execute(types, ["registered"]).fetchall() == con.execute(types, ["loaded"]).fetchall()
        assert registered.skipped_rows == [(12, SKIP_BLANK), (32, SKIP_TOTAL), (33, SKIP_FOOTER)]
        con.unregister("registered")
    finally:
        con.close()


def test_ascii_first_column_still_skips_blank_rows(campaign, tmp_path):
    rows = ledger_rows(6)
    rows[2] = [""] * 9
    rows.append(["", "", "", "", "", "", "", "", ""])
    rows.append(["XS-9999999", "修水县", "", "", "", "", "", "", ""])
    parsed = parse_file(write_csv(tmp_path / "ascii.csv", rows), campaign)
    assert parsed.skipped_rows == [(4, SKIP_BLANK), (8, SKIP_BLANK)]
    con = duckdb.connect()
    try:
        got = [(r[0], r[1]) for r in table_rows(con, "t")] if parsed.load_into(con, "t") else []
    finally:
        con.close()
    assert got == [(2, "XS-0000000"), (3, "XS-0000001"), (5, "XS-0000003"), (6, "XS-0000004"),
                   (7, "XS-0000005"), (9, "XS-9999999")]  # fmt: skip


def sheet_rows(first: int, last: int, columns: str = "ABCDEFGHI") -> bytes:
    return b"".join(
        b'<row r="%d" spans="1:9">' % r
        + b"".join(b'<c r="%s%d" t="s"><v>%d</v></c>' % (c.encode(), r, r % 7) for c in columns)
        + b"</row>"
        for r in range(first, last + 1)
    )


def state(scanner: _SheetScanner) -> tuple:
    return (
        scanner.widest,
        scanner.max_row,
        scanner.digits,
        scanner.beyond,
        scanner.merges,
        scanner.unresolved,
        scanner.rows_without_r,
        scanner.cells_in_a_row,
        scanner.estimated,
    )


@pytest.mark.parametrize(
    ("before", "segment", "quick"),
    [
        (sheet_rows(1, 9), sheet_rows(10, 99), True),  # two digits now
        (sheet_rows(1, 5, "AB"), sheet_rows(9990, 10010, "ABCXFD"), True),  # wider, and five digits
        (sheet_rows(1, 3), sheet_rows(4, 5) + b'<row r="1048000"/>', True),  # an empty row far down
        (b"", sheet_rows(1, 3), True),  # the first segment
        (sheet_rows(1, 3), sheet_rows(99998, 100001, "A") + b'<c r="B0100002"/>', False),  # leading zeros
        (sheet_rows(1, 3), sheet_rows(4, 5) + b'<c r="A12345678"/>', False),  # no row Excel can have
        (sheet_rows(1, 3), sheet_rows(4, 5) + b'<c r="XFE7"/>', False),  # right of Excel's last column
        (sheet_rows(1, 3), sheet_rows(4, 5).replace(b"<v>", b"<f>A1</f><v>"), False),  # formulas
    ],
    ids=[
        "digits",
        "wider",
        "empty-row",
        "first",
        "leading-zeros",
        "eight-digits",
        "beyond-columns",
        "formulas",
    ],
)
def test_plain_segments_are_read_as_closely(before, segment, quick):
    quick_scanner, close_scanner = _SheetScanner(calc_on_load=True), _SheetScanner(calc_on_load=True)
    quick_scanner.feed(before)
    close_scanner.feed(before)
    untouched = state(quick_scanner)
    assert quick_scanner._plain_refs(segment) is quick
    if quick:
        close_scanner._closely(segment)
        assert state(quick_scanner) == state(close_scanner)
    else:
        assert state(quick_scanner) == untouched  # left to _closely


def errors_of(s, sid: str) -> list[str]:
    rows = query(
        s, "select severity, message from raw.submission_messages where submission_id = ? order by seq", [sid]
    )
    return [text for severity, text in rows if severity == ERROR]


def test_a_large_file_gets_the_messages_of_a_small_one(tmp_path):
    big = spoil(ledger_rows(PREPARED_MAX_ROWS + 500))
    s = settings(tmp_path)
    when = at(2022, 5, 12)
    small = submit(
        s, write_csv(tmp_path / "台账.csv", big[:40]), unit="xiushui", form="F4", period=5, received_at=when
    )
    large = submit(
        s, write_csv(tmp_path / "台账x.csv", big), unit="xiushui", form="F4", period=5, received_at=when
    )
    assert (small.status, large.status) == ("rejected", "rejected")
    assert small.error_count == large.error_count == 9
    shown = [m.replace("台账x.csv", "台账.csv") for m in errors_of(s, large.submission_id)]
    assert shown == errors_of(s, small.submission_id)
    assert shown[0] == (
        "文件“台账.csv”工作表“CSV”第3行（XS-0000001）“发现日期”列：日期“2022/13/45”无法识别，"
        "请按“2022-04-15”或“2022年4月15日”的格式填写。"
    )
    assert query(s, "select count(*) from raw.form_f4") == [(0,)]  # a rejected file changes nothing


def test_a_large_file_lands_every_row_with_its_row_number(tmp_path):
    rows = ledger_rows(PREPARED_MAX_ROWS + 500)
    rows[100] = [""] * 9
    s = settings(tmp_path)
    receipt = submit(s, write_csv(tmp_path / "台账.csv", rows), unit="xiushui", form="F4", period=5)
    assert receipt.status == "accepted" and receipt.row_count == len(rows) - 1
    got = query(
        s,
        "select source_row, record_key, county, found_on, fixed_on from raw.form_f4 "
        "where source_row in (2, 101, 103, 20501) order by source_row",
    )
    assert got == [
        (2, "XS-0000000", "xiushui", dt.date(2022, 4, 1), dt.date(2022, 4, 2)),
        (101, "XS-0000099", "xiushui", dt.date(2022, 4, 10), dt.date(2022, 4, 11)),
        (103, "XS-0000101", "xiushui", dt.date(2022, 4, 12), None),
        (20501, "XS-0020499", "xiushui", dt.date(2022, 4, 10), dt.date(2022, 4, 11)),
    ]
