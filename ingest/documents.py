"""Written documents (实施方案, 月度小结, 总结: the ``kind: document`` entries of forms.yml) through ingestion.

A document arrives like a form (portal, inbox, ``roadsafe submit``) and is landed with its receipt the same
way; :func:`ingest.load.read_file` hands a file whose content is a Word, PDF or WPS document here instead of
to the table readers. The verdict (:class:`DocumentJudgement`, made an ``Evaluation`` like a form's, with
no rows, by :func:`ingest.load.evaluate`):

- which document: the form code given, else the document's ``keywords`` in the file name, then in its
  title (the first line of its text);
- which occurrence: ``""`` for a one-off with a date, ``YYYY-MM`` for a monthly one (the month named in
  the file name or title, e.g. "4月份", else the earliest month up to the receipt's still without this
  unit's document), ``YYYY`` for a yearly one;
- due time and lateness from the one-off's schedule (:func:`roadsafe.schedule.oneoff_due_times`, on the
  working-day calendar);
- rejected (Chinese message naming the file) when it is too large, of a format the document does not
  take, unreadable, from a unit that owes no such document, or not recognisable; ``duplicate`` when the
  same bytes are the current accepted file of (document, unit, occurrence).

Recording writes the ``raw.submissions`` row (``period_no`` null, ``row_count`` 0) as for a form, plus one
``raw.documents`` row: occurrence, format, pages, title and the plain text where it could be extracted.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache

from ingest.docfiles import DocumentContent, DocumentUnreadable, document_format, read_document
from ingest.messages import ERROR, WARNING, Message, Place
from ingest.schema import first
from roadsafe.campaign import Campaign
from roadsafe.campaign.documents import DocumentDef

__all__ = [
    "DocumentJudgement",
    "DocumentReading",
    "DocumentVerdict",
    "document_label",
    "evaluate_document",
    "occurrence_label",
    "read_document_file",
    "record_document",
]


_FORMAT_NAMES = {
    "docx": "Word 文档（.docx）",
    "doc": "Word 97-2003 文档（.doc）",
    "wps": "WPS 文字文档（.wps）",
    "pdf": "PDF 文件",
}


@dataclass(frozen=True)
class DocumentReading:
    """A sent file found to be a document: its content, or why it could not be read."""

    fmt: str | None  # None: named like a document, but its content is none
    size: int
    content: DocumentContent | None
    problem: str | None = None


@dataclass(frozen=True)
class DocumentJudgement:
    """What :func:`evaluate_document` decided; :func:`ingest.load.evaluate` makes it an ``Evaluation``."""

    status: str  # accepted / rejected / duplicate
    document: DocumentDef | None
    messages: list[Message]
    error_count: int
    warning_count: int
    due_at: dt.datetime | None
    minutes_late: int | None
    duplicate_of: str | None
    verdict: DocumentVerdict | None


@dataclass(frozen=True)
class DocumentVerdict:
    """What an evaluation holds for a document besides the registry fields."""

    occurrence: str
    label: str | None  # 2022年4月 / 2022年 (None for a one-off with a date)
    content: DocumentContent | None


def read_document_file(campaign: Campaign, sent) -> DocumentReading | None:
    """The file as a document, or None when its content is no Word/PDF/WPS document (or the campaign asks
    for no documents): then the table readers take it."""
    if not campaign.documents or sent.original_name.lower().endswith(_TABLE_SUFFIXES):
        return None  # named as a table: the table readers judge it (and say it is no workbook)
    limit = max(d.max_bytes for d in campaign.documents.values())
    with open(sent.path, "rb") as fh:
        head = fh.read(8)
        if head.startswith(
            b"PK\x03\x04"
        ):  # a workbook or a docx: the zip directory tells, not the bytes read
            try:
                with zipfile.ZipFile(fh) as zf:
                    if "word/document.xml" not in set(zf.namelist()):
                        return None
            except (zipfile.BadZipFile, OSError, ValueError):
                return None
        elif not head.startswith((b"%PDF-", b"\xd0\xcf\x11\xe0")):
            return _posing(sent, os.fstat(fh.fileno()).st_size)
        fh.seek(0)
        data = fh.read(limit + 1)
    if len(data) > limit:  # too large to be read whole: a zip or PDF head says enough
        fmt = "docx" if head.startswith(b"PK") else "pdf" if head.startswith(b"%PDF-") else None
        return DocumentReading(fmt, len(data), None, _too_large(limit)) if fmt else None
    fmt = document_format(data, sent.original_name)
    if fmt is None:
        return _posing(sent, len(data))
    try:
        return DocumentReading(fmt, len(data), read_document(data, fmt))
    except DocumentUnreadable as exc:
        return DocumentReading(fmt, len(data), None, exc.message)
    except (ValueError, IndexError) as exc:  # a compound file whose directory is broken
        return DocumentReading(
            fmt, len(data), None, f"文件结构已损坏，无法读取（{type(exc).__name__}），请重新保存后报送。"
        )


_DOCUMENT_SUFFIXES = (".docx", ".doc", ".wps", ".pdf")
_TABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")


def _posing(sent, size: int) -> DocumentReading | None:
    """A file named like a document whose content is none (e.g. a renamed program): refused as a document
    (told by content, never by name); any other name goes on to the table readers."""
    if not sent.original_name.lower().endswith(_DOCUMENT_SUFFIXES):
        return None
    suffix = sent.original_name.rsplit(".", 1)[-1]
    return DocumentReading(
        None,
        size,
        None,
        f"文件扩展名为 .{suffix}，但内容不是 Word、WPS 或 PDF 文档（系统按文件内容判断类型，与扩展名无关），"
        "未予受理。请用 Word、WPS 或 PDF 格式保存后重新报送。",
    )


def _too_large(limit: int) -> str:
    return f"文件超过大小上限（{limit // (1024 * 1024)}MB），未能受理。请压缩图片或删除附件后重新报送。"


def document_label(con, submission_id: str) -> str | None:
    """The occurrence label of a recorded document submission (for a receipt rebuilt from the registry)."""
    row = first(con.execute("select occurrence from raw.documents where submission_id = ?", [submission_id]))
    return occurrence_label(row[0]) if row else None


def occurrence_label(occurrence: str) -> str | None:
    """``2022-04`` → 2022年4月, ``2022`` → 2022年, ``""`` → None."""
    if re.fullmatch(r"\d{4}-\d{2}", occurrence):
        return f"{int(occurrence[:4])}年{int(occurrence[5:])}月"
    if re.fullmatch(r"\d{4}", occurrence):
        return f"{occurrence}年"
    return None


_CN_MONTHS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "十一": 11,
    "十二": 12,
}


def _named_month(text: str) -> int | None:
    found = re.search(r"(?<!\d)(1[0-2]|0?[1-9])\s*月", text)
    if found:
        return int(found.group(1))
    found = re.search(r"(十[一二]|[一二三四五六七八九十])月", text)
    return _CN_MONTHS[found.group(1)] if found else None


def _head(content: DocumentContent | None) -> str | None:
    """The start of the text, white space removed (a title that wraps over two lines reads whole)."""
    return "".join((content.text or "")[:200].split()) if content is not None else None


def _which_document(campaign: Campaign, sent, content: DocumentContent | None) -> DocumentDef | None:
    if sent.form_code in campaign.documents:
        return campaign.documents[sent.form_code]
    for text in (sent.original_name, _head(content)):
        if not text:
            continue
        hits = [d for d in campaign.documents.values() if any(k in text for k in d.keywords)]
        if len(hits) == 1:
            return hits[0]
    return None


@lru_cache(maxsize=1)
def _calendar():
    from roadsafe.workcalendar import WorkCalendar

    return WorkCalendar.load()


def _due_times(campaign: Campaign, doc: DocumentDef) -> dict[str, dt.datetime]:
    from roadsafe.schedule import oneoff_due_times

    oneoff = next(o for o in campaign.frame.oneoffs if o.code == doc.oneoff)
    return dict(oneoff_due_times(campaign, _calendar(), oneoff))


def _occurrence(con, campaign, doc, unit_id, sent, content, due: dict[str, dt.datetime], received) -> str:
    keys = sorted(due)
    if keys == [""]:
        return ""
    if all(len(k) == 4 for k in keys):  # yearly
        year = str(received.year)
        return year if year in due else (keys[0] if year < keys[0] else keys[-1])
    current = f"{received.year}-{received.month:02d}"
    for text in (sent.original_name, _head(content)):
        month = _named_month(text or "")
        named = [k for k in keys if month is not None and int(k[5:]) == month]
        if named:  # that month of the receipt's year, else the latest such month before it
            same_year = [k for k in named if k[:4] == str(received.year)]
            earlier = [k for k in named if k <= current]
            return (same_year or earlier or named)[-1]
    done = _received_occurrences(con, doc.code, unit_id)
    for key in keys:
        if key <= current and key not in done:
            return key
    return current if current in due else (keys[0] if current < keys[0] else keys[-1])


def _received_occurrences(con, code: str, unit_id: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            """
            select d.occurrence from raw.documents d join raw.submissions s using (submission_id)
            where s.form_code = ? and s.unit_id = ? and s.status = 'accepted'
            """,
            [code, unit_id],
        ).fetchall()
    }


def _current(con, code: str, unit_id: str, occurrence: str):
    return first(
        con.execute(
            """
            select s.submission_id, s.file_sha256 from raw.submissions s join raw.documents d using (submission_id)
            where s.form_code = ? and s.unit_id = ? and d.occurrence = ?
              and s.status = 'accepted' and s.superseded_by is null
            order by s.received_at desc, s.submission_id desc limit 1
            """,
            [code, unit_id, occurrence],
        )
    )


def evaluate_document(con, campaign: Campaign, sent, reading: DocumentReading, received) -> DocumentJudgement:
    """The verdict on a document (see the module docstring); writes nothing."""
    place = Place(sent.original_name)
    messages: list[Message] = []
    content = reading.content
    unit = sent.unit

    def error(body: str) -> None:
        messages.append(place.file_message(body))

    doc = _which_document(campaign, sent, content)
    if sent.form_code and sent.form_code in campaign.forms:
        form = campaign.forms[sent.form_code]
        kind = _FORMAT_NAMES.get(reading.fmt or "", "非报表文件")
        error(f"所选报表为《{form.name}》，但上传的是{kind}：报表请用下载的 Excel 模板填写。")
        doc = None
    elif reading.problem:
        error(reading.problem)
    elif doc is None:
        names = "、".join(f"“{d.keywords[0]}”（{d.name}）" for d in campaign.documents.values())
        error(f"未能识别是哪一类文书：请在文件名中注明{names}，或在上传时选择文书类别。")
    if doc is not None and reading.fmt is not None and reading.fmt not in doc.formats:
        error(f"《{doc.name}》不接受{_FORMAT_NAMES[reading.fmt]}。")
    if doc is not None and reading.size > doc.max_bytes:
        error(_too_large(doc.max_bytes))
    if doc is not None and unit is not None and unit.id not in campaign.responsible_units:
        error(f"{unit.name}不是本次行动的责任单位，无需报送《{doc.name}》。")
    if content is not None and content.macros:
        messages.append(place.file_message("文件含有宏或脚本：系统不会运行，仅按文档存档。", WARNING))
    if content is not None and content.encrypted and content.text is None:
        messages.append(place.file_message("文件已加密，无法提取文字，已按原件存档。", WARNING))

    status, duplicate_of, verdict, due_at, late = None, None, None, None, None
    if doc is not None and unit is not None:
        due = _due_times(campaign, doc)
        occurrence = _occurrence(con, campaign, doc, unit.id, sent, content, due, received)
        verdict = DocumentVerdict(occurrence, occurrence_label(occurrence), content)
        due_at = due[occurrence]
        late = max(0, math.ceil((received - due_at).total_seconds() / 60))
        if not any(m.severity == ERROR for m in messages):
            current = _current(con, doc.code, unit.id, occurrence)
            if current is not None and current[1] == sent.sha256:
                status, duplicate_of = "duplicate", current[0]
                messages.clear()
    errors = sum(m.severity == ERROR for m in messages)
    status = status or ("rejected" if errors else "accepted")
    return DocumentJudgement(
        status, doc, messages, errors, len(messages) - errors, due_at, late, duplicate_of, verdict
    )


def record_document(con, submission_id: str, ev) -> tuple[list[str], str | None]:
    """The ``raw.documents`` row of a recorded document and, when accepted, which earlier file of the same
    (document, unit, occurrence) it supersedes (or which later one supersedes it). Inside the caller's
    transaction, after the ``raw.submissions`` row."""
    verdict: DocumentVerdict | None = ev.document
    if verdict is None or ev.form is None:
        return [], None
    content = verdict.content
    con.execute(
        "insert into raw.documents values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            submission_id,
            ev.form.code,
            ev.form.oneoff,
            verdict.occurrence,
            content.fmt if content else "unknown",
            content.pages if content else None,
            content.title if content else None,
            content.text if content and ev.status == "accepted" else None,
            bool(content and content.macros),
        ],
    )
    if ev.status != "accepted" or ev.unit is None:
        return [], None
    same = """
        select s.submission_id, s.received_at from raw.submissions s join raw.documents d using (submission_id)
        where s.form_code = ? and s.unit_id = ? and d.occurrence = ? and s.status = 'accepted'
          and s.superseded_by is null and s.submission_id <> ?
    """
    others = con.execute(same, [ev.form.code, ev.unit.id, verdict.occurrence, submission_id]).fetchall()
    newer = sorted((r for r in others if r[1] > ev.received_at), key=lambda r: (r[1], r[0]))
    if newer:
        con.execute(
            "update raw.submissions set superseded_by = ? where submission_id = ?",
            [newer[-1][0], submission_id],
        )
        return [], newer[-1][0]
    older = sorted(r[0] for r in others)
    if older:
        con.execute(
            "update raw.submissions set superseded_by = ? where submission_id in (select unnest(?::varchar[]))",
            [submission_id, older],
        )
    return older, None
