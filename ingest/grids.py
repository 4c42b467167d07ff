"""Raw cell grids from submitted files: every sheet of an .xlsx/.xls, or a .csv, as columns of text.

A :class:`Grid` is one sheet read exactly as the submitter sees it, before any header is known: an Arrow
table with one string column per source column (named ``c<absolute column index>``) and one row per sheet
row, row *i* (0-based) being Excel row *i + 1*, plus the merged ranges. Nothing is typed or interpreted here.

How each format is read (see ``/work/shared/NOTES.md``, Excel and DuckDB):

* ``.xlsx`` — fastexcel with ``dtypes="string"`` (its type guessing silently nulls ``3.15万``/``95%``), zero
  copy to Arrow; merged ranges come from the sheet XML (fastexcel does not expose them).
* ``.xls`` — python-calamine (values and merged ranges); cells are turned into text here.
* ``.csv`` — DuckDB ``read_csv`` with every column VARCHAR on a UTF-8 file. GBK/GB18030, UTF-16 and files
  with blank lines (which DuckDB drops, shifting row numbers) are first rewritten to a UTF-8 temporary file.

The format is decided by the file's bytes, not its name: an .xlsx renamed .xls still reads, a text or image
file renamed .xlsx raises :class:`UnreadableFile` with a Chinese message.

Cell text rules (the same in Python, :func:`cell_text` / :func:`fix_fastexcel_text`, and vectorised in
Arrow, :func:`clean_column`): integral numbers ``1234`` (never ``1234.0``), other numbers without float noise
(``0.95``), date and date-time cells ``2022-04-15``, text stripped, empty → NULL.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import io
import os
import posixpath
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Grid",
    "UnreadableFile",
    "WHITESPACE",
    "cell_text",
    "clean_column",
    "column_contains_bytes",
    "fix_fastexcel_text",
    "read_csv_grid",
    "read_grid",
    "read_grids",
    "sniff_format",
]

FileFormat = Literal["xlsx", "xls", "csv"]

# White space stripped around every cell: ASCII, the ideographic (full-width) space U+3000, no-break space.
WHITESPACE = " \t\r\n\x0b\x0c\u3000\u00a0"

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xls", ".xlsb", ".et"}


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
        submitter sees. At most :data:`MAX_LISTED_CELLS` are listed.
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


# ---------------------------------------------------------------------------------------------- sniffing


def sniff_format(path: Path, name: str) -> FileFormat:
    """Tell .xlsx, .xls and .csv apart by content (the suffix only breaks ties).

    Raises
    ------
    UnreadableFile
        Empty file, encrypted workbook, a zip that is not a workbook, or anything that is not text while
        its name says Excel.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise _unreadable(name, f"文件打不开（{exc.strerror or exc}）。", "请重新上传。") from exc
    if size == 0:
        raise _unreadable(name, "文件是空的（0 字节）。", "请检查文件后重新上传。")
    if head.startswith(_ZIP):
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _unreadable(name, "文件已损坏（压缩包结构不完整）。") from exc
        names = {info.filename for info in infos}
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            _check_package(infos, name)
            return "xlsx"
        if "content.xml" in names and "mimetype" in names:
            raise _unreadable(name, "这是 WPS/OpenOffice 格式（.ods 等），不是 Excel 文件。")
        raise _unreadable(name, "不是有效的 Excel 或 CSV 文件（可能是 Word 文档或压缩包）。")
    if head.startswith(_OLE):
        data = path.read_bytes()
        if _ENCRYPTED in data or _biff_filepass(data):
            raise _password(name)
        return "xls"
    suffix = path.suffix.lower()
    if suffix in _EXCEL_SUFFIXES:
        raise _unreadable(name, _not_excel(path))
    return "csv"


# Workbook globals of BIFF8 (Excel 97-2003) and BIFF5 start with a BOF record; FILEPASS (0x002F) right after
# it means the workbook is encrypted (calamine reports that only when opening by path, not from bytes).
_BIFF_BOF = (b"\x09\x08\x10\x00\x00\x06\x05\x00", b"\x09\x08\x08\x00\x00\x05\x05\x00")


def _biff_filepass(data: bytes) -> bool:
    for bof in _BIFF_BOF:
        at = data.find(bof)
        while at != -1:
            length = data[at + 2] | data[at + 3] << 8
            if data[at + 4 + length : at + 6 + length] == b"\x2f\x00":
                return True
            at = data.find(bof, at + 1)
    return False


