"""One upload, from the bytes received to the answer on the page.

1. **Gate** (nothing is kept when it fails): the size limit, and the type told by the *content* —
   an .xlsx/.xlsm is a zip holding ``[Content_Types].xml`` and ``xl/workbook.xml`` (and not a zip bomb),
   an .xls an OLE2 compound file, a .csv text that decodes (UTF-8, GB18030 or UTF-16 with BOM) without
   NUL or other control bytes. The name plays no part; it is kept only as a label, reduced to its last
   path component, and the stored copy gets the extension of the detected type.
2. **Land** the bytes (:func:`ingest.landing.land_bytes`, content-addressed; the name is never a path) and
   write the pending receipt (channel ``portal``, ``submitted_by`` = login): from here on the attempt is
   on record and the next ingest run loads it (``process_inbox`` picks up pending receipts), whatever
   happens to this request.
3. **Dry run** (:func:`ingest.precheck.precheck`) on the landed copy: the receipt or the error list with
   sheet, row and column. Rejected files are landed and recorded too: ingestion re-validates them and
   records the same rejection.
4. **Tell Airflow** (an asset event on ``roadsafe_inbox``); if it cannot be reached the page says the
   file will be processed automatically, and the portal retries in the background.

A second upload of the very same bytes for the same form and week while the first is still pending (a
double click, or two browsers of one unit at the same moment) is not recorded twice: the page shows the
first attempt. Uploads of one content are handled one at a time (steps 2-3 and the look-up), others in
parallel. The portal never opens the warehouse, so it never waits for the writer's lock: many uploads at
once are answered at once, and the one ingest run (Airflow pool ``roadsafe_duckdb``) loads them in turn.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import re
import threading
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from ingest.docfiles import document_format
from ingest.landing import LandingError, PendingReceipt, land_bytes, new_receipt_id, write_receipt

__all__ = ["UploadOutcome", "UploadRefused", "display_name", "receipt_no", "sniff_type"]

log = logging.getLogger(__name__)

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_UNZIPPED = 400 * 1024 * 1024  # a workbook that inflates beyond this is refused (zip bomb)
_MAX_RATIO = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class UploadRefused(Exception):
    """The upload is refused before anything is stored. ``message`` is Chinese; ``status`` the HTTP code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


_NOT_A_FORM = (
    "文件类型不符合要求：报表只接受 Excel 工作簿（.xlsx、.xlsm、.xls）或 CSV 文本文件，"
    "文书（实施方案、小结、总结）只接受 Word（.docx、.doc）、WPS（.wps）或 PDF 文件；"
    "系统按文件内容判断类型，与文件扩展名无关。请使用下载的模板填写后上传。"
)


def sniff_type(data: bytes) -> str:
    """``xlsx``, ``xls``, ``csv`` or a document's ``docx``, ``doc``, ``pdf`` from the content. Raises :class:`UploadRefused` (415) otherwise."""
    if not data:
        raise UploadRefused(400, "上传的文件是空的（0 字节），请选择填写好的报表文件。")
    document = document_format(data, "")  # a written document (docx/doc/pdf): ingest.documents reads it
    if document is not None:
        return document
    if data.startswith(_ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError):
            raise UploadRefused(
                415, "文件已损坏（压缩包结构不完整），无法作为 Excel 文件读取，请重新保存后上传。"
            ) from None
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names or not ({"xl/workbook.xml", "xl/workbook.bin"} & names):
            raise UploadRefused(415, _NOT_A_FORM + "（该文件是压缩包或 Word 等其他格式的文档。）")
        unzipped = sum(i.file_size for i in infos)
        if unzipped > _MAX_UNZIPPED or unzipped > _MAX_RATIO * max(len(data), 1) + 50 * 1024 * 1024:
            raise UploadRefused(415, "文件解压后体积异常，无法作为报表读取，请使用下载的模板重新填写后上传。")
        return "xlsx"
    if data.startswith(_OLE):
        return "xls"
    if _is_text(data):
        return "csv"
    raise UploadRefused(415, _NOT_A_FORM)


