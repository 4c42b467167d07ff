"""Builders for the ingestion test corpus: real .xlsx/.xls/.csv files as offices send them.

Every builder writes one file and returns its path. The tests (``test_corpus.py``, ``test_submit.py``,
``test_crash.py``) submit them through the real service into a real DuckDB file under a temporary
``$ROADSAFE_HOME``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import xlsxwriter

from roadsafe.campaign import load_campaign
from roadsafe.settings import Settings

TZ = ZoneInfo("Asia/Shanghai")
REPO = Path(__file__).resolve().parents[2]

F1_HEADER = ["县区", "重点车辆总数", "应检验数", "已检验数", "应注销数", "已注销数"]
F4_HEADER = [
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
F5_HEADER = [
    "点位编号",
    "县区",
    "点位名称",
    "类别",
    "警告标志",
    "道路标线",
    "减速带",
    "警示桩",
    "信号灯",
    "完工日期",
]
F9_HEADER = ["任务编号", "完成状态", "工作推进落实情况", "推进中的困难问题及有关建议", "佐证材料"]

CAMPAIGN = load_campaign("jiujiang-2022")
COUNTY_NAMES = [u.name for u in CAMPAIGN.counties]
COUNTY_IDS = [u.id for u in CAMPAIGN.counties]


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    """An aware Asia/Shanghai time."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


# Week 5 runs 2022-05-05..05-11 and its forms are due 2022-05-12 12:00.
ON_TIME_W5 = at(2022, 5, 12, 10, 0)


def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home").ensure()


def query(s: Settings, sql: str, params: Sequence = ()) -> list[tuple]:
    """Run a query on the warehouse file (read-only, closed afterwards)."""
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'Asia/Shanghai'")
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------- writers


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    sheet: str = "Sheet1",
    merges: Sequence[tuple[int, int, int, int, str]] = (),
    more_sheets: Sequence[tuple[str, Sequence[Sequence[object]]]] = (),
    first_sheets: Sequence[tuple[str, Sequence[Sequence[object]]]] = (),
) -> Path:
    """Write rows (0-based) into an .xlsx: str → text cell, int/float → number, date → date cell.

    ``merges`` are (first_row, first_col, last_row, last_col, text), 0-based; cells they cover are skipped.
    """
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})

    def fill(ws, data, merged):
        covered = set()
        for r1, c1, r2, c2, text in merged:
            ws.merge_range(r1, c1, r2, c2, text)
            covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        for r, row in enumerate(data):
            for c, value in enumerate(row):
                if value is None or (r, c) in covered:
                    continue
                if isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, date_fmt)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_fmt)
                elif isinstance(value, str):
                    ws.write_string(r, c, value)
                else:
                    ws.write_number(r, c, value)

    for name, data in first_sheets:
        fill(wb.add_worksheet(name), data, ())
    fill(wb.add_worksheet(sheet), rows, merges)
    for name, data in more_sheets:
        fill(wb.add_worksheet(name), data, ())
    wb.close()
    return path


def write_csv(path: Path, rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([["" if v is None else v for v in row] for row in rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xls(path: Path, rows: Sequence[Sequence[object]], sheet: str = "Sheet1") -> Path:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    wb.save(str(path))
    return path


# --------------------------------------------------------------------------- form data


def f1_values(i: int) -> list[int]:
    """F1 figures of the i-th county (0-based): total, due, inspected, cancel due, cancelled."""
    return [100 + 10 * i, 90 + 10 * i, 80 + 10 * i, 10 + i, 5 + i]


def f1_rows(counties: Sequence[str] = tuple(COUNTY_NAMES), bump: int = 0) -> list[list[object]]:
    return [[name, *(v + bump for v in f1_values(i))] for i, name in enumerate(counties)]


def f1_title(week: int = 5) -> list[list[object]]:
    return [
        [f"2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第{week}周）"],
        ["填报单位：市公安局", None, None, "填报日期：2022年5月12日"],
    ]


def f1_xlsx(path: Path, *, week: int | None = 5, rows=None, header=None, title: bool = True) -> Path:
    data: list[list[object]] = []
    if title and week is not None:
        data += f1_title(week)
    data.append(list(header or F1_HEADER))
    data += rows if rows is not None else f1_rows()
    return write_xlsx(path, data)


def f4_row(
    no: int,
    county: str = "浔阳区",
    status: str = "已整改",
    found="2022-05-06",
    fixed="2022-05-10",
    road_type: str = "城市道路",
) -> list[object]:
    return [
        f"XY-{no:03d}",
        county,
        f"长虹大道{no}号段",
        road_type,
        "标志标线缺失",
        found,
        status,
        fixed,
        "浔阳区交警大队",
    ]


def f4_xlsx(path: Path, rows, *, week: int = 5, unit: str = "浔阳区") -> Path:
    data = [
        [f"道路交通隐患排查整治台账（第{week}周）"],
        [f"填报单位：{unit}"],
        F4_HEADER,
        *rows,
    ]
    return write_xlsx(path, data)


def f5_xlsx(path: Path, rows, *, week: int = 5, unit: str = "市公路发展中心") -> Path:
    data = [[f"事故多发路口(路段)改造台账（第{week}周）"], [f"填报单位：{unit}"], F5_HEADER, *rows]
    return write_xlsx(path, data)


def f9_xlsx(path: Path, rows, *, week: int = 5, unit: str = "市公路发展中心") -> Path:
    data = [[f"重点工作推进情况表（第{week}周）"], [f"填报单位：{unit}"], F9_HEADER, *rows]
    return write_xlsx(path, data)


# --------------------------------------------------------------------------- a campaign with a rate column

RATE_FORM = """
R1:
  name: 重点车辆检验率周报
  submitters: [gongan]
  grain: county
  key_column: county
  columns:
    - {key: county, header: 县区, type: county, required: true}
    - {key: inspect_rate, header: 检验率, type: rate, synonyms: [检验完成率]}
    - {key: cancel_rate, header: 注销率, type: rate}
"""


def campaigns_with_rate_form(tmp_path: Path) -> Path:
    """A copy of the campaigns folder whose jiujiang-2022 has an extra form R1 with rate columns."""
    root = tmp_path / "campaigns"
    shutil.copytree(REPO / "campaigns" / "jiujiang-2022", root / "jiujiang-2022")
    with open(root / "jiujiang-2022" / "forms.yml", "a", encoding="utf-8") as fh:
        fh.write(RATE_FORM)
    return root