def _not_excel(path: Path) -> str:
    """Why a file named like a workbook is none, for the formats offices meet most."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "这是“XML 电子表格 2003”格式的文件，不是 Excel 工作簿。"
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")) or b"<table" in text:
        return "这是网页（HTML）格式的文件（常见于从业务系统导出的 .xls），不是真正的 Excel 文件。"
    return "不是有效的 Excel 或 CSV 文件。"


def _password(name: str) -> UnreadableFile:
    return _unreadable(
        name,
        "文件设置了打开密码。",
        "请在 Excel 中取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新上传。",
    )


def read_grids(path: Path, name: str, fmt: FileFormat) -> Iterator[Grid]:
    """Yield every sheet of the file as a :class:`Grid`, in workbook order (a CSV yields one grid).

    Sheets are read lazily, one at a time, so a caller that stops early does not pay for the rest.
    """
    if fmt == "xlsx":
        yield from _xlsx_grids(path, name)
    elif fmt == "xls":
        yield from _xls_grids(path, name)
    else:
        yield read_csv_grid(path, name)


def read_grid(path: Path, name: str, fmt: FileFormat, sheet_index: int) -> Grid:
    """One sheet by position (re-reading a file for :meth:`ingest.readers.ParsedTable.load_into`)."""
    for grid in read_grids(path, name, fmt):
        if grid.index == sheet_index:
            return grid
    raise _unreadable(name, f"找不到第 {sheet_index + 1} 个工作表。", "请重新上传。")


# ---------------------------------------------------------------------------------------------- xlsx


def _xlsx_grids(path: Path, name: str) -> Iterator[Grid]:
    import fastexcel
    import pyarrow as pa

    with _Package(path, name) as package:
        source: Path | bytes = path
        if path.suffix.lower() not in {".xlsx", ".xlsm", ".xltx", ".xlsb"}:
            source = path.read_bytes()  # fastexcel picks the reader by suffix for paths, by content for bytes
        try:
            reader = fastexcel.read_excel(source)
            sheet_names = reader.sheet_names
        except Exception as exc:  # FastExcelError, or a panic of the Rust reader on a malformed part
            raise _unreadable(name, "不是有效的 Excel 文件或文件已损坏。") from exc
        except BaseException as exc:
            raise _reraise_or_unreadable(exc, name, "不是有效的 Excel 文件或文件已损坏。") from exc
        for i, sheet_name in enumerate(sheet_names):
            scan = package.scan_sheet(i, sheet_name)  # refuses a sheet fastexcel could not read safely
            broken = f"工作表“{_shown(sheet_name)}”已损坏，无法读取。"
            try:
                sheet = reader.load_sheet(i, header_row=None, skip_rows=0, dtypes="string")
                batch, errors = sheet.to_arrow_with_errors()
            except Exception as exc:
                raise _unreadable(name, broken) from exc
            except BaseException as exc:
                raise _reraise_or_unreadable(exc, name, broken) from exc
            table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
            cols = [c.absolute_index for c in sheet.selected_columns]
            table = table.rename_columns([f"c{c}" for c in cols])
            if errors is not None and errors.errors:
                table = _with_error_texts(table, errors.errors)
            yield Grid(
                sheet=sheet_name,
                index=i,
                visible=str(sheet.visible).lower() == "visible",
                data=table,
                merges=scan.merges if scan is not None else (None if table.num_rows else []),
                fastexcel=True,
                merge_loader=lambda i=i: _XlsxMerges(path).for_sheet(i),
                unresolved=scan.unresolved if scan is not None else [],
            )


# Excel's error values as fastexcel names them (``Error(Div0)``) → as Excel shows them.
_EXCEL_ERRORS = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Name": "#NAME?",
    "Null": "#NULL!",
    "Num": "#NUM!",
    "Ref": "#REF!",
    "Value": "#VALUE!",
    "GettingData": "#GETTING_DATA",
}
_FE_ERROR = re.compile(r"Error\((\w+)\)")


def _with_error_texts(table, errors):
    """Put the text Excel shows (``#DIV/0!``) into cells holding an error value, which fastexcel leaves
    empty: an empty cell means "not filled in", an error cell is a wrong value the submitter must fix."""
    import pyarrow as pa

    by_column: dict[int, dict[int, str]] = {}
    for error in errors:
        row, col = error.offset_position
        m = _FE_ERROR.search(error.detail)
        if m is None or not (0 <= col < table.num_columns) or not (0 <= row < table.num_rows):
            continue
        by_column.setdefault(col, {})[row] = _EXCEL_ERRORS.get(m[1], f"#{m[1].upper()}!")
    for col, cells in by_column.items():
        values = table.column(col).to_pylist()
        for row, text in cells.items():
            if values[row] is None:
                values[row] = text
        table = table.set_column(col, table.column_names[col], pa.array(values, type=pa.string()))
    return table


def _reraise_or_unreadable(exc: BaseException, name: str, why: str) -> BaseException:
    """A Rust panic inside fastexcel/calamine arrives as ``pyo3_runtime.PanicException``, a BaseException:
    make it the Chinese refusal of the file (never a crash of the process); re-raise anything else."""
    if type(exc).__name__ == "PanicException":
        return _unreadable(name, why)
    raise exc


_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]{1,3}\d+(?::[A-Z]{1,3}\d+)?)\"")


def _ref_to_rc(ref: str) -> tuple[int, int]:
    m = _CELL_REF.fullmatch(ref)
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m[1]:
        col = col * 26 + ord(ch) - 64
    return int(m[2]) - 1, col - 1


class _XlsxMerges:
    """Merged ranges of an .xlsx, read from the sheet XML (streamed; ``<mergeCells>`` follows the data)."""

    def __init__(self, path: Path):
        self.path = path
        self._targets: list[str] | None = None

    def _sheet_targets(self, zf: zipfile.ZipFile) -> list[str]:
        if self._targets is None:
            wb = zf.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            targets = {}
            for rel in re.finditer(r"<(?:\w+:)?Relationship\b([^>]*)/?>", rels):
                attrs = dict(re.findall(r'(\w+)="([^"]*)"', rel[1]))
                if "Id" in attrs and "Target" in attrs:
                    target = attrs["Target"]
                    target = target.lstrip("/")
                    target = target if target.startswith("xl/") else posixpath.join("xl", target)
                    targets[attrs["Id"]] = posixpath.normpath(target)
            order = []
            for sheet in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)/?>", wb):
                rid = re.search(r'\br:id="([^"]*)"|\bid="([^"]*)"', sheet[1])
                rid_value = (rid[1] or rid[2]) if rid else None
                order.append(targets.get(rid_value or "", ""))
            self._targets = order
        return self._targets

    def for_sheet(self, index: int) -> list[tuple[int, int, int, int]]:
        try:
            with zipfile.ZipFile(self.path) as zf:
                targets = self._sheet_targets(zf)
                if index >= len(targets) or targets[index] not in zf.namelist():
                    return []
                out = []
                tail = b""
                with zf.open(targets[index]) as fh:
                    while chunk := fh.read(1 << 20):
                        buf = tail + chunk
                        if b"mergeCell" in buf:
                            for m in _MERGE_REF.finditer(buf):
                                first, _, last = m[1].decode().partition(":")
                                r1, c1 = _ref_to_rc(first)
                                r2, c2 = _ref_to_rc(last or first)
                                out.append((r1, c1, r2, c2))
                            cut = buf.rfind(b"<")
                            tail = buf[cut:] if cut >= 0 and b">" not in buf[cut:] else b""
                        else:
                            tail = buf[-256:]
                return sorted(set(out))
        except (KeyError, zipfile.BadZipFile, ValueError, OSError):
            return []


# ---------------------------------------------------------------------------------------------- xlsx safety

# fastexcel/calamine trust the package: they inflate a part to whatever size it really has, allocate what its
# counts claim and build every sheet as a dense grid from A1 to its farthest cell. So a 2 KB file with two
# cells at A1 and XFD1048576, a part whose header lies about its size, a decompression bomb or a shared
# string table claiming two billion entries would exhaust memory and abort the process. Before fastexcel
# sees a package, these checks read it the cheap way (the central directory, then each XML part streamed
# through a bounded inflater) and refuse what would not fit.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
# rows x columns of one sheet as fastexcel builds it (~40 bytes a cell): a 1M-row ledger of 19 columns
MAX_SHEET_CELLS = 20_000_000
MAX_PARTS = 10_000
MAX_UNPACKED = 2 << 30  # all parts of a package, uncompressed
BOMB_RATIO = 100  # a part larger than BOMB_MIN_SIZE compressed more than this is a decompression bomb
BOMB_MIN_SIZE = 32 << 20
MAX_LISTED_CELLS = 1_000

_RESAVE = "请用 Excel（或 WPS）打开该文件，另存为新的 .xlsx 文件后重新上传。"
_INFLATE_CHUNK = 1 << 20


def _shown(text: str) -> str:
    from ingest.messages import shown_name

    return shown_name(text)


def _size_text(n: int) -> str:
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GB"
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KB"
    return f"{n} 字节"


def _damaged(
    name: str, part: str | None = None, what: str = "的内容与压缩包记录的大小不符"
) -> UnreadableFile:
    where = f"（部件“{_shown(part)}”{what}）" if part else ""
    return _unreadable(name, f"文件已损坏{where}。", _RESAVE)


def _bad_part_name(part: str) -> bool:
    if not part or "\x00" in part or part.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", part):
        return True
    return any(piece == ".." for piece in re.split(r"[/\\]", part))


def _deflate_bound(size: int) -> int:
    """The most bytes deflate can take for ``size`` bytes (stored blocks: 5 bytes per 16 KB, plus slack)."""
    return size + 5 * (size // 16_383 + 1) + 64


def _check_package(infos: list[zipfile.ZipInfo], name: str) -> None:
    """Refuse a package whose central directory alone shows it is no workbook Excel wrote, or too big."""
    if len(infos) > MAX_PARTS:
        raise _unreadable(
            name,
            f"文件结构异常：压缩包内有 {len(infos)} 个部件（Excel 文件通常只有几十个），不是 Excel 正常保存的文件。",
            _RESAVE,
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        part = info.filename
        if _bad_part_name(part):
            raise _unreadable(
                name,
                f"文件结构异常：压缩包内含有指向其他文件夹的路径“{_shown(part)}”，不是 Excel 正常保存的文件，"
                "系统拒绝读取。",
                _RESAVE,
            )
        if part.lower() in seen:
            raise _unreadable(
                name,
                f"文件结构异常：部件“{_shown(part)}”在压缩包内出现了两次，无法确定以哪一个为准。",
                _RESAVE,
            )
        seen.add(part.lower())
        if info.flag_bits & 0x1:
            raise _password(name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _unreadable(name, "文件已损坏或使用了 Excel 不支持的压缩方式。", _RESAVE)
        stored = info.compress_type == zipfile.ZIP_STORED
        if info.compress_size > _deflate_bound(info.file_size) or (
            stored and info.compress_size != info.file_size
        ):
            raise _damaged(name, part)
        if info.file_size > BOMB_MIN_SIZE and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
            raise _unreadable(
                name,
                f"文件异常：部件“{_shown(part)}”压缩后只有 {_size_text(info.compress_size)}，解压后却达 "
                f"{_size_text(info.file_size)}（疑似“压缩炸弹”），系统拒绝读取。",
                _RESAVE,
            )
        total += info.file_size
    if total > MAX_UNPACKED:
        raise _unreadable(
            name,
            f"文件内容过大（解压后共 {_size_text(total)}，超过系统上限 {_size_text(MAX_UNPACKED)}）。",
            "请删除多余的工作表和内容，或分成几个文件报送。",
        )


class _Broken(Exception):
    """A part does not inflate to what the package declares (its size, in one complete stream)."""


def _inflate(fh, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The bytes of one part, inflated in chunks of at most 1 MiB and checked on the way: never more than
    the declared size (so a lying header cannot make us inflate a bomb), at the end exactly the declared size
    and a complete stream. Raises :class:`_Broken` otherwise. (The CRC is left to the zip reader of
    fastexcel, which checks it as it reads the same bytes.)"""
    import struct
    import zlib

    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) != 30 or local[:4] != _ZIP:
        raise _Broken(info.filename)
    skip_name, skip_extra = struct.unpack("<HH", local[26:30])
    fh.seek(info.header_offset + 30 + skip_name + skip_extra)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left = info.compress_size
    size = 0
    while left > 0:
        raw = fh.read(min(_INFLATE_CHUNK, left))
        if not raw:
            raise _Broken(info.filename)
        left -= len(raw)
        pending = raw
        while pending:
            if inflater is None:
                data, pending = pending, b""
            else:
                try:
                    data = inflater.decompress(pending, _INFLATE_CHUNK)
                except zlib.error as exc:
                    raise _Broken(info.filename) from exc
                pending = inflater.unconsumed_tail
            if data:
                size += len(data)
                if size > info.file_size:
                    raise _Broken(info.filename)
                yield data
    if inflater is not None:
        try:
            rest = inflater.flush()
        except zlib.error as exc:
            raise _Broken(info.filename) from exc
        size += len(rest)
        if size > info.file_size:
            raise _Broken(info.filename)
        if rest:
            yield rest
        if not inflater.eof:
            raise _Broken(info.filename)
    if size != info.file_size:
        raise _Broken(info.filename)


