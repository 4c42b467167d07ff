"""The office's review of an edition applied to its document: the editor's note (按语) at the top, and
paragraphs whose generated wording the office corrected. The figures are never editable.

The review is ``signoff.json`` in the edition's folder (written by :mod:`dashboards.signoff`); an edition
without one renders exactly as before. Paragraphs are the plain-text ``<p>`` of the report body (not the
salutation, the closing or the colophon), keyed ``p1``, ``p2`` … in reading order of the generated page.

Examples
--------
>>> figures("截至5月12日12时，应报42份，已报39份，完成率92.9%。")
['5', '12', '12', '42', '39', '92.9%']
>>> check_reword("滞后3项（第1、4项）。", "有3项滞后（第1、4项）。", [])
>>> check_reword("滞后3项。", "滞后4项。", [])
Traceback (most recent call last):
...
dashboards.review.ReviewError: 修改后的段落改动了数字：原文为“3”，修改稿为“4”。数字不能修改，只能修改文字表述；如数据有误，请在签发后发布更正通报。
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

__all__ = [
    "REVIEW_FILE",
    "Paragraph",
    "ReviewError",
    "apply_review",
    "check_reword",
    "figures",
    "paragraphs",
    "read_review",
]

REVIEW_FILE = "signoff.json"
MAX_NOTE = 2000
MAX_PARAGRAPH = 4000

_P = re.compile(r"<p(?P<attrs>\s[^>]*)?>(?P<inner>.*?)</p>", re.S)
_FIGURE = re.compile(r"\d+(?:\.\d+)?%?")


class ReviewError(ValueError):
    """A note or correction the office cannot make (Chinese message)."""


@dataclass(frozen=True)
class Paragraph:
    key: str
    text: str
    start: int
    end: int


def figures(text: str) -> list[str]:
    """The figures of a text in order (full-width digits count as digits)."""
    return _FIGURE.findall(unicodedata.normalize("NFKC", text))


def paragraphs(html: str) -> list[Paragraph]:
    """The editable paragraphs of a rendered edition page."""
    body_start = html.find("</header>")
    body_end = html.find('<footer class="colophon">')
    if body_start < 0 or body_end < 0:
        return []
    closing = html.find('<div class="closing">', body_start)
    out = []
    for match in _P.finditer(html, body_start, body_end):
        attrs, inner = match.group("attrs") or "", match.group("inner")
        if "salutation" in attrs or "<" in inner or (0 <= closing < match.start()):
            continue
        text = html_lib.unescape(inner).strip()
        if text:
            out.append(Paragraph(f"p{len(out) + 1}", text, match.start("inner"), match.end("inner")))
    return out


def check_reword(original: str, text: str, unit_names: list[str]) -> None:
    """Refuse a new wording that changes a figure or names other units than the original (ReviewError)."""
    text = text.strip()
    if not text:
        raise ReviewError("修改后的段落不能为空。")
    if len(text) > MAX_PARAGRAPH:
        raise ReviewError(f"修改后的段落超过{MAX_PARAGRAPH}字。")
    if "<" in text or ">" in text:
        raise ReviewError("段落中不能含有“<”或“>”。")
    old, new = figures(original), figures(text)
    if old != new:
        raise ReviewError(
            f"修改后的段落改动了数字：原文为“{'、'.join(old) or '（无数字）'}”，修改稿为“{'、'.join(new) or '（无数字）'}”。"
            "数字不能修改，只能修改文字表述；如数据有误，请在签发后发布更正通报。"
        )
    missing = [n for n in unit_names if n in original and n not in text]
    added = [n for n in unit_names if n in text and n not in original]
    if missing or added:
        parts = ([f"删去了{'、'.join(missing)}"] if missing else []) + (
            [f"新增了{'、'.join(added)}"] if added else []
        )
        raise ReviewError(
            f"修改后的段落改动了所列单位（{'，'.join(parts)}）。单位与数字一样来自报送数据，不能修改。"
        )


def read_review(folder: Path) -> dict:
    path = Path(folder) / REVIEW_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def apply_review(document, folder: Path, review: dict | None = None):
    """The document with the review of ``folder`` applied (the same object when there is none): to the
    page, to its printed copy when that differs (``pdf_html``), to the summary and the workbook."""
    review = read_review(folder) if review is None else review
    note = (review.get("note") or "").strip()
    rewordings = review.get("rewordings") or {}
    if not note and not rewordings:
        return document
    reworded = {change["original"]: change["text"] for change in rewordings.values()}
    summary = "\n".join(reworded.get(line, line) for line in document.summary.split("\n"))
    sheets = list(document.sheets)
    if note:
        lines = summary.split("\n")
        summary = "\n".join([lines[0], f"按语：{' '.join(note.split())}", *lines[1:]])
        sheets.insert(0, _cover(document.title, note, review))
    return dataclasses.replace(
        document,
        html=_reviewed_page(document.html, note, rewordings),
        pdf_html=None if document.pdf_html is None else _reviewed_page(document.pdf_html, note, rewordings),
        summary=summary,
        sheets=sheets,
    )


def _reviewed_page(page: str, note: str, rewordings: dict) -> str:
    """``page`` with the reworded paragraphs replaced and the 按语 inserted after the red heading."""
    by_key = {p.key: p for p in paragraphs(page)}
    for key in sorted(rewordings, key=lambda k: -by_key[k].start if k in by_key else 0):
        change, para = rewordings[key], by_key.get(key)
        if para is None or para.text != change["original"]:
            raise ReviewError(f"第{key[1:]}段的原文已变化，原有的表述修改不能再套用，请重新修改。")
        page = page[: para.start] + str(escape(change["text"])) + page[para.end :]
    if note:
        block = "".join(
            f'<p style="margin:0;text-indent:2em">{escape(line.strip())}</p>'
            for line in note.splitlines()
            if line.strip()
        )
        section = (
            '\n<section class="editor-note" id="editor-note" style="border:1px solid #b5191f;'
            'padding:2mm 4mm;margin:4mm 0">'
            f'<div style="font-weight:700;color:#b5191f">按语</div>{block}</section>\n'
        )
        at = page.find("</header>") + len("</header>")
        page = page[:at] + section + page[at:]
    return page


def _cover(title: str, note: str, review: dict):
    import polars as pl

    from dashboards.workbook import Sheet

    if review.get("mode") == "auto":
        signed = "自动签发（到发布时间未经人工签发）"
    elif review.get("signed_by"):
        signed = f"{review['signed_by']}（{review.get('signed_at_text') or review.get('signed_at')}）"
    else:
        signed = "待签发"
    rows = {"项目": ["报告", "按语", "签发"], "内容": [title, note, signed]}
    return Sheet("封面", pl.DataFrame(rows), title=title, widths={"项目": 10, "内容": 80})
