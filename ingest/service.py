"""Taking in submissions: the functions the command line, the upload page and the Airflow DAGs call.

- :func:`submit` lands one file (``$ROADSAFE_HOME/landing``), reads it, then — in its turn among the
  processes writing the warehouse (:func:`ingest.registry.open_warehouse`) — checks and loads it in one
  transaction and returns a :class:`Receipt` whose :meth:`Receipt.text` is the Chinese 回执 (or error list).
  Any number of submissions may run at the same moment: each waits for its turn (up to
  ``$ROADSAFE_LOCK_WAIT`` seconds, default 120) and is answered then.
- :func:`process_inbox` first finishes every landed-but-not-loaded file (a crash between landing and
  loading), then lands and loads every file under ``$ROADSAFE_HOME/inbox/<unit>/`` that is not yet recorded
  (by inbox path + sha256). Inbox files are never moved or deleted; running it again does nothing new.

Examples
--------
>>> receipt = submit(Settings.from_env(), "F1.xlsx", unit="市公安局", period=5)   # doctest: +SKIP
>>> print(receipt.text())                                                         # doctest: +SKIP
已受理：市公安局 报送的《重点车辆隐患清零周报》第5周，共15行，按时报送。回执编号 S000012。
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest import messages as M
from ingest import registry
from ingest.documents import document_label
from ingest.inbox import Refusal, inbox_entries, received_time, record_refusals
from ingest.landing import (
    LandingError,
    PendingReceipt,
    UnsafeSource,
    clean_stale_tmp,
    land_file,
    new_receipt_id,
    read_receipts,
    sha256_file,
    write_receipt,
)
from ingest.load import Evaluation, Outcome, Reading, hold, process_receipt, read_receipt
from ingest.messages import ERROR, Message
from ingest.schema import first
from roadsafe.campaign import Campaign
from roadsafe.campaign.model import Unit
from roadsafe.settings import Settings
from roadsafe.warehouse import WarehouseBusy
from roadsafe.wording import campaign_now, cn_minutes

__all__ = [
    "Answer",
    "LandingError",
    "ProcessingFailed",
    "Receipt",
    "UsageError",
    "load_receipt",
    "process_inbox",
    "receipt_fields",
    "receipt_for",
    "resolve_request",
    "submit",
]

log = logging.getLogger(__name__)

# Files in an inbox folder that are not submissions: Office lock files, partial downloads, system files.


class UsageError(ValueError):
    """The request itself is wrong (unknown unit or form, no such file). ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ProcessingFailed(Exception):
    """Processing a landed file failed unexpectedly. Nothing was written to the warehouse; the file stays
    landed and pending, and :func:`process_inbox` tries it again. ``message`` is Chinese."""

    def __init__(self, receipt: PendingReceipt, exc: BaseException):
        self.receipt = receipt
        self.message = M.internal_error(receipt.original_name, f"{type(exc).__name__}: {exc}")
        super().__init__(self.message)


class Answer:
    """``errors`` and ``warnings`` of an answer holding ``messages`` (a receipt, a dry-run result)."""

    messages: tuple[Message, ...]

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == ERROR]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if m.severity != ERROR]


