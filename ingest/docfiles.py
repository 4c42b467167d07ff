"""Reading a written document (Word, PDF, WPS) that nobody vouches for: its format told by content, never
by its name; its plain text where a library at hand can give it. Nothing is ever run: a macro is only
noticed, never executed, and the file is never handed to an office suite.

- PDF: starts with ``%PDF-``; text and page count with pypdf (at most :data:`MAX_TEXT_PAGES` pages read).
- docx: a zip holding ``[Content_Types].xml`` and ``word/document.xml`` within the unzip limits; text from
  ``word/document.xml`` (paragraph by paragraph; a DTD or entity declaration refuses the file), pages from
  ``docProps/app.xml``; ``word/vbaProject.bin`` means macros (.docm).
- doc / wps: an OLE2 compound file whose directory holds a ``WordDocument`` stream (Word 97-2003 and WPS
  文字 both), or a ``CONTENTS`` stream (Works / older WPS); no text is read. A ``Macros`` or ``VBA`` storage
  means macros. An OLE file holding a workbook is not a document.

Examples
--------
>>> document_format(b"%PDF-1.7 ...", "a.exe")
'pdf'
>>> document_format(b"MZ\\x90\\x00", "总结.docx") is None
True
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass

__all__ = [
    "MAX_TEXT_CHARS",
    "MAX_TEXT_PAGES",
    "DocumentContent",
    "DocumentUnreadable",
    "document_format",
    "read_document",
]

MAX_TEXT_PAGES = 50  # pages of a PDF whose text is read (a long annex adds nothing to an excerpt)
MAX_TEXT_CHARS = 20_000  # characters of plain text kept
_MAX_XML = 64 * 1024 * 1024  # unzipped size of word/document.xml
_MAX_UNZIPPED = 256 * 1024 * 1024
_MAX_RATIO = 200

_PDF = b"%PDF-"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class DocumentUnreadable(Exception):
    """The file claims a document format but its structure is broken or hostile (Chinese ``message``)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DocumentContent:
    """What was read from a document: format, page count and plain text when they could be read, and
    whether it carries macros (never run)."""

    fmt: str  # docx / doc / wps / pdf
    pages: int | None
    text: str | None
    macros: bool = False
    encrypted: bool = False

    @property
    def title(self) -> str | None:
        """The first non-empty line of the text (at most 80 characters)."""
        for line in (self.text or "").splitlines():
            line = " ".join(line.split())
            if line:
                return line[:80]
        return None


