"""Measure how fast :func:`ingest.readers.parse_file` + :meth:`ParsedTable.load_into` read large F4 ledgers.

Writes a 200 000-row .xlsx and a 1 000 000-row .csv of form F4 (道路交通隐患排查整治台账) with a title, a
填报单位 line and a footer, into a temporary directory, then prints rows/s for parse + load into an
in-memory DuckDB connection, next to the raw readers alone (fastexcel → DuckDB for the .xlsx, DuckDB's own
``read_csv`` for the CSV) measured on the same files at the same time. Prints; asserts nothing.

Usage::

    .venv/bin/python scripts/measure_readers.py [--xlsx-rows 200000] [--csv-rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

COUNTIES = ["浔阳区", "濂溪区", "柴桑区", "武宁县", "修水县", "永修县", "德安县", "都昌县"]
HEADER = [
    "隐患编号",
    "县区",
    "道路名称",
    "道路类型",
    "隐患类型",
    "发现日期",
    "整改状态",
    "整改完成日期",
    "责任单位",
]
TITLE = "2022年全市道路交通安全专项整治 道路交通隐患排查整治台账（第5周）"
UNIT = "填报单位：市公路发展中心\u3000\u3000统计时段：2022年5月5日至5月11日"


def _row(i: int) -> list:
    fixed = i % 3 == 0
    return [
        f"YH{i:07d}",
        COUNTIES[i % len(COUNTIES)],
        f"G{105 + i % 300}国道K{i % 1000}+{i % 997:03d}",
        "国省道" if i % 2 else "县乡道",
        "缺少警示标志" if i % 5 else "急弯陡坡无防护",
        dt.date(2022, 4, 1 + i % 28),
        "已整改" if fixed else "整改中",
        dt.date(2022, 5, 1 + i % 10) if fixed else None,
        "市公路发展中心",
    ]


def write_xlsx(path: Path, n: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("隐患台账")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write(0, 0, TITLE)
    ws.write(1, 0, UNIT)
    ws.write_row(2, 0, HEADER)
    for i in range(n):
        for c, value in enumerate(_row(i)):
            if isinstance(value, dt.date):
                ws.write_datetime(3 + i, c, dt.datetime.combine(value, dt.time()), day)
            elif value is not None:
                ws.write_string(3 + i, c, value)
    ws.write(3 + n, 0, "填报人：张三　　联系电话：0792-8888888")
    wb.close()


def write_csv(path: Path, n: int, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        fh.write(f"{TITLE},,,,,,,,\r\n{UNIT},,,,,,,,\r\n{','.join(HEADER)}\r\n")
        batch = []
        for i in range(n):
            batch.append(",".join("" if v is None else str(v) for v in _row(i)) + "\r\n")
            if len(batch) == 50_000:
                fh.write("".join(batch))
                batch.clear()
        fh.write("".join(batch))
        fh.write("填报人：张三,,联系电话：0792-8888888,,,,,,\r\n")


def measure(path: Path, campaign) -> None:
    import duckdb

    from ingest.readers import parse_file

    t0 = time.perf_counter()
    parsed = parse_file(path, campaign)
    t1 = time.perf_counter()
    con = duckdb.connect()
    n = parsed.load_into(con, "cells")
    t2 = time.perf_counter()
    con.close()
    print(
        f"{path.name:>22}: {n:>9,} rows  parse_file {t1 - t0:6.2f} s  load_into {t2 - t1:5.2f} s  "
        f"total {t2 - t0:6.2f} s  → {n / (t2 - t0):>9,.0f} rows/s   "
        f"(form {parsed.form_code}, week {parsed.detected_period}, unit {parsed.detected_unit})"
    )


def duckdb_baseline(path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    n = con.execute(
        "CREATE TEMP TABLE t AS SELECT * FROM read_csv(?, all_varchar=true, header=false, skip=3, "
        "null_padding=true, strict_mode=false)",
        [str(path)],
    ).fetchall()[0][0]
    dt_ = time.perf_counter() - t0
    con.close()
    print(
        f"{path.name:>22}: {n:>9,} rows  DuckDB read_csv alone (all_varchar, into a temp table) "
        f"{dt_:5.2f} s → {n / dt_:>9,.0f} rows/s"
    )


def fastexcel_baseline(path: Path) -> None:
    import duckdb
    import fastexcel

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    table = fastexcel.read_excel(path).load_sheet(0, header_row=None, skip_rows=0, dtypes="string").to_arrow()
    con.register("sheet", table)
    n = con.execute("CREATE TEMP TABLE t AS SELECT * FROM sheet").fetchall()[0][0]
    dt_ = time.perf_counter() - t0
    con.close()
    print(
        f"{path.name:>22}: {n:>9,} rows  fastexcel alone (dtypes string → Arrow → DuckDB temp table) "
        f"{dt_:5.2f} s → {n / dt_:>9,.0f} rows/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()

    from roadsafe.campaign import load_campaign

    campaign = load_campaign("jiujiang-2022")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        xlsx, csv_utf8, csv_gbk = folder / "f4_200k.xlsx", folder / "f4_1m_utf8.csv", folder / "f4_1m_gbk.csv"
        t = time.perf_counter()
        write_xlsx(xlsx, args.xlsx_rows)
        write_csv(csv_utf8, args.csv_rows, "utf-8")
        write_csv(csv_gbk, args.csv_rows, "gbk")
        print(
            f"files written in {time.perf_counter() - t:.1f} s: "
            + ", ".join(f"{p.name} {p.stat().st_size / 1e6:.0f} MB" for p in (xlsx, csv_utf8, csv_gbk))
        )
        print(f"load average before measuring: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for path in (xlsx, csv_utf8, csv_gbk):
            measure(path, campaign)
        fastexcel_baseline(xlsx)
        duckdb_baseline(csv_utf8)


if __name__ == "__main__":
    main()
