"""Real document files for the document tests: a .docx zipped by hand (the Office Open XML parts Word
writes), a PDF made by WeasyPrint, a Word 97-2003 / WPS compound file (a minimal OLE2 directory holding a
``WordDocument`` stream) and a Windows executable."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/docProps/app.xml"
 ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
</Types>"""

_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
 Target="word/document.xml"/>
</Relationships>"""


def make_docx(path: Path, paragraphs: list[str], *, pages: int = 2, macros: bool = False) -> Path:
    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    app = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        f"<Pages>{pages}</Pages></Properties>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", document)
        zf.writestr("docProps/app.xml", app)
        if macros:
            zf.writestr("word/vbaProject.bin", b"\x00" * 64)
    return path


def make_pdf(path: Path, title: str, paragraphs: list[str]) -> Path:
    from weasyprint import HTML

    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = f"<html><head><meta charset='utf-8'></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    HTML(string=html).write_pdf(path)
    return path


def make_ole_document(path: Path) -> Path:
    """A minimal compound file (one FAT sector, one directory sector) with a ``WordDocument`` stream, as
    Word 97-2003 and WPS 文字 write them."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    fat = struct.pack("<128I", 0xFFFFFFFD, 0xFFFFFFFE, *([0xFFFFFFFF] * 126))

    def entry(name: str, kind: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        e = bytearray(128)
        e[0 : len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF if kind == 1 else 0xFFFFFFFF)
        return bytes(e)

    directory = entry("Root Entry", 5) + entry("WordDocument", 2) + bytes(256)
    path.write_bytes(bytes(header) + fat + directory)
    return path


def make_exe(path: Path) -> Path:
    """The first bytes of a Windows executable (MZ header, PE signature)."""
    data = bytearray(b"MZ" + b"\x90\x00" * 30)
    data += b"\x00" * (0x80 - len(data)) + b"PE\x00\x00" + b"\x00" * 400
    path.write_bytes(bytes(data))
    return path
