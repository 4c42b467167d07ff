"""Input files for the ingest ceiling: one county's F4 hazard ledger (道路交通隐患排查整治台账), large.

The rows vary the way a real ledger does (road names, types, dates, statuses, blank completion dates)
and are all valid, so what is measured is the full path a good file takes, not the refusal of a bad one.
The CSV has the header in its first row so DuckDB's own ``read_csv`` reads the same file unaided.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter

from roadsafe.campaign import load_campaign

__all__ = ["F4_HEADER", "UNIT", "WEEK", "f4_rows", "write_f4_csv", "write_f4_xlsx"]

F4_HEADER = [column.header for column in load_campaign("jiujiang-2022").forms["F4"].columns]
UNIT, COUNTY, WEEK = "xiushui", "修水县", 5
_ROAD_TYPES = ["国省道", "县乡道", "村道", "城市道路"]
_HAZARDS = ["护栏缺失", "标志标线不清", "视距不良", "急弯陡坡未设警示", "平交路口未设减速带", "路面坑槽"]
_UNITS = ["修水县交通运输局", "修水县公路事业发展中心", "修水县住建局", "修水县公安局交警大队"]
_START = dt.date(2022, 4, 1)


def f4_rows(n: int) -> Iterator[list[str]]:
    for i in range(n):
        found = _START + dt.timedelta(days=i % 40)
        status = ("已整改", "整改中", "未整改")[i % 3]
        fixed = (found + dt.timedelta(days=1 + i % 9)).isoformat() if status == "已整改" else ""
        yield [
            f"XS-{i:07d}",
            COUNTY,
            f"{('G105', 'S304', 'X012', 'Y108')[i % 4]}线K{i % 977}+{i % 1000:03d}段",
            _ROAD_TYPES[i % 4],
            _HAZARDS[i % 6],
            found.isoformat(),
            status,
            fixed,
            _UNITS[i % 4],
        ]


def write_f4_csv(path: Path, rows: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(F4_HEADER)
        writer.writerows(f4_rows(rows))
    return path


def write_f4_xlsx(path: Path, rows: int) -> Path:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("隐患台账")
    sheet.write_row(0, 0, F4_HEADER)
    for r, row in enumerate(f4_rows(rows), start=1):
        sheet.write_row(r, 0, row)
    book.close()
    return path