_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_BIG_COUNT = re.compile(rb'\b(uniqueCount|count)="(\d{7,})"')
_SHEET_DIRS = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/", "xl/macrosheets/")


def _entities(name: str) -> UnreadableFile:
    return _unreadable(
        name,
        "文件中含有 Excel 不会写入的 XML 实体定义（DOCTYPE/ENTITY），可能是被篡改的文件，系统拒绝读取。",
        _RESAVE,
    )


@dataclass
class _SheetScan:
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    unresolved: list[tuple[int, int]] = field(default_factory=list)


class _Package:
    """An .xlsx checked before fastexcel reads it: every XML part but the sheets is inflated once through
    :func:`_inflate` (size, CRC, no DOCTYPE, no count larger than the part); each sheet is scanned the same
    way just before it is loaded (:meth:`scan_sheet`)."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = path, name
        try:
            self.zf = zipfile.ZipFile(path)
            self.fh = path.open("rb")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _unreadable(name, "文件已损坏（压缩包结构不完整）。") from exc
        try:
            self.infos = {info.filename: info for info in self.zf.infolist()}
            workbook = b""
            for part, info in self.infos.items():
                lower = part.lower()
                if lower.startswith(_SHEET_DIRS) or not lower.endswith((".xml", ".rels", ".vml")):
                    continue
                for i, chunk in enumerate(_inflate(self.fh, info)):
                    if i == 0 and _DOCTYPE.search(chunk, 0, 4096):
                        raise _entities(name)
                    for m in _BIG_COUNT.finditer(chunk):
                        if (
                            not (m[1] == b"count" and lower.endswith("sharedstrings.xml"))
                            and int(m[2]) > info.file_size // 4
                        ):
                            raise _damaged(name, part, "声明的条目数远多于其实际内容")
                    if part == "xl/workbook.xml" and len(workbook) < (4 << 20):
                        workbook += chunk
            self.calc_on_load = bool(re.search(rb'fullCalcOnLoad="(?:1|true)"', workbook))
            self.binary = "xl/workbook.bin" in self.infos  # .xlsb: binary parts, fastexcel reads them alone
            try:
                self.targets = [] if self.binary else _XlsxMerges(path)._sheet_targets(self.zf)
            except (KeyError, zipfile.BadZipFile, ValueError, OSError):
                self.targets = []
            self.by_lower = {part.lower(): info for part, info in self.infos.items()}
        except _Broken as exc:
            self.close()
            raise _damaged(name, str(exc)) from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()
        with contextlib.suppress(Exception):
            self.zf.close()

    def __enter__(self) -> _Package:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def scan_sheet(self, index: int, sheet: str) -> _SheetScan | None:
        """Stream sheet ``index`` once: refuse it (UnreadableFile) when it inflates to other than declared,
        carries entity definitions, reaches beyond Excel's grid or spans more than :data:`MAX_SHEET_CELLS`;
        else return its merged ranges and the formula cells whose result was not saved. None for a binary
        workbook (.xlsb), whose parts are not XML."""
        if self.binary:
            return None
        target = self.targets[index] if index < len(self.targets) else ""
        info = self.infos.get(target) or self.by_lower.get(target.lower())
        if info is None:  # fastexcel would not find it either; it must never read a sheet we did not check
            raise _unreadable(self.name, f"工作表“{_shown(sheet)}”已损坏，无法读取。")
        scanner = _SheetScanner(self.calc_on_load)
        try:
            tail = b""
            for i, chunk in enumerate(_inflate(self.fh, info)):
                if i == 0 and _DOCTYPE.search(chunk, 0, 4096):
                    raise _entities(self.name)
                buf = tail + chunk if tail else chunk
                cut = buf.rfind(b"/row>")
                if cut >= 0:
                    cut += 5
                elif len(buf) > (8 << 20):
                    cut = buf.rfind(b">") + 1 or len(buf)
                else:
                    tail = buf
                    continue
                scanner.feed(buf[:cut])
                tail = buf[cut:]
                scanner.check(self.name, sheet)
            scanner.feed(tail)
            if scanner.needs_exact_rows():
                scanner.exact_rows(_inflate(self.fh, info))
            scanner.check(self.name, sheet)
        except _Broken as exc:
            raise _damaged(self.name, info.filename) from exc
        return _SheetScan(sorted(set(scanner.merges)), scanner.unresolved)


# The general patterns: any namespace prefix, attribute order, quotes, white space or letter case (calamine
# accepts all of them, so a reference written any of these ways places a cell all the same).
_TAG_R = re.compile(rb'<(?:[\w.-]+:)?(c|row)(?=[\s/>])[^>]*?\sr\s*=\s*(["\'])([^"\'<>]*)\2')
_REF_VALUE = re.compile(rb"([A-Za-z]{1,3})(0*[0-9]{1,7})")
_ROW_NUMBER = re.compile(rb"0*[0-9]{1,7}")
_REF_ROWS = re.compile(rb'\sr\s*=\s*["\'][A-Za-z]{1,3}(\d+)')
_ROW_NO_R = re.compile(rb"<(?:[\w.-]+:)?row(?=[\s/>])(?![^>]*\sr\s*=)")
_CELL_NO_R = re.compile(rb"<(?:[\w.-]+:)?c(?=[\s/>])(?![^>]*\sr\s*=)")
_ROW_BODY = re.compile(rb"<(?:\w+:)?row\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_CELL_TAG = re.compile(rb"<(?:\w+:)?c(?=[\s/>])")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s/>]")
_CELL_ELEMENT = re.compile(rb"<(?:\w+:)?c(?=[\s/>])([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_VALUE_TAG = re.compile(rb"<(?:\w+:)?v\s*(/?)>(.?)", re.S)
_CELL_REF_ATTR = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]{1,3}\d+)["\']')
_STRING_TYPE = re.compile(rb'\st="str"')
_PLAIN_REF = re.compile(rb'<c r="[A-Z]{1,3}(\d+)"')


def _letters_to_col(letters: bytes) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return col


def _beyond_letters(widest: int) -> str:
    """RE2 for column letters right of column ``widest`` (1-based; 0: any column)."""
    if widest <= 0:
        return "[A-Z]+"
    letters = _col_letters(widest - 1)
    out = [f"[A-Z]{{{len(letters) + 1},}}"]
    for i, ch in enumerate(letters):
        if ch < "Z":
            rest = len(letters) - i - 1
            out.append(letters[:i] + f"[{chr(ord(ch) + 1)}-Z]" + (f"[A-Z]{{{rest}}}" if rest else ""))
    return "|".join(out)


@functools.lru_cache(maxsize=256)
def _suspects(widest: int, digits: int) -> str:
    """RE2 for what a segment written the plain way (``<row r="7">``, ``<c r="B7">``) cannot hold unless the
    scanner looks closer: a cell or row tag not starting with its reference, a reference right of the widest
    column or with more digits than the highest row seen, a formula, a namespace prefix, merged ranges."""
    return (
        r'<c(?:[>/\t\n\r]| [^r]| r[^=]| r=[^"])|<row(?:[>/\t\n\r]| [^r]| r[^=]| r=[^"])'
        rf'|<c r="(?:(?:{_beyond_letters(widest)})[0-9]|[A-Z]{{1,3}}[0-9]{{{digits + 1}}})'
        r'|<c r="[A-Z]*[0-9]*[^A-Z0-9"]|<c r="[A-Z]*[0-9]+[A-Z]'
        r"|<f[\s/>]|:c[\s/>]|:row|mergeCell"
    )


class _SheetScanner:
    """What one sheet's XML says about its extent, merges and unsaved formula results, fed complete rows.

    A segment is first matched against :func:`_suspects` (RE2, one fast pass). If nothing matches, its only
    news is its highest row, read from its last reference; else it is read closely with the general patterns.
    """

    def __init__(self, calc_on_load: bool):
        self.calc_on_load = calc_on_load
        self.max_row = 0
        self.digits = 1  # digits of the highest row read closely: a plain segment holds no longer reference
        self.widest = 0  # widest column of any reference (1-based)
        self.rows_without_r = 0
        self.cells_in_a_row = 0  # most cells without a reference in one row (they are placed one by one)
        self.merges: list[tuple[int, int, int, int]] = []
        self.unresolved: list[tuple[int, int]] = []
        self.beyond = False
        self.estimated = False  # a plain segment's highest row was taken from its last reference

    def feed(self, seg: bytes) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if not seg:
            return
        suspect = pc.match_substring_regex(pa.array([seg], pa.binary()), _suspects(self.widest, self.digits))
        if not suspect[0].as_py():
            last = seg.rfind(b'<c r="')
            m = _PLAIN_REF.match(seg, last) if last >= 0 else None
            if m:
                self.max_row = max(self.max_row, int(m[1]))
                self.estimated = True
            return
        self._closely(seg)

    def _closely(self, seg: bytes) -> None:
        for tag, _, value in _TAG_R.findall(seg):
            if tag == b"c":
                m = _REF_VALUE.fullmatch(value)
                if m is None:  # not a reference Excel could write
                    self.beyond = True
                    return
                self.widest = max(self.widest, _letters_to_col(m[1].upper()))
                self.max_row = max(self.max_row, int(m[2]))
            elif _ROW_NUMBER.fullmatch(value):
                self.max_row = max(self.max_row, int(value))
            else:
                self.beyond = True
                return
        self.digits = max(self.digits, len(str(self.max_row)))
        if _ROW_NO_R.search(seg):
            self.rows_without_r += len(_ROW_NO_R.findall(seg))
        if _CELL_NO_R.search(seg):
            for m in _ROW_BODY.finditer(seg):
                self.cells_in_a_row = max(self.cells_in_a_row, len(_CELL_TAG.findall(m[1] or b"")))
        if b"mergeCell" in seg:
            for m in _MERGE_REF.finditer(seg):
                first, _, last = m[1].decode().partition(":")
                r1, c1 = _ref_to_rc(first)
                r2, c2 = _ref_to_rc(last or first)
                self.merges.append((r1, c1, r2, c2))
        if _FORMULA_TAG.search(seg):
            self._formulas(seg)

    def exact_rows(self, segments: Iterator[bytes]) -> None:
        """The highest row over every reference (a second pass, when an estimate is not enough)."""
        for seg in segments:
            rows = _REF_ROWS.findall(seg)
            if rows:
                self.max_row = max(self.max_row, max(map(int, rows)))
        self.estimated = False

    def _formulas(self, seg: bytes) -> None:
        for m in _CELL_ELEMENT.finditer(seg):
            body = m[2]
            if not body or not _FORMULA_TAG.search(body):
                continue
            value = _VALUE_TAG.search(body)
            empty = value is None or value[1] == b"/" or value[2] in (b"<", b"")
            saved = value is not None and (not empty or _STRING_TYPE.search(m[1]))
            if saved and not self.calc_on_load:
                continue
            ref = _CELL_REF_ATTR.search(m[1])
            if ref is not None and len(self.unresolved) < MAX_LISTED_CELLS:
                self.unresolved.append(_ref_to_rc(ref[1].decode().upper()))

    def extent(self) -> tuple[int, int]:
        """(rows, columns) of the grid fastexcel would build (rows may be an estimate, see ``estimated``)."""
        return self.max_row + self.rows_without_r, max(self.widest, self.cells_in_a_row)

    def needs_exact_rows(self) -> bool:
        """Whether the estimate could hide a grid over the limit: the sheet is wide enough for that."""
        _, columns = self.extent()
        return self.estimated and columns * EXCEL_MAX_ROWS > MAX_SHEET_CELLS

    def check(self, name: str, sheet: str) -> None:
        rows, columns = self.extent()
        if self.beyond or rows > EXCEL_MAX_ROWS or columns > EXCEL_MAX_COLUMNS:
            raise _unreadable(
                name,
                f"工作表“{_shown(sheet)}”中有单元格超出了 Excel 的最大范围（{EXCEL_MAX_ROWS} 行、"
                f"{EXCEL_MAX_COLUMNS} 列），不是 Excel 正常保存的文件。",
                _RESAVE,
            )
        if rows * columns > MAX_SHEET_CELLS:
            far = f"{_col_letters(columns - 1)}{rows}"
            raise _unreadable(
                name,
                f"工作表“{_shown(sheet)}”的数据区域过大：从 A1 一直延伸到 {far}（{rows} 行 × {columns} 列），"
                f"超过系统可处理的 {MAX_SHEET_CELLS // 10_000} 万个单元格。",
                "请删除报表以外多余的行、列和内容（或把报表区域复制到新的工作簿）后重新报送。",
            )


def _col_letters(col: int) -> str:
    out = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


# ---------------------------------------------------------------------------------------------- xls


def _xls_grids(path: Path, name: str) -> Iterator[Grid]:
    import python_calamine

    try:
        with path.open("rb") as fh:
            wb = python_calamine.load_workbook(io.BytesIO(fh.read()))
    except python_calamine.PasswordError as exc:
        raise _password(name) from exc
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise _unreadable(name, "不是有效的 Excel 文件或文件已损坏。") from exc
    for i, meta in enumerate(wb.sheets_metadata):
        try:
            sheet = wb.get_sheet_by_index(i)
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except python_calamine.PasswordError as exc:
            raise _password(name) from exc
        except Exception as exc:
            raise _unreadable(name, f"工作表“{meta.name}”已损坏，无法读取。") from exc
        width = max((len(r) for r in rows), default=0)
        columns: dict[str, list[str | None]] = {f"c{c}": [] for c in range(width)}
        for row in rows:
            for c in range(width):
                columns[f"c{c}"].append(cell_text(row[c]) if c < len(row) else None)
        while rows and columns and all(v is None for v in columns[f"c{width - 1}"]):
            del columns[f"c{width - 1}"]
            width -= 1
        yield Grid(
            sheet=meta.name,
            index=i,
            visible=meta.visible == python_calamine.SheetVisibleEnum.Visible,
            data=_string_table(columns) if columns else _string_table({}),
            merges=[(r1, c1, r2, c2) for (r1, c1), (r2, c2) in merged],
            fastexcel=False,
        )


# ---------------------------------------------------------------------------------------------- csv


@dataclass(frozen=True)
class _CsvShape:
    encoding: str
    delimiter: str
    width: int
    blank_lines: bool  # empty lines before the end, which DuckDB would drop

    @property
    def needs_rewrite(self) -> bool:
        return self.blank_lines or self.encoding not in ("utf-8", "utf-8-sig")


_SAMPLE = 1 << 20


def _detect_encoding(path: Path, name: str, full: bool = False) -> str:
    """The file's encoding: a BOM, else UTF-8 if it decodes, else GB18030 (a superset of GBK), else a guess.

    With ``full=False`` only the first megabyte is checked for UTF-8 (DuckDB rejects invalid UTF-8 later,
    and the reader then retries with ``full=True``).
    """
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
    if head.startswith(codecs.BOM_UTF8):
        if full:
            _refuse_undecodable(path, name, "utf-8-sig")
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _refuse_undecodable(path, name, "utf-16")
    if b"\x00" in head:
        evens, odds = head[0::2], head[1::2]
        if odds.count(0) > len(odds) * 0.3 and evens.count(0) < len(evens) * 0.05:
            return _refuse_undecodable(path, name, "utf-16-le")
        if evens.count(0) > len(evens) * 0.3 and odds.count(0) < len(odds) * 0.05:
            return _refuse_undecodable(path, name, "utf-16-be")
        raise _unreadable(name, "不是有效的 Excel 或 CSV 文件。")
    if not full and _decodes_sample(head, "utf-8"):
        return "utf-8"
    utf8 = _decode_failure(path, "utf-8")
    if utf8 is None:
        return "utf-8"
    if utf8 == "end":
        raise _truncated(name)
    mixed = _mixed_lines(path)
    if mixed is not None:
        raise _unreadable(
            name,
            f"文件中混用了不同的文字编码（第{mixed[0]}行是 UTF-8 编码，第{mixed[1]}行是 GBK 等其他编码），"
            "无法确定各行的文字。",
            "请用 Excel 打开核对后另存为 .xlsx（或“CSV UTF-8”）重新上传。",
        )
    gbk = _decode_failure(path, "gb18030")
    if gbk is None:
        return "gb18030"
    if gbk == "end":
        raise _truncated(name)
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is not None and best.encoding and _decodes(path, best.encoding):
        return best.encoding
    raise _unreadable(
        name, "无法识别文件的文字编码。", "请用 Excel 另存为 .xlsx（或“CSV UTF-8”）后重新上传。"
    )


def _decodes_sample(head: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _truncated(name: str) -> UnreadableFile:
    return _unreadable(
        name,
        "文件不完整：文件末尾的文字被截断（可能是上传或复制时中断）。",
        "请重新导出完整的文件后重新上传。",
    )


def _decode_failure(path: Path, encoding: str) -> str | None:
    """None when the whole file decodes; ``"end"`` when only its last character is cut off; else ``"bad"``."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
    except UnicodeDecodeError:
        return "bad"
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "end"
    return None