def _is_text(data: bytes) -> bool:
    head = data[: 1 << 20]
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = _decode(head[len(bom) :], encoding)
            return text is not None and not _CONTROL.search(text)
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        text = _decode(head, encoding)
        if text is not None:
            return not _CONTROL.search(text)
    return False


def _decode(data: bytes, encoding: str) -> str | None:
    import codecs

    try:
        return codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=False)
    except UnicodeDecodeError:
        return None


def display_name(name: str | None, kind: str) -> str:
    """The uploaded file name as a label: the last path component (``/`` or ``\\``), no control characters,
    at most 120 characters; a default when nothing usable is left. Never used as a path."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip().strip(".").strip()
    if not text:
        text = f"上传的报表.{kind}"
    if len(text) > 120:
        stem, dot, ext = text.rpartition(".")
        text = (stem[:110] + dot + ext[:8]) if dot and len(ext) <= 8 else text[:120]
    return text


def _stored_suffix(label: str, kind: str) -> str:
    """Extension of the stored copy: the detected type (``.xlsm`` kept for a macro workbook)."""
    if kind == "xlsx":
        return ".xlsm" if label.lower().endswith(".xlsm") else ".xlsx"
    return f".{kind}"


def receipt_no(receipt_id: str) -> str:
    """The short number shown to the unit (``R`` + the receipt's random part), e.g. ``R1a2b3c4d``."""
    return "R" + receipt_id.rsplit("-", 1)[-1]


@dataclass
class UploadOutcome:
    receipt: PendingReceipt
    number: str
    result: object | None  # ingest.precheck.PrecheckResult, or None when the dry run failed
    receipt_text: str
    notified: bool
    notify_error: str | None
    repeated: bool = False  # the same bytes were already pending: nothing new recorded

    @property
    def status(self) -> str:
        return self.result.status if self.result is not None else "pending"


def _messages_json(result) -> str:
    if result is None:
        return "[]"
    return json.dumps([dataclasses.asdict(m) for m in result.messages[:500]], ensure_ascii=False)


class _SameBytes:
    """One lock per (unit, file content) while an upload of it is handled, so that two browsers sending the
    very same bytes at the same moment are recorded once (the portal is one process; uvicorn runs one)."""

    def __init__(self):
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], list] = {}  # key → [lock, users]

    @contextlib.contextmanager
    def turn(self, unit_id: str, sha: str):
        key = (unit_id, sha)
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]


_SAME_BYTES = _SameBytes()


def _repeated(store, settings, unit_id, sha, form, period, pending_ids) -> UploadOutcome | None:
    """The earlier upload of the same bytes (same form and week when chosen) still pending, if any."""
    rows = [row for row in store.attempts(unit_id) if row["sha256"] == sha]
    if not rows:
        return None
    pending = pending_ids()
    for row in rows:
        if (
            row["receipt_id"] not in pending
            or (form is not None and row["form_code"] != form)
            or (period is not None and row["period_no"] != period)
        ):
            continue
        rec = next((r for r in _receipts(settings) if r.receipt_id == row["receipt_id"]), None)
        if rec is not None:
            return UploadOutcome(
                rec,
                receipt_no(rec.receipt_id),
                None,
                row["receipt_text"] or "",
                bool(row["notified_at"]),
                row["notify_error"],
                repeated=True,
            )
    return None