@dataclass(frozen=True)
class Receipt(Answer):
    """The answer to one submission attempt (回执).

    ``status`` is ``accepted``, ``rejected`` or ``duplicate``; ``form``/``unit``/``period`` are the form code,
    unit id and period number (None where they could not be told); ``messages`` are the errors and warnings;
    ``due_at``/``minutes_late`` say whether it was on time (``minutes_late == 0``).
    """

    status: str
    submission_id: str
    form: str | None
    unit: str | None
    period: int | None
    row_count: int
    messages: tuple[Message, ...]
    due_at: dt.datetime | None
    minutes_late: int | None
    received_at: dt.datetime
    original_name: str
    unit_name: str | None = None
    form_name: str | None = None
    period_label: str | None = None
    error_count: int = 0
    warning_count: int = 0
    superseded: tuple[str, ...] = field(default_factory=tuple)
    superseded_by: str | None = None
    duplicate_of: str | None = None
    stored_path: str | None = None
    file_sha256: str | None = None

    # names used by the Airflow task summaries
    @property
    def unit_id(self) -> str | None:
        return self.unit

    @property
    def form_code(self) -> str | None:
        return self.form

    @property
    def period_no(self) -> int | None:
        return self.period

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    def _what(self) -> str:
        who = self.unit_name or "（未知单位）"
        if self.form_name:
            what = f"《{self.form_name}》"
            if self.period_label:
                what += self.period_label
        else:
            what = f"文件“{self.original_name}”"
        return f"{who} 报送的{what}"

    def _timing(self) -> str:
        if self.minutes_late is None:
            return ""
        if self.minutes_late == 0:
            return "按时报送"
        return f"逾期报送（超过截止时间{cn_minutes(self.minutes_late)}）"

    def text(self) -> str:
        """The Chinese receipt: one line when accepted, the numbered problem list when rejected."""
        lines: list[str] = []
        if self.status == "accepted":
            timing = self._timing()
            head = f"已受理：{self._what()}"
            head += f"，共{self.row_count}行" if self.row_count else ""  # a written document has no rows
            head += f"，{timing}。" if timing else "。"
            head += f"回执编号 {self.submission_id}。"
            if self.superseded:
                head += f"本次报送替代此前的 {'、'.join(self.superseded)}。"
            if self.superseded_by:
                head += f"此前已收到更晚报送的 {self.superseded_by}，以其为准。"
            lines.append(head)
            if self.warnings:
                lines.append(f"请注意以下{len(self.warnings)}条提示：")
                lines += [f"{i}. {m.text}" for i, m in enumerate(self.warnings, 1)]
        elif self.status == "duplicate":
            lines.append(
                f"重复报送：{self._what()}与已受理的 {self.duplicate_of} 内容完全相同，未重复导入。"
                f"回执编号 {self.submission_id}。"
            )
        else:
            lines.append(
                f"未受理：{self._what()}有{self.error_count}处错误，请修改后重新报送。"
                f"回执编号 {self.submission_id}。"
            )
            errors, warnings = self.errors, self.warnings
            lines += [f"{i}. {m.text}" for i, m in enumerate(errors, 1)]
            if warnings:
                lines.append(f"另有{len(warnings)}条提示：")
                lines += [f"{i}. {m.text}" for i, m in enumerate(warnings, 1)]
        return "\n".join(lines)


def receipt_fields(ev: Evaluation, original_name: str) -> dict:
    """The fields of a :class:`Receipt` that an evaluation decides (all but the number, what it
    supersedes or is superseded by, and where the file is stored)."""
    return {
        "status": ev.status,
        "form": ev.form.code if ev.form else None,
        "unit": ev.unit.id if ev.unit else None,
        "period": ev.period_no,
        "row_count": ev.row_count,
        "messages": tuple(ev.messages),
        "due_at": ev.due_at,
        "minutes_late": ev.minutes_late,
        "received_at": ev.received_at,
        "original_name": original_name,
        "unit_name": ev.unit.name if ev.unit else None,
        "form_name": ev.form.name if ev.form else None,
        "period_label": ev.period_label,
        "error_count": ev.error_count,
        "warning_count": ev.warning_count,
        "duplicate_of": ev.duplicate_of,
    }


def _receipt(outcome: Outcome) -> Receipt:
    r = outcome.receipt
    return Receipt(
        submission_id=outcome.submission_id,
        **receipt_fields(outcome.evaluation, r.original_name),
        superseded=tuple(outcome.superseded),
        superseded_by=outcome.superseded_by,
        stored_path=r.stored_path,
        file_sha256=r.sha256,
    )