def _refuse_undecodable(path: Path, name: str, encoding: str) -> str:
    """``encoding`` if the whole file decodes in it; else refuse the file (cut off, or not that encoding)."""
    failure = _decode_failure(path, encoding)
    if failure == "end":
        raise _truncated(name)
    if failure is not None:
        raise _unreadable(
            name, "无法识别文件的文字编码。", "请用 Excel 另存为 .xlsx（或“CSV UTF-8”）后重新上传。"
        )
    return encoding


_CJK = re.compile("[\u4e00-\u9fff]")


def _mixed_lines(path: Path, limit: int = 200_000) -> tuple[int, int] | None:
    """(a line that is UTF-8 Chinese, a line that is not UTF-8) when a file mixes the two, e.g. rows pasted
    from a GBK export into a UTF-8 file; read as either encoding, part of it would come out garbled."""
    utf8_line = other_line = None
    with path.open("rb") as fh:
        for no, line in enumerate(fh, 1):
            if no > limit:
                break
            if line.isascii():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                other_line = other_line or no
            else:
                if len(_CJK.findall(text)) >= 2:
                    utf8_line = utf8_line or no
            if utf8_line and other_line:
                return utf8_line, other_line
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _is_binary_text(sample: str) -> bool:
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\x0c")
    return controls > max(2, len(sample) // 100)


def _csv_shape(path: Path, name: str, full: bool = False) -> _CsvShape:
    encoding = _detect_encoding(path, name, full)
    with path.open("rb") as fh:
        raw = fh.read(1 << 16)
    sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw, final=False)
    if _is_binary_text(sample):
        raise _unreadable(name, "不是有效的 Excel 或 CSV 文件。")
    lines = sample.splitlines()[:200]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    delimiter = max(counts, key=lambda d: (counts[d], d == ","))
    if counts[delimiter] == 0:
        delimiter = ","
    width = 1
    with contextlib.suppress(csv.Error):
        for i, record in enumerate(csv.reader(io.StringIO(sample), delimiter=delimiter)):
            width = max(width, len(record))
            if i > 500:
                break
    if encoding.startswith("utf-16"):
        blank_lines = True  # line ends are two bytes wide: let the line-by-line rewrite handle them
    else:
        blank_lines = _has_blank_lines(path, b"\r\n" in raw)  # ASCII bytes never occur inside GBK characters
    return _CsvShape(encoding, delimiter, width, blank_lines)