def handle_upload(
    *,
    config,
    campaign,
    store,
    notifier,
    login: str,
    unit_id: str,
    form: str | None,
    period: int | None,
    filename: str | None,
    data: bytes,
    received_at,
    pending_ids: Callable[[], set[str]] | None = None,
) -> UploadOutcome:
    """Gate, land, record, dry-run and announce one upload (see the module docstring).

    ``pending_ids`` gives the receipt ids still pending (called only when the unit sent these bytes
    before): an upload of the same bytes while the earlier one is pending is answered with the earlier one.
    """
    settings = config.settings
    if len(data) > config.max_upload_bytes:
        raise UploadRefused(413, too_large_message(config.max_upload_bytes))
    kind = sniff_type(data)
    label = display_name(filename, kind)
    sha = hashlib.sha256(data).hexdigest()
    with _SAME_BYTES.turn(unit_id, sha):  # the look-up and the record of one content, one at a time
        if pending_ids is not None:
            earlier = _repeated(store, settings, unit_id, sha, form, period, pending_ids)
            if earlier is not None:
                return earlier
        receipt, result, text = _land_and_check(
            settings, campaign, store, login, unit_id, form, period, label, kind, data, received_at
        )
    number = receipt_no(receipt.receipt_id)
    notified, error = False, None
    if notifier is not None and notifier.enabled:
        from portal.airflow import NotifyError

        try:
            notifier.notify({"receipt_id": receipt.receipt_id, "unit_id": unit_id, "channel": "portal"})
            notified = True
            store.mark_notified([receipt.receipt_id], None)
        except NotifyError as exc:
            error = str(exc)
            log.warning("asset event for %s not posted: %s", receipt.receipt_id, exc)
            store.mark_notified([receipt.receipt_id], error)
    return UploadOutcome(receipt, number, result, text, notified, error)


def _land_and_check(settings, campaign, store, login, unit_id, form, period, label, kind, data, received_at):
    """Land the bytes, write the pending receipt, dry-run it and record the attempt with its answer.
    Returns (receipt, dry-run result or None, the answer's text)."""
    from ingest.precheck import precheck

    settings.ensure()
    try:
        # the name only labels messages and gives the extension: the path is the content's sha256
        landed = land_bytes(settings, data, label.rsplit(".", 1)[0] + _stored_suffix(label, kind))
    except LandingError as exc:
        raise UploadRefused(503, exc.message) from exc
    receipt = PendingReceipt(
        receipt_id=new_receipt_id(received_at, landed.sha256),
        sha256=landed.sha256,
        size=landed.size,
        stored_path=str(landed.path.relative_to(settings.home)),
        original_name=label,
        unit=unit_id,
        unit_id=unit_id,
        form=form,
        period=period,
        channel="portal",
        submitted_by=login,
        received_at=received_at.isoformat(),
        source_path=None,
    )
    try:
        write_receipt(settings, receipt)
    except LandingError as exc:
        raise UploadRefused(503, exc.message) from exc
    number = receipt_no(receipt.receipt_id)

    result = None
    try:
        result = precheck(
            settings,
            landed.path,
            unit=unit_id,
            form=form,
            period=period,
            received_at=received_at,
            original_name=label,
            sha256=landed.sha256,
            campaign=campaign,
        )
        text = result.text(number)
    except Exception:  # noqa: BLE001 - the file is on record; ingestion will give the answer
        log.exception("dry run of %s (%s) failed", label, receipt.receipt_id)
        text = (
            f"文件“{label}”已接收（回执编号 {number}），系统暂时无法完成即时检查，"
            "将在入库时完成检查，结果请在“报送历史”中查看。"
        )
    store.record_attempt(
        {
            "receipt_id": receipt.receipt_id,
            "login": login,
            "unit_id": unit_id,
            "form_code": result.form if result else form,
            "period_no": result.period if result else period,
            "original_name": label,
            "size_bytes": landed.size,
            "sha256": landed.sha256,
            "received_at": receipt.received_at,
            "status": result.status if result else None,
            "error_count": result.error_count if result else 0,
            "warning_count": result.warning_count if result else 0,
            "row_count": result.row_count if result else 0,
            "receipt_text": text,
            "messages_json": _messages_json(result),
        }
    )
    return receipt, result, text


def _receipts(settings):
    from portal.status import _RECEIPTS

    return _RECEIPTS.get(settings)


def too_large_message(limit: int) -> str:
    return (
        f"文件超过大小上限（{limit / 1024 / 1024:.0f}MB），未能接收。"
        "请删除多余的工作表、图片或空白行后重新上传；台账数据较多时可分县区报送。"
    )