def receipt_for(con, campaign: Campaign, submission_id: str) -> Receipt:
    """Rebuild the receipt of a recorded submission from the registry."""
    row = first(
        con.execute(
            """
        select form_code, unit_id, period_no, row_count, due_at, minutes_late, received_at, original_name,
               status, error_count, warning_count, superseded_by, stored_path, file_sha256
        from raw.submissions where submission_id = ?
        """,
            [submission_id],
        )
    )
    if row is None:
        raise KeyError(submission_id)
    (form, unit, period, rows, due_at, late, received, name, status, errors, warnings, by, stored, sha) = row
    messages = tuple(
        Message(sev, text, sheet, row_no, header, value)
        for sev, sheet, row_no, header, value, text in con.execute(
            "select severity, sheet, row_no, column_header, value, message from raw.submission_messages "
            "where submission_id = ? order by seq",
            [submission_id],
        ).fetchall()
    )
    superseded = tuple(
        r[0]
        for r in con.execute(
            "select submission_id from raw.submissions where superseded_by = ? order by submission_id",
            [submission_id],
        ).fetchall()
    )
    duplicate_of = None
    if status == "duplicate":
        hit = first(
            con.execute(
                "select submission_id from raw.submissions where status = 'accepted' and file_sha256 = ? "
                "and form_code = ? and unit_id = ? and period_no = ? and submission_id < ? "
                "order by submission_id desc limit 1",
                [sha, form, unit, period, submission_id],
            )
        )
        duplicate_of = hit[0] if hit else None
    units, forms = campaign.units, {**campaign.forms, **campaign.documents}
    try:
        label = campaign.period(period).label if period is not None else None
    except KeyError:
        label = f"第{period}周"
    if form in campaign.documents:
        label = document_label(con, submission_id)
    return Receipt(
        status=status,
        submission_id=submission_id,
        form=form,
        unit=unit,
        period=period,
        row_count=rows,
        messages=messages,
        due_at=due_at,
        minutes_late=late,
        received_at=received,
        original_name=name,
        unit_name=units[unit].name if unit in units else None,
        form_name=forms[form].name if form in forms else None,
        period_label=label,
        error_count=errors,
        warning_count=warnings,
        superseded=superseded,
        superseded_by=by,
        duplicate_of=duplicate_of,
        stored_path=stored,
        file_sha256=sha,
    )


# --------------------------------------------------------------------------- one receipt


_CAMPAIGNS: dict[tuple, Campaign] = {}


def _campaign(settings: Settings) -> Campaign:
    """``settings.campaign()``, kept while its YAML files are unchanged (loading it takes a good part of a
    small file's submit time, and the sample campaign replays 1,200 files)."""
    from roadsafe.campaign import campaigns_dir

    code = settings.campaign_code
    root = Path(code) if Path(code).is_dir() else campaigns_dir() / code
    try:
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in root.glob("*.yml")))
    except OSError:
        return settings.campaign()
    key = (str(root.resolve()), stamp)
    campaign = _CAMPAIGNS.get(key)
    if campaign is None:
        campaign = settings.campaign()
        _CAMPAIGNS.clear()
        _CAMPAIGNS[key] = campaign
    return campaign


def _log_failure(settings: Settings, receipt: PendingReceipt) -> None:
    try:
        settings.logs.mkdir(parents=True, exist_ok=True)
        with open(settings.logs / "ingest-errors.log", "a", encoding="utf-8") as fh:
            fh.write(
                f"--- {dt.datetime.now().isoformat()} receipt {receipt.receipt_id} "
                f"({receipt.original_name})\n"
            )
            fh.write(traceback.format_exc())
    except OSError:
        pass


def _run(
    con, settings: Settings, campaign: Campaign, receipt: PendingReceipt, reading: Reading | None = None
) -> Receipt:
    outcome = process_receipt(con, settings, campaign, receipt, reading)
    if isinstance(outcome, str):  # already recorded
        return receipt_for(con, campaign, outcome)
    return _receipt(outcome)


def _failed(settings: Settings, receipt: PendingReceipt, exc: Exception) -> ProcessingFailed:
    """Log an unexpected failure (nothing was written: the transaction rolled back); the receipt stays
    pending and the next :func:`process_inbox` tries it again."""
    log.exception("processing %s (%s) failed; it stays pending", receipt.original_name, receipt.receipt_id)
    _log_failure(settings, receipt)
    return ProcessingFailed(receipt, exc)


def load_receipt(
    con, settings: Settings, campaign: Campaign, receipt: PendingReceipt, reading: Reading | None = None
) -> Receipt:
    """Process one landed receipt on an open warehouse connection; an unexpected failure is logged and
    raised as :class:`ProcessingFailed` (the receipt stays pending)."""
    try:
        return _run(con, settings, campaign, receipt, reading)
    except WarehouseBusy:
        raise
    except Exception as exc:
        raise _failed(settings, receipt, exc) from exc


