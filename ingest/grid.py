"""Raw cell grids from submitted files: the :class:`Grid` type, :class:`UnreadableFile`, cell text rules.

A :class:`Grid` is one sheet read exactly as the submitter sees it, before any header is known: an Arrow
table with one string column per source column (named ``c<absolute column index>``) and one row per sheet
row, row *i* (0-based) being Excel row *i + 1*, plus the merged ranges. Nothing is typed or interpreted here.
The readers of each format are :mod:`ingest.xlsx`, :mod:`ingest.xls` and :mod:`ingest.csvfile`;
:mod:`ingest.fileformat` tells the formats apart and dispatches.

Cell text rules (the same in Python, :func:`cell_text` / :func:`fix_fastexcel_text`, and vectorised in
Arrow, :func:`clean_column`): integral numbers ``1234`` (never ``1234.0``), other numbers without float noise
(``0.95``), date and date-time cells ``2022-04-15``, text stripped, empty → NULL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "Grid",
    "UnreadableFile",
    "WHITESPACE",
    "cell_text",
    "clean_column",
    "column_contains_bytes",
    "fix_fastexcel_text",
]


FileFormat = Literal["xlsx", "xls", "csv"]

# White space stripped around every cell: ASCII, the ideographic (full-width) space U+3000, no-break space.
WHITESPACE = " \t\r\n\x0b\x0c\u3000\u00a0"


class UnreadableFile(Exception):
    """The file is not a spreadsheet we can open (wrong content, empty, encrypted, unknown encoding).

    Attributes
    ----------
    message : str
        Chinese, names the file and says what to do, e.g.
        ``文件“x.xlsx”无法读取：不是有效的 Excel 或 CSV 文件。请另存为 .xlsx 后重新上传。``
    sheet, row_no, column_header : str, int, str or None
        Where in the file, when the refusal is about one cell (a formula without its result, a cell longer
        than Excel allows); the message names them too.
    """

    def __init__(
        self,
        message: str,
        sheet: str | None = None,
        row_no: int | None = None,
        column_header: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.sheet = sheet
        self.row_no = row_no
        self.column_header = column_header


def _unreadable(name: str, why: str, fix: str = "请另存为 .xlsx 后重新上传。") -> UnreadableFile:
    return UnreadableFile(f"文件“{_shown(name)}”无法读取：{why}{fix}")


# Excel's sheet limits, which no reader passes on.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell


# ---------------------------------------------------------------------------------------------- cell text

_FE_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.\d+)?")
_FE_LONG_FLOAT = re.compile(r"-?[1-9]\d{6,}\.\d+")
_TIME_EPOCHS = ("1899-12-30", "1899-12-31")


def _float_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = f"{value:.15g}"
    if "e" in text:
        text = f"{Decimal(text):f}"
    return text


def cell_text(value: Any) -> str | None:
    """The text a submitter sees for one cell value as python-calamine returns it.

    Examples
    --------
    >>> [cell_text(v) for v in (1234.0, 0.95, 0.1 + 0.2, dt.datetime(2022, 4, 15, 13, 30), " 浔阳区 ", "")]
    ['1234', '0.95', '0.3', '2022-04-15', '浔阳区', None]
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        return str(value)
    text = str(value).strip(WHITESPACE)
    return text or None


def fix_fastexcel_text(text: str | None) -> str | None:
    """Apply the cell text rules to a string fastexcel produced with ``dtypes="string"``.

    fastexcel renders dates as ``2022-04-15 00:00:00``, times as ``1899-12-31 13:30:00`` and floats with up
    to nine decimals (``123456789.122999996``); this is the one-cell twin of :func:`clean_column`.

    Examples
    --------
    >>> [fix_fastexcel_text(t) for t in ("2022-04-15 00:00:00", "123456789.122999996", " 0.95 ", "  ")]
    ['2022-04-15', '123456789.123', '0.95', None]
    """
    if text is None:
        return None
    text = text.strip(WHITESPACE)
    if not text:
        return None
    m = _FE_DATETIME.fullmatch(text)
    if m:
        return m[2] if m[1] in _TIME_EPOCHS else m[1]
    if _FE_LONG_FLOAT.fullmatch(text):
        fixed = f"{float(text):.15g}"
        if "e" not in fixed:
            return fixed
    return text


_PA_DATETIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$"
_PA_LONG_FLOAT = r"^-?[1-9]\d{6,}\.\d+$"


def column_contains_bytes(column, needles: tuple[bytes, ...]) -> bool:
    """Whether any of ``needles`` occurs in the character data of a string column (a cheap pre-check)."""
    for chunk in column.chunks:
        buffers = chunk.buffers()
        if len(buffers) < 3 or buffers[2] is None:
            continue
        data = buffers[2].to_pybytes()
        if any(needle in data for needle in needles):
            return True
    return False


