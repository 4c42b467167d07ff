"""Word .docx files for the campaign set-up tests, built by hand (zip + WordprocessingML): the 2022 plan's
task list as a Word table, laid out as ``setup_tables.write_plan_table`` lays out the workbook."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from setup_tables import HEADER, plan_tasks

NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>'
)


def para(text: str) -> str:
    runs = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in text.split("\n"))
    return f"<w:p><w:r>{runs}</w:r></w:p>"


def cell(value: object, span: int = 1, vmerge: str | None = None) -> str:
    props = (f'<w:gridSpan w:val="{span}"/>' if span > 1 else "") + (
        "<w:vMerge/>" if vmerge == "continue" else '<w:vMerge w:val="restart"/>' if vmerge else ""
    )
    body = "".join(para(p) for p in str(value).split("\n\n")) if value not in (None, "") else "<w:p/>"
    if vmerge == "continue":
        body = "<w:p/>"
    return f"<w:tc>{f'<w:tcPr>{props}</w:tcPr>' if props else ''}{body}</w:tc>"


def table_xml(rows: list[str]) -> str:
    return "<w:tbl><w:tblPr/>" + "".join(f"<w:tr>{r}</w:tr>" for r in rows) + "</w:tbl>"


def write_docx(path: Path, body: str, document: str | None = None) -> Path:
    xml = document or (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{NS}">'
        f"<w:body>{body}<w:sectPr/></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _TYPES)
        zf.writestr("word/document.xml", xml)
    return path


def write_plan_docx(path: Path, merge_leads: bool = False) -> tuple[Path, int]:
    """The 2022 task list as a Word table, laid out as ``setup_tables.write_plan_table`` lays out the
    workbook (section rows spanning the table, the header repeated); with ``merge_leads`` a 牵头单位 equal
    to the one above is a vertically merged cell. Returns the path and the number of merged cells."""
    sections, title = plan_tasks()
    header = "".join(cell(h) for h in HEADER)
    rows, merged, labels = [header], 0, "一二三四五"
    for n, (section, tasks) in enumerate(sections):
        if n == 3:
            rows.append(header)
        rows.append(cell(f"（{labels[n]}）{section}", span=len(HEADER)))
        previous = None
        for t in tasks:
            vmerge = None
            if merge_leads and t.lead == previous:
                vmerge, merged = "continue", merged + 1
            elif merge_leads:
                vmerge = "restart"
            cells = [cell(t.no), cell(t.title), cell(t.measures), cell(t.lead, vmerge=vmerge)]
            rows.append("".join(cells + [cell(t.co), cell(t.deadline), cell(None)]))
            previous = t.lead
    intro = para("附件") + para(title)
    # A layout table before the task table (no header): the import takes the first table with a header.
    layout = table_xml([cell("九江市人民政府办公室") + cell("2022年4月7日")])
    return write_docx(path, layout + intro + table_xml(rows)), merged
