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
import io
import os
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
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _unreadable(name: str, why: str, fix: str = "请另存为 .xlsx 后重新上传。") -> UnreadableFile:
    return UnreadableFile(f"文件“{name}”无法读取：{why}{fix}")


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
    """

    sheet: str
    index: int
    visible: bool
    data: Any
    merges: list[tuple[int, int, int, int]] | None = None
    fastexcel: bool = False
    merge_loader: Callable[[], list[tuple[int, int, int, int]]] | None = field(default=None, repr=False)

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
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise _unreadable(name, "文件已损坏（压缩包结构不完整）。") from exc
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            return "xlsx"
        if "content.xml" in names and "mimetype" in names:
            raise _unreadable(name, "这是 WPS/OpenOffice 格式（.ods 等），不是 Excel 文件。")
        raise _unreadable(name, "不是有效的 Excel 或 CSV 文件（可能是 Word 文档或压缩包）。")
    if head.startswith(_OLE):
        if _ENCRYPTED in path.read_bytes():
            raise _password(name)
        return "xls"
    suffix = path.suffix.lower()
    if suffix in _EXCEL_SUFFIXES:
        raise _unreadable(name, "不是有效的 Excel 或 CSV 文件。")
    return "csv"


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

    source: Path | bytes = path
    if path.suffix.lower() not in {".xlsx", ".xlsm", ".xltx", ".xlsb"}:
        source = path.read_bytes()  # fastexcel picks the reader by suffix for paths, by content for bytes
    try:
        reader = fastexcel.read_excel(source)
        sheet_names = reader.sheet_names
    except fastexcel.FastExcelError as exc:
        raise _unreadable(name, "不是有效的 Excel 文件或文件已损坏。") from exc
    merges = _XlsxMerges(path)
    for i, sheet_name in enumerate(sheet_names):
        try:
            sheet = reader.load_sheet(i, header_row=None, skip_rows=0, dtypes="string")
            batch = sheet.to_arrow()
        except fastexcel.FastExcelError as exc:
            raise _unreadable(name, f"工作表“{sheet_name}”已损坏，无法读取。") from exc
        import pyarrow as pa

        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        cols = [c.absolute_index for c in sheet.selected_columns]
        table = table.rename_columns([f"c{c}" for c in cols])
        yield Grid(
            sheet=sheet_name,
            index=i,
            visible=str(sheet.visible).lower() == "visible",
            data=table,
            merges=None if table.num_rows else [],
            fastexcel=True,
            merge_loader=lambda i=i: merges.for_sheet(i),
        )


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
                    target = attrs["Target"].lstrip("/")
                    targets[attrs["Id"]] = target if target.startswith("xl/") else f"xl/{target}"
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
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        evens, odds = head[0::2], head[1::2]
        if odds.count(0) > len(odds) * 0.3 and evens.count(0) < len(evens) * 0.05:
            return "utf-16-le"
        if evens.count(0) > len(evens) * 0.3 and odds.count(0) < len(odds) * 0.05:
            return "utf-16-be"
        raise _unreadable(name, "不是有效的 Excel 或 CSV 文件。")
    if not full and _decodes_sample(head, "utf-8"):
        return "utf-8"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
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
            table = _duckdb_read_csv(source, shape)
            break
        except duckdb.Error as exc:
            if attempt == 1 and "unicode" in str(exc).lower():
                shape = _csv_shape(path, name, full=True)  # UTF-8 at the start only: check the whole file
                continue
            raise _unreadable(
                name, "CSV 文件格式有误，无法读取。", "请用 Excel 打开检查后另存为 .xlsx 重新上传。"
            ) from exc
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
    return Grid(sheet="CSV", index=0, visible=True, data=table, merges=[], fastexcel=False)
