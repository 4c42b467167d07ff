"""Edition workbooks (.xlsx): the report's tables, one sheet each, written the same byte for byte.

Two safety rules:

- **No formula from submitted text.** Every text cell is written with ``write_string`` (never
  ``write``, which turns ``=…`` into a formula); text starting with ``=``, ``+``, ``-`` or ``@`` also
  gets Excel's *quote prefix* (the stored form of a leading apostrophe), so editing the cell in Excel or
  WPS cannot revive it as a formula either.
- **Deterministic bytes.** The document properties carry the edition's freeze time (``created``), and
  xlsxwriter stamps the zip entries with a fixed date when ``created`` is set.

Examples
--------
>>> import datetime as dt, polars as pl, tempfile, pathlib
>>> sheet = Sheet("填报情况", pl.DataFrame({"单位": ["浔阳区"], "说明": ["=1+1"]}))
>>> out = pathlib.Path(tempfile.mkdtemp()) / "x.xlsx"
>>> write_workbook(out, [sheet], title="测试", created=dt.datetime(2022, 5, 12, 17, tzinfo=dt.UTC)).exists()
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

__all__ = ["FORMULA_TRIGGERS", "Sheet", "is_formula_like", "write_workbook"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would read the text as a formula (or DDE payload)."""
    return text.startswith(FORMULA_TRIGGERS)


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a frame whose column names are the Chinese headers.

    ``formats`` maps a column to ``percent`` (0.0%), ``decimal`` (0.00), ``integer`` (#,##0) or
    ``datetime``; other columns are written as they are (numbers as numbers, text as text).
    ``widths`` maps a column to a width in characters.
    """

    name: str
    frame: pl.DataFrame
    title: str | None = None
    formats: dict[str, str] = field(default_factory=dict)
    widths: dict[str, float] = field(default_factory=dict)


_NUM_FORMATS = {"percent": "0.0%", "decimal": "0.00", "integer": "#,##0", "datetime": "yyyy-mm-dd hh:mm"}


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "Sheet"
    candidate, n = clean, 2
    while candidate in used:
        suffix = f"({n})"
        candidate, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate)
    return candidate


def _width(values: list, header: str) -> float:
    def w(text: str) -> float:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    longest = max([w(header)] + [w(str(v)) for v in values if v is not None], default=8)
    return min(max(8.0, longest + 2), 60.0)


def write_workbook(
    path: Path, sheets: list[Sheet], *, title: str, created: dt.datetime, author: str = ""
) -> Path:
    """Write ``sheets`` to ``path`` (overwritten).

    Parameters
    ----------
    created : datetime
        The edition's freeze time: stored as the document's created date; no other clock is read.
    """
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    workbook = xlsxwriter.Workbook(
        str(tmp),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        },
    )
    workbook.set_properties(
        {
            "title": title,
            "author": author,
            "company": author,
            "created": created.astimezone(dt.UTC).replace(tzinfo=None),
        }
    )
    base = {"font_name": "Noto Sans CJK SC", "font_size": 10, "valign": "top", "text_wrap": True, "border": 1}
    fmt_text = workbook.add_format(base)
    fmt_quoted = workbook.add_format({**base, "quote_prefix": True})
    fmt_header = workbook.add_format({**base, "bold": True, "bg_color": "#F0F0F0", "align": "center"})
    fmt_title = workbook.add_format({"font_name": "Noto Sans CJK SC", "font_size": 12, "bold": True})
    num_formats = {k: workbook.add_format({**base, "num_format": v}) for k, v in _NUM_FORMATS.items()}
    used: set[str] = set()
    for sheet in sheets:
        ws = workbook.add_worksheet(_sheet_name(sheet.name, used))
        row0 = 0
        if sheet.title:
            ws.write_string(0, 0, sheet.title, fmt_title)
            row0 = 2
        columns = sheet.frame.columns
        for c, name in enumerate(columns):
            ws.write_string(row0, c, name, fmt_header)
            ws.set_column(c, c, sheet.widths.get(name) or _width(sheet.frame[name].to_list(), name))
        for r, record in enumerate(sheet.frame.iter_rows(), start=row0 + 1):
            for c, value in enumerate(record):
                kind = sheet.formats.get(columns[c])
                if value is None:
                    ws.write_blank(r, c, None, fmt_text)
                elif isinstance(value, bool):
                    ws.write_string(r, c, "是" if value else "否", fmt_text)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, num_formats.get(kind, fmt_text))
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value.replace(tzinfo=None), num_formats["datetime"])
                elif isinstance(value, dt.date):
                    ws.write_string(r, c, value.isoformat(), fmt_text)
                else:
                    text = str(value) if not isinstance(value, list) else "、".join(map(str, value))
                    ws.write_string(r, c, text, fmt_quoted if is_formula_like(text) else fmt_text)
        ws.freeze_panes(row0 + 1, 0)
        if sheet.frame.height:
            ws.autofilter(row0, 0, row0 + sheet.frame.height, max(len(columns) - 1, 0))
    workbook.close()
    tmp.replace(path)
    return path