def _has_blank_lines(path: Path, crlf: bool) -> bool:
    """Whether an empty line occurs before the end of the file (DuckDB drops it, shifting row numbers)."""
    import mmap

    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            end = len(mm)
            while end > 0 and mm[end - 1] in b"\r\n":
                end -= 1
            if mm[:1] in (b"\n", b"\r") or mm[:4] in (codecs.BOM_UTF8 + b"\n", codecs.BOM_UTF8 + b"\r"):
                return True
            return mm.find(b"\n\r\n" if crlf else b"\n\n", 0, end) != -1


def _rewrite_utf8(path: Path, shape: _CsvShape, target: Path) -> None:
    """Copy ``path`` to ``target`` as UTF-8; an empty line outside quotes becomes an empty record ``""``."""
    if not shape.blank_lines:
        decoder = codecs.getincrementaldecoder(shape.encoding)(errors="strict")
        with path.open("rb") as src, target.open("wb") as dst:
            while chunk := src.read(1 << 22):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        return
    in_quotes = False
    with (
        path.open("r", encoding=shape.encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        for line in src:
            body = line.rstrip("\r\n")
            if not in_quotes and not body.strip("\ufeff"):
                dst.write('""' + line[len(body) :])
            else:
                dst.write(line)
            if line.count('"') % 2:
                in_quotes = not in_quotes


def _temp_dir(path: Path) -> str:
    parent = path.parent
    if os.access(parent, os.W_OK):
        try:
            return tempfile.mkdtemp(prefix=".roadsafe-csv-", dir=parent)
        except OSError:
            pass
    return tempfile.mkdtemp(prefix="roadsafe-csv-")


def _duckdb_read_csv(source: Path, shape: _CsvShape):
    import duckdb

    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(shape.width)) + "}"
    delim = shape.delimiter.replace("'", "''")
    query = (
        f"SELECT * FROM read_csv(?, auto_detect=false, header=false, all_varchar=true, delim='{delim}', "
        f"quote='\"', escape='\"', columns={columns}, null_padding=true, strict_mode=false, "
        "parallel=PARALLEL)"
    )
    con = _csv_connection()
    try:
        try:
            return con.sql(query.replace("PARALLEL", "true"), params=[str(source)]).to_arrow_table()
        except duckdb.Error as exc:
            if "parallel" not in str(exc).lower():
                raise
            # the parallel reader refuses quoted line breaks together with null padding
            return con.sql(query.replace("PARALLEL", "false"), params=[str(source)]).to_arrow_table()
    except BaseException:
        _csv_local.con = None  # the next file gets a fresh connection, whatever state this one is in
        with contextlib.suppress(Exception):
            con.close()
        raise


_csv_local = threading.local()


def _csv_connection():
    """An in-memory DuckDB for reading CSV files, one per thread (starting one costs more than a small read).
    It holds no tables: every read is one ``read_csv`` query."""
    import duckdb

    state = getattr(_csv_local, "con", None)
    if state is None or state[0] != os.getpid():  # a forked child starts its own
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = true")  # row i of the result is record i of the file
        state = _csv_local.con = (os.getpid(), con)
    return state[1]


def read_csv_grid(path: Path, name: str) -> Grid:
    """Read a CSV file with DuckDB ``read_csv`` (every column VARCHAR) into a :class:`Grid`.

    Row *i* is the *i+1*-th record as Excel shows it (blank lines count, a quoted line break does not).
    A file that is not UTF-8, or has blank lines, is first rewritten as UTF-8 in a temporary directory
    beside ``path`` (or the system temporary directory when that is not writable), removed before returning.
    """
    import duckdb

    shape = _csv_shape(path, name)
    for attempt in (1, 2):
        tmpdir = None
        source = path
        try:
            if shape.needs_rewrite:
                tmpdir = _temp_dir(path)
                source = Path(tmpdir) / "utf8.csv"
                _rewrite_utf8(path, shape, source)
            _check_quotes(source, shape, name)
            table = _read_all_columns(source, shape, name)
            break
        except duckdb.Error as exc:
            if attempt == 1 and "unicode" in str(exc).lower():
                shape = _csv_shape(path, name, full=True)  # UTF-8 at the start only: check the whole file
                continue
            raise _csv_error(name, exc) from exc
        except UnicodeDecodeError as exc:
            raise _unreadable(
                name, "无法识别文件的文字编码。", "请用 Excel 另存为 .xlsx（或“CSV UTF-8”）后重新上传。"
            ) from exc
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
    return Grid(sheet="CSV", index=0, visible=True, data=table, merges=[], fastexcel=False)


def _too_wide(name: str) -> UnreadableFile:
    return _unreadable(
        name,
        f"文件的列数超过了 Excel 的上限（{EXCEL_MAX_COLUMNS} 列），不是报表文件。",
        "请用 Excel 打开检查后另存为 .xlsx 重新上传。",
    )


def _read_all_columns(source: Path, shape: _CsvShape, name: str):
    """:func:`_duckdb_read_csv` with one column more than the sample showed: DuckDB drops the fields of a
    longer record beyond the columns it is given, so a value in that last column means the file is wider
    than its first 64 KB showed (a long first cell, a wide table further down): count and read again."""
    import dataclasses

    if shape.width > 1_000:  # a wide sample: count before DuckDB gets thousands of columns to fill
        shape = dataclasses.replace(
            shape, width=max(shape.width, _max_fields(source, shape.delimiter, False))
        )
    for attempt in range(3):
        if shape.width > EXCEL_MAX_COLUMNS:
            raise _too_wide(name)
        table = _duckdb_read_csv(source, dataclasses.replace(shape, width=shape.width + 1))
        sentinel = table.column(table.num_columns - 1)
        if sentinel.null_count == len(sentinel):
            return table.drop_columns([table.column_names[-1]])
        wider = _max_fields(source, shape.delimiter, exact=attempt > 0)
        shape = dataclasses.replace(shape, width=max(wider, shape.width + 1))
    raise _too_wide(name)


def _max_fields(source: Path, delimiter: str, exact: bool) -> int:
    """The most fields in a record, stopping once past Excel's column limit. Line by line (quoted parts
    removed), which misses records whose quoted cells span lines; ``exact`` then parses the records."""
    best = 0
    if exact:
        with source.open(encoding="utf-8", errors="replace", newline="") as fh:
            for record in csv.reader(fh, delimiter=delimiter):
                best = max(best, len(record))
                if best > EXCEL_MAX_COLUMNS:
                    break
        return best
    sep = delimiter.encode()
    with source.open("rb") as fh:
        for line in fh:
            n = line.count(sep) + 1
            if n > best and b'"' in line:
                n = _QUOTED.sub(b"", line).count(sep) + 1
            best = max(best, n)
            if best > EXCEL_MAX_COLUMNS:
                break
    return best


_QUOTED = re.compile(rb'"(?:[^"]|"")*"')


def _check_quotes(source: Path, shape: _CsvShape, name: str) -> None:
    """Refuse a file in which a quoted field is never closed: DuckDB reads the rest of the file into that one
    cell, and every row after it would silently be lost. Costs one byte count unless the quotes are odd."""
    quotes = 0
    with source.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            quotes += chunk.count(b'"')
    if quotes % 2 == 0:
        return
    with source.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=shape.delimiter, strict=True)
        record = 0
        while True:
            record += 1
            try:
                next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise _unreadable(
                        name,
                        f'第{record}行有一个引号（"）没有配对，其后的所有内容都会被当作这一个单元格，无法分行读取。',
                        "请用 Excel 打开核对该行，删除多余的引号或补全引号后重新上传。",
                    ) from exc


def _csv_error(name: str, exc: Exception) -> UnreadableFile:
    text = str(exc)
    line = re.search(r"Line: (\d+)", text)
    if "line size" in text.lower() and line:
        return _unreadable(
            name,
            f"第{line[1]}行过长（超过 2 MB），不是报表中的一行数据。",
            "请用 Excel 打开检查该行后另存为 .xlsx 重新上传。",
        )
    return _unreadable(name, "CSV 文件格式有误，无法读取。", "请用 Excel 打开检查后另存为 .xlsx 重新上传。")
