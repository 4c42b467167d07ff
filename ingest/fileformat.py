"""Which format a submitted file is, by its bytes, and its sheets read as :class:`~ingest.grid.Grid` objects.

The format is decided by the file's bytes, not its name: an .xlsx renamed .xls still reads, a text or image
file renamed .xlsx raises :class:`~ingest.grid.UnreadableFile` with a Chinese message. Each format has its
reader: :mod:`ingest.xlsx`, :mod:`ingest.xls`, :mod:`ingest.csvfile`.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ingest.csvfile import read_csv_grid
from ingest.grid import FileFormat, Grid, _password, _unreadable
from ingest.xls import _xls_grids
from ingest.xlsx import _ZIP, _check_package, _xlsx_grids

__all__ = [
    "read_grid",
    "read_grids",
    "sniff_format",
]


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xls", ".xlsb", ".et"}


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