def _try(con, settings: Settings, campaign: Campaign, receipt: PendingReceipt) -> Receipt | None:
    """:func:`load_receipt`, but a failure leaves the receipt pending instead of stopping the other files."""
    try:
        return load_receipt(con, settings, campaign, receipt)
    except ProcessingFailed:
        return None


def _resolve_unit(campaign: Campaign, unit: str) -> Unit:
    found = campaign.units.get(unit) or campaign.resolve_unit(unit)
    if found is None or found.kind not in ("county", "department"):
        raise UsageError(
            f"找不到报送单位“{unit}”，请填写县（市、区）或市直部门的名称（如“市公安局”“浔阳区”）。"
        )
    return found


def _resolve_form(campaign: Campaign, form: str | None) -> str | None:
    if form is None:
        return None
    code = form.strip().upper()
    if code not in campaign.forms and code not in campaign.documents:  # documents: D1… (also told by name)
        raise UsageError(f"报表代码“{form}”不存在，可用的报表：{'、'.join(campaign.forms)}。")
    return code


def resolve_request(campaign: Campaign, unit: str, form: str | None) -> tuple[Unit, str | None]:
    """The submitting unit (id, name or any alias of a county or department) and the form code (any case)
    of a request. Raises :class:`UsageError` (Chinese) for an unknown unit or form."""
    return _resolve_unit(campaign, unit), _resolve_form(campaign, form)


def _land(
    settings: Settings,
    path: Path,
    *,
    unit_text: str | None,
    unit_id: str | None,
    form: str | None,
    period: int | None,
    channel: str,
    submitted_by: str | None,
    received_at: dt.datetime,
    source_path: str | None,
    original_name: str | None = None,
    single_link: bool = False,
) -> PendingReceipt:
    landed = land_file(settings, path, original_name, single_link=single_link)
    receipt = PendingReceipt(
        receipt_id=new_receipt_id(received_at, landed.sha256),
        sha256=landed.sha256,
        size=landed.size,
        stored_path=str(landed.path.relative_to(settings.home)),
        original_name=original_name or path.name,
        unit=unit_text,
        unit_id=unit_id,
        form=form,
        period=period,
        channel=channel,
        submitted_by=submitted_by,
        received_at=received_at.isoformat(),
        source_path=source_path,
    )
    write_receipt(settings, receipt)
    return receipt


def _land_request(
    settings: Settings,
    campaign: Campaign,
    path: str | os.PathLike,
    *,
    unit: str,
    form: str | None,
    period: int | None,
    channel: str,
    submitted_by: str | None,
    received_at: dt.datetime | None,
    original_name: str | None,
) -> PendingReceipt:
    """Check a request (unit, form, file; :class:`UsageError` when wrong, nothing recorded) and land it."""
    unit_obj, form_code = resolve_request(campaign, unit, form)
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"找不到文件“{path}”，请检查路径。")
    if received_at is None:
        received_at = campaign_now(campaign)
    elif received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=ZoneInfo(campaign.frame.timezone))
    return _land(
        settings,
        path,
        unit_text=unit,
        unit_id=unit_obj.id,
        form=form_code,
        period=period,
        channel=channel,
        submitted_by=submitted_by,
        received_at=received_at,
        source_path=str(path.resolve()),
        original_name=original_name,
    )