def document_format(data: bytes, name: str) -> str | None:
    """``docx``, ``doc``, ``wps`` or ``pdf`` from the content (``name`` only tells ``wps`` from ``doc``, both
    the same compound format), or None when the bytes are no document of these kinds."""
    if data.startswith(_PDF):
        return "pdf"
    if data.startswith(_ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        return "docx" if {"[Content_Types].xml", "word/document.xml"} <= names else None
    if data.startswith(_OLE):
        try:
            streams = _ole_names(data)
        except (ValueError, struct.error, IndexError):
            return None
        if "worddocument" in streams or "contents" in streams:
            return "wps" if name.lower().endswith(".wps") else "doc"
    return None


def read_document(data: bytes, fmt: str) -> DocumentContent:
    """Pages, text and macros of a document of format ``fmt`` (see :func:`document_format`).

    Raises :class:`DocumentUnreadable` when the structure is broken or exceeds the limits."""
    if fmt == "pdf":
        return _read_pdf(data)
    if fmt == "docx":
        return _read_docx(data)
    names = _ole_names(data)
    return DocumentContent(fmt, None, None, macros=bool({"macros", "vba", "_vba_project"} & names))


# --------------------------------------------------------------------------- PDF


def _read_pdf(data: bytes) -> DocumentContent:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = bool(reader.is_encrypted)
        if encrypted:
            try:
                if not reader.decrypt(""):
                    return DocumentContent("pdf", None, None, encrypted=True)
            except Exception:  # noqa: BLE001 - an unsupported cipher: the file is kept without its text
                return DocumentContent("pdf", None, None, encrypted=True)
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise DocumentUnreadable("PDF 文件已损坏或结构不完整，无法读取，请重新导出 PDF 后报送。") from exc
    parts, size = [], 0
    for index in range(min(pages, MAX_TEXT_PAGES)):
        try:
            text = reader.pages[index].extract_text() or ""
        except Exception:  # noqa: BLE001 - one unreadable page: keep what the others give
            continue
        parts.append(text)
        size += len(text)
        if size >= MAX_TEXT_CHARS:
            break
    scripts = b"/JavaScript" in data  # never run: only said on the receipt
    return DocumentContent("pdf", pages, _clip("\n".join(parts)), macros=scripts, encrypted=encrypted)


# --------------------------------------------------------------------------- docx


def _read_docx(data: bytes) -> DocumentContent:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            unzipped = sum(i.file_size for i in infos.values())
            main = infos["word/document.xml"]
            if (
                unzipped > _MAX_UNZIPPED
                or unzipped > _MAX_RATIO * max(len(data), 1) + 16 * 1024 * 1024
                or main.file_size > _MAX_XML
            ):
                raise DocumentUnreadable("文件解压后体积异常，无法作为 Word 文档读取，请重新保存后报送。")
            xml = zf.read(main)
            app = zf.read("docProps/app.xml") if "docProps/app.xml" in infos else b""
            macros = any(n.lower().endswith("vbaproject.bin") for n in infos)
    except DocumentUnreadable:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise DocumentUnreadable("Word 文档已损坏（压缩包结构不完整），无法读取，请重新保存后报送。") from exc
    pages = re.search(rb"<(?:\w+:)?Pages>(\d{1,6})</", app[: 1 << 20])
    return DocumentContent("docx", int(pages.group(1)) if pages else None, _docx_text(xml), macros=macros)


def _docx_text(xml: bytes) -> str:
    import xml.etree.ElementTree as ET

    head = xml[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in xml.upper():
        raise DocumentUnreadable("Word 文档含有不允许的 XML 声明（DOCTYPE/ENTITY），系统不予读取。")
    lines: list[str] = []
    current: list[str] = []
    size = 0
    try:
        for event, elem in ET.iterparse(io.BytesIO(xml), events=("start", "end")):
            if event == "start":
                continue
            tag = elem.tag
            if tag == f"{_W}t" and elem.text:
                current.append(elem.text)
            elif tag == f"{_W}tab":
                current.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                current.append("\n")
            elif tag == f"{_W}p":
                line = "".join(current)
                lines.append(line)
                size += len(line) + 1
                current = []
                elem.clear()
                if size >= MAX_TEXT_CHARS:
                    break
    except ET.ParseError as exc:
        raise DocumentUnreadable("Word 文档的正文结构已损坏，无法读取，请重新保存后报送。") from exc
    return _clip("\n".join(lines))


def _clip(text: str) -> str | None:
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text).strip()
    return text[:MAX_TEXT_CHARS] or None


# --------------------------------------------------------------------------- OLE2 compound file


def _ole_names(data: bytes) -> set[str]:
    """The lower-cased names of every entry in a compound file's directory (streams and storages)."""
    if len(data) < 512 or not data.startswith(_OLE):
        raise ValueError("not a compound file")
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        raise ValueError("bad sector size")
    size = 1 << shift
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    difat = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat, difat_count = struct.unpack_from("<II", data, 0x44)

    def sector(no: int) -> bytes:
        start = (no + 1) * size
        if no >= 0xFFFFFFFA or start + size > len(data) + size:  # a short last sector is tolerated
            raise ValueError("sector out of range")
        return data[start : start + size]

    per = size // 4
    for _ in range(min(difat_count, 4096)):
        if next_difat >= 0xFFFFFFFA:
            break
        chunk = struct.unpack(f"<{per}I", sector(next_difat).ljust(size, b"\xff"))
        difat += chunk[:-1]
        next_difat = chunk[-1]
    fat: list[int] = []
    for no in difat:
        if no >= 0xFFFFFFFA:
            continue
        fat += struct.unpack(f"<{per}I", sector(no).ljust(size, b"\xff"))
    names: set[str] = set()
    no, seen = first_dir, set()
    while no < 0xFFFFFFFA and no not in seen and len(seen) < 100_000:
        seen.add(no)
        block = sector(no)
        for off in range(0, len(block) - 127, 128):
            length = struct.unpack_from("<H", block, off + 64)[0]
            if 2 <= length <= 64:
                names.add(block[off : off + length - 2].decode("utf-16-le", "replace").lower())
        no = fat[no] if no < len(fat) else 0xFFFFFFFE
    return names
