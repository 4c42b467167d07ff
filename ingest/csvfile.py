"""Reading .csv files: encoding detection, the file's shape, and DuckDB ``read_csv`` into one grid.

DuckDB ``read_csv`` with every column VARCHAR on a UTF-8 file. GBK/GB18030, UTF-16 and files with blank
lines (which DuckDB drops, shifting row numbers) are first rewritten to a UTF-8 temporary file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ingest.grid import EXCEL_MAX_COLUMNS, Grid, UnreadableFile, _unreadable

__all__ = ["read_csv_grid"]


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