def submit(
    settings: Settings,
    path: str | os.PathLike,
    *,
    unit: str,
    form: str | None = None,
    period: int | None = None,
    channel: str = "cli",
    submitted_by: str | None = None,
    received_at: dt.datetime | None = None,
    original_name: str | None = None,
) -> Receipt:
    """Land, check and load one file; return its receipt.

    Parameters
    ----------
    settings : Settings
    path : path of the file (.xlsx, .xls or .csv)
    unit : the submitting unit: id, name or any alias (``市公安局``, ``gongan``, ``浔阳``)
    form : form code (``F1``); None to recognise it from the file
    period : week number; None to read it from the file (title 第N周 or dates)
    channel : ``cli``, ``inbox`` or ``portal``
    submitted_by : who (a login or a name), recorded as given
    received_at : the receipt time (aware); default now. For replaying the sample campaign (many files:
        :func:`ingest.history.replay_manifest` does it on one connection).
    original_name : the file name as the submitter named it (default: the name of ``path``)

    Raises
    ------
    UsageError
        unknown unit or form, missing file (nothing is recorded).
    ingest.landing.LandingError
        the file could not be stored (e.g. disk full); nothing is recorded.
    roadsafe.warehouse.WarehouseBusy
        the warehouse stayed locked past ``$ROADSAFE_LOCK_WAIT`` seconds (default 120); the file is landed
        and pending, :func:`process_inbox` loads it later.
    """
    settings.ensure()
    campaign = _campaign(settings)
    receipt = _land_request(
        settings,
        campaign,
        path,
        unit=unit,
        form=form,
        period=period,
        channel=channel,
        submitted_by=submitted_by,
        received_at=received_at,
        original_name=original_name,
    )
    hold("after_landing")
    try:  # reading needs no warehouse: done before queueing for the writer's lock, which is held shorter
        reading = read_receipt(settings, campaign, receipt)
    except Exception as exc:
        raise _failed(settings, receipt, exc) from exc
    with registry.open_warehouse(settings, campaign) as con:
        return load_receipt(con, settings, campaign, receipt, reading)


# --------------------------------------------------------------------------- the inbox


def process_inbox(settings: Settings, *, refusals: list[Refusal] | None = None) -> list[Receipt]:
    """Finish landed-but-not-loaded receipts, then land and load every new inbox file.

    Returns the receipts of what was processed in this run (empty when nothing was pending). Entries refused
    unread (links, devices, FIFOs, hard links: :mod:`ingest.inbox`) are recorded once in the refusal ledger;
    those new in this run are appended to ``refusals`` when a list is given.
    """
    settings.ensure()
    campaign = _campaign(settings)
    clean_stale_tmp(settings)
    receipts: list[Receipt] = []
    entries, refused = inbox_entries(settings)
    with registry.open_warehouse(settings, campaign) as con:
        loaded = registry.loaded_receipts(con)
        seen = registry.inbox_records(con)
        for pending in read_receipts(settings):
            if pending.receipt_id in loaded:
                continue
            if pending.channel == "inbox" and pending.source_path:
                seen.setdefault(pending.source_path, set()).add((pending.size, pending.sha256))
            receipt = _try(con, settings, campaign, pending)
            if receipt is not None:
                receipts.append(receipt)
            loaded.add(pending.receipt_id)
        for entry in entries:
            rel = entry.rel
            try:
                size = os.lstat(entry.path).st_size
                known = seen.get(rel, set())
                if any(s == size for s, _ in known):
                    sha, size = sha256_file(entry.path)
                    if (size, sha) in known:
                        continue
                unit_obj = campaign.units.get(entry.unit_folder) or campaign.resolve_unit(entry.unit_folder)
                if unit_obj is not None and unit_obj.kind not in ("county", "department"):
                    unit_obj = None
                pending = _land(
                    settings,
                    entry.path,
                    unit_text=entry.unit_folder,
                    unit_id=unit_obj.id if unit_obj else None,
                    form=None,
                    period=None,
                    channel="inbox",
                    submitted_by=None,
                    received_at=received_time(entry.path, campaign.frame.timezone),
                    source_path=rel,
                    single_link=True,
                )
            except FileNotFoundError:  # removed while we looked
                continue
            except UnsafeSource as exc:
                if exc.kind == "changed":  # still being written: taken on a later scan
                    log.info("%s: %s", rel, exc.message)
                    continue
                refused.append(Refusal(entry.unit_folder, rel, exc.kind, exc.message, f"{rel}|{exc.kind}|{size}"))
                continue
            except LandingError as exc:
                log.error("%s: %s", rel, exc.message)
                continue
            seen.setdefault(rel, set()).add((pending.size, pending.sha256))
            receipt = _try(con, settings, campaign, pending)
            if receipt is not None:
                receipts.append(receipt)
    new = record_refusals(settings, refused, campaign_now(campaign))
    for refusal in new:
        log.warning("%s", refusal.text())
    if refusals is not None:
        refusals.extend(new)
    return receipts
