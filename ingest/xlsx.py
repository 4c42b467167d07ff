"""Reading .xlsx packages: package checks and zip-bomb guards, merged ranges, the sheet scanner.

fastexcel with ``dtypes="string"`` (its type guessing silently nulls ``3.15万``/``95%``), zero copy to Arrow;
merged ranges come from the sheet XML (fastexcel does not expose them). Before fastexcel sees a package it
is checked the cheap way, so a hostile file is refused with a Chinese message instead of exhausting memory.
"""

from __future__ import annotations

import contextlib
import functools
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.grid import (
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_ROWS,
    Grid,
    UnreadableFile,
    _password,
    _shown,
    _unreadable,
)

_ZIP = b"PK\x03\x04"


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
# rows x columns of one sheet as fastexcel builds it (~40 bytes a cell): a 1M-row ledger of 19 columns
MAX_SHEET_CELLS = 20_000_000
MAX_PARTS = 10_000
MAX_UNPACKED = 2 << 30  # all parts of a package, uncompressed
BOMB_RATIO = 100  # a part larger than BOMB_MIN_SIZE compressed more than this is a decompression bomb
BOMB_MIN_SIZE = 32 << 20
MAX_LISTED_CELLS = 1_000

_RESAVE = "请用 Excel（或 WPS）打开该文件，另存为新的 .xlsx 文件后重新上传。"
_INFLATE_CHUNK = 1 << 20


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
_PLAIN_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"')
_ROW_R = re.compile(rb'<row r="([1-9][0-9]{0,6})"')


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
        if self._plain_refs(seg):
            return
        self._closely(seg)

    def _plain_refs(self, seg: bytes) -> bool:
        """Read a segment whose tags are all written the plain way, but whose references reach further
        than seen so far (the first rows, rows 10000, 100000…), without :meth:`_closely`'s general patterns;
        False (nothing read) when it holds anything else. What it learns is what :meth:`_closely` would:
        the widest column and the highest row, over every cell and row reference."""
        import pyarrow as pa
        import pyarrow.compute as pc

        plain = _suspects(EXCEL_MAX_COLUMNS, 7)  # references within Excel's grid pass; the rest must be plain
        if pc.match_substring_regex(pa.array([seg], pa.binary()), plain)[0].as_py():
            return False
        cells = _PLAIN_CELL_REF.findall(seg)
        rows = _ROW_R.findall(seg)
        if len(cells) != seg.count(b'<c r="') or len(rows) != seg.count(b'<row r="'):
            return False  # a reference written otherwise (leading zeros, no row number): read closely
        letters = {ref for ref, _ in cells}
        self.widest = max([self.widest, *(_letters_to_col(ref) for ref in letters)])
        highest = max(max((int(row) for _, row in cells), default=0), max(map(int, rows), default=0))
        self.max_row = max(self.max_row, highest)
        self.digits = max(self.digits, len(str(self.max_row)))
        return True

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
