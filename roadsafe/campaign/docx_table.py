"""The tables of a Word .docx document as grids, read with the standard library only.

A .docx is a zip whose ``word/document.xml`` holds the body: tables ``w:tbl``, rows ``w:tr``, cells ``w:tc``.
A cell's text is its paragraphs (``w:p``) joined by line breaks. A cell spanning columns (``w:gridSpan``) is
repeated in each column it covers and a cell continuing a vertical merge (``w:vMerge`` without
``restart``) takes the value above, as merged cells of a workbook are read. The zip and the XML are not
trusted: sizes are bounded before anything is unpacked, and a DOCTYPE or ENTITY declaration is refused.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

__all__ = ["is_docx", "read_docx_tables"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MAIN = "word/document.xml"
MAX_FILE = 20 * 1024 * 1024  # a 责任分工表 is a few pages
MAX_XML = 16 * 1024 * 1024  # unzipped word/document.xml
MAX_UNZIPPED = 64 * 1024 * 1024  # all members together
MAX_RATIO = 200  # unzipped / zipped
MAX_SPAN = 64  # columns one cell may cover
_WRAPPERS = (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}smartTag")


def is_docx(path: Path) -> bool:
    """Whether the file is a zip holding ``word/document.xml`` (whatever its name says)."""
    try:
        with path.open("rb") as fh:
            if fh.read(2) != b"PK":
                return False
        with zipfile.ZipFile(path) as zf:
            return _MAIN in zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _document_xml(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE:
        raise ValueError(f"文件超过{MAX_FILE // (1024 * 1024)}MB，责任分工表不应这么大，请检查后重新导入")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            unzipped = sum(i.file_size for i in infos)
            main = zf.getinfo(_MAIN)
            if unzipped > MAX_UNZIPPED or unzipped > MAX_RATIO * max(size, 1) or main.file_size > MAX_XML:
                raise ValueError("文件解压后体积异常，无法作为 Word 文档读取，请重新保存后再导入")
            with zf.open(main) as fh:
                xml = fh.read(MAX_XML + 1)  # the declared size may lie: never read past the limit
    except ValueError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError) as exc:
        raise ValueError("Word 文档已损坏（压缩包结构不完整），无法读取，请重新保存后再导入") from exc
    if len(xml) > MAX_XML:
        raise ValueError("文件解压后体积异常，无法作为 Word 文档读取，请重新保存后再导入")
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in xml[:4]:
        raise ValueError("Word 文档正文的编码不受支持，请在 Word 中重新保存为 .docx 后再导入")
    upper = xml.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise ValueError("Word 文档含有不允许的 XML 声明（DOCTYPE/ENTITY），系统不予读取")
    return xml


def _children(elem: ET.Element, tag: str):
    """Direct children named ``tag``, looking through content controls and similar wrappers."""
    for child in elem:
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, tag)


def _paragraph(p: ET.Element) -> str:
    parts = []
    for node in p.iter():
        if node.tag == f"{_W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return "".join(parts)


def _int_attr(elem: ET.Element | None, where: str, what: str) -> int:
    if elem is None:
        return 0
    raw = elem.get(f"{_W}val", "")
    if not raw.isdigit() or int(raw) > MAX_SPAN:
        raise ValueError(f"{where}的{what}“{raw}”无效，请在 Word 中重新保存后再导入")
    return int(raw)


def _table_rows(tbl: ET.Element, name: str) -> list[list[object]]:
    rows: list[list[object]] = []
    for r, tr in enumerate(_children(tbl, f"{_W}tr"), 1):
        where = f"{name}第{r}行"
        before = _int_attr(tr.find(f"{_W}trPr/{_W}gridBefore"), where, "行首空列数")
        cells: list[object] = [None] * before
        for c, tc in enumerate(_children(tr, f"{_W}tc"), 1):
            props = tc.find(f"{_W}tcPr")
            span_el = props.find(f"{_W}gridSpan") if props is not None else None
            span = max(_int_attr(span_el, f"{where}第{c}个单元格", "合并列数"), 1)
            vmerge = props.find(f"{_W}vMerge") if props is not None else None
            column = len(cells)
            if vmerge is not None and vmerge.get(f"{_W}val", "continue") == "continue":
                above = rows[-1] if rows else []
                value = above[column] if column < len(above) else None
            else:
                text = "\n".join(_paragraph(p) for p in _children(tc, f"{_W}p"))
                value = text if text.strip() else None
            cells.extend([value] * span)
        rows.append(cells)
    return rows


def read_docx_tables(path: Path) -> list[tuple[str, list[list[object]], tuple[str, ...]]]:
    """Every top-level table of the document: its name (表格1, 表格2 …), its rows of cells, and the
    paragraphs written above it (the title is among them). Raises ValueError (Chinese) when unreadable."""
    xml = _document_xml(path)
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError("Word 文档的正文结构已损坏，无法读取，请重新保存后再导入") from exc
    body = root.find(f"{_W}body")
    if body is None:
        raise ValueError("Word 文档中没有正文，请确认文件内容后再导入")
    tables = []
    above: list[str] = []
    for elem in _children_any(body):
        if elem.tag == f"{_W}p":
            if text := _paragraph(elem).strip():
                above.append(text)
        elif elem.tag == f"{_W}tbl":
            name = f"表格{len(tables) + 1}"
            tables.append((name, _table_rows(elem, name), tuple(above[-5:])))
            above = []
    return tables


def _children_any(elem: ET.Element):
    for child in elem:
        if child.tag in _WRAPPERS:
            yield from _children_any(child)
        else:
            yield child