def clean_column(column, fastexcel: bool):
    """Apply the cell text rules to a whole Arrow string column (vectorised twin of :func:`cell_text`).

    Parameters
    ----------
    column : pyarrow.ChunkedArray
        Raw strings as read.
    fastexcel : bool
        Also turn fastexcel's ``2022-04-15 00:00:00`` into ``2022-04-15`` and remove float noise
        (see :func:`fix_fastexcel_text`).

    Returns
    -------
    pyarrow.ChunkedArray
        Stripped text, NULL for empty cells.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count == len(column):
        return column
    column = pc.utf8_trim(column, characters=WHITESPACE)
    empty = pc.equal(column, "")
    if pc.any(empty).as_py():
        column = pc.if_else(empty, pa.scalar(None, pa.string()), column)
    if not fastexcel:
        return column
    if column_contains_bytes(column, (b":",)):
        stamp = pc.fill_null(pc.match_substring_regex(column, _PA_DATETIME), False)
        if pc.any(stamp).as_py():
            is_time = pc.and_(
                stamp,
                pc.or_(pc.starts_with(column, _TIME_EPOCHS[0]), pc.starts_with(column, _TIME_EPOCHS[1])),
            )
            day = pc.utf8_slice_codeunits(column, 0, 10)
            clock = pc.utf8_slice_codeunits(column, 11, 19)
            column = pc.if_else(stamp, pc.if_else(is_time, clock, day), column)
    if column_contains_bytes(column, (b".",)):
        noisy = pc.fill_null(pc.match_substring_regex(column, _PA_LONG_FLOAT), False)
        if pc.any(noisy).as_py():
            values = column.to_pylist()
            flags = noisy.to_pylist()
            column = pa.chunked_array(
                [
                    pa.array(
                        [fix_fastexcel_text(v) if f else v for v, f in zip(values, flags, strict=True)],
                        type=pa.string(),
                    )
                ]
            )
    return column


# ---------------------------------------------------------------------------------------------- the grid


@dataclass
class Grid:
    """One sheet (or a CSV file) as raw text columns.

    Attributes
    ----------
    sheet : str
        Sheet name; ``"CSV"`` for a CSV file.
    index : int
        0-based sheet position in the workbook.
    visible : bool
        False for hidden sheets.
    data : pyarrow.Table
        One string column per source column, named ``c<absolute 0-based column>``; row *i* is Excel row *i+1*.
    merges : list of (row1, col1, row2, col2), optional
        Merged ranges, 0-based and inclusive; ``None`` until :meth:`merged_ranges` reads them.
    fastexcel : bool
        Whether the text came from fastexcel and still needs :func:`fix_fastexcel_text`.
    unresolved : list of (row, col)
        0-based cells holding a formula whose result the file does not carry (saved without calculating,
        or marked for recalculation on opening): their text here is empty or a placeholder, not what the
        submitter sees. At most :data:`ingest.xlsx.MAX_LISTED_CELLS` are listed.
    """

    sheet: str
    index: int
    visible: bool
    data: Any
    merges: list[tuple[int, int, int, int]] | None = None
    fastexcel: bool = False
    merge_loader: Callable[[], list[tuple[int, int, int, int]]] | None = field(default=None, repr=False)
    unresolved: list[tuple[int, int]] = field(default_factory=list)

    def merged_ranges(self) -> list[tuple[int, int, int, int]]:
        """The merged ranges, read on first use (for a large .xlsx that means streaming its sheet XML)."""
        if self.merges is None:
            self.merges = self.merge_loader() if self.merge_loader else []
        return self.merges

    @property
    def height(self) -> int:
        return self.data.num_rows

    @property
    def column_indexes(self) -> list[int]:
        """Absolute 0-based column index of each Arrow column."""
        return [int(name[1:]) for name in self.data.column_names]

    def head(self, n: int) -> list[list[str | None]]:
        """The first ``n`` rows as cell texts (rules applied), dense from column 0 (A)."""
        part = self.data.slice(0, n).to_pydict()
        width = max(self.column_indexes, default=-1) + 1
        fix = fix_fastexcel_text if self.fastexcel else cell_text
        rows: list[list[str | None]] = [[None] * width for _ in range(min(n, self.height))]
        for name, values in part.items():
            col = int(name[1:])
            for r, v in enumerate(values):
                rows[r][col] = fix(v)
        return rows

    def rows_text(self, rows: list[int]) -> list[list[str | None]]:
        """Cell texts of some rows (0-based), dense from column 0; used for footer metadata."""
        if not rows:
            return []
        import pyarrow as pa

        picked = self.data.take(pa.array(rows)).to_pydict()
        width = max(self.column_indexes, default=-1) + 1
        fix = fix_fastexcel_text if self.fastexcel else cell_text
        out: list[list[str | None]] = [[None] * width for _ in rows]
        for name, values in picked.items():
            col = int(name[1:])
            for r, v in enumerate(values):
                out[r][col] = fix(v)
        return out


def _string_table(columns: dict[str, list[str | None]]):
    import pyarrow as pa

    return pa.table({name: pa.array(values, type=pa.string()) for name, values in columns.items()})


def _password(name: str) -> UnreadableFile:
    return _unreadable(
        name,
        "文件设置了打开密码。",
        "请在 Excel 中取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新上传。",
    )


def _shown(text: str) -> str:
    from ingest.messages import shown_name

    return shown_name(text)
