"""Processing one landed file: evaluate it, then record the verdict in one DuckDB transaction.

One way to evaluate a file, used by ingestion and by the upload page's dry run (:mod:`ingest.precheck`):

1. :func:`read_submission` reads the file (:func:`ingest.readers.parse_file`) and recognises the form —
   no warehouse needed;
2. :func:`evaluate` decides form and period (given, else detected), recognises a duplicate (the same bytes
   as the current accepted submission for (form, unit, period)), loads the data rows as text into scratch
   tables, normalises them (:mod:`ingest.normalise`), checks them against the history
   (:mod:`ingest.validate`) and returns the :class:`Evaluation` — nothing written to ``raw.*``;
3. :func:`record` writes the registry row (accepted / rejected / duplicate), its messages and — only when
   accepted — the typed rows into ``raw.form_<code>``, and marks the earlier accepted submission as
   superseded.

:func:`process_receipt` runs 2 and 3 (and 1, unless the caller read the file already) for a
:class:`ingest.landing.PendingReceipt` inside ``BEGIN … COMMIT``. A crash anywhere before ``COMMIT`` leaves
nothing in the warehouse; the receipt stays pending and is processed again by
:func:`ingest.service.process_inbox`. A receipt already in the registry is not processed twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ingest import messages as M
from ingest import registry
from ingest.documents import (
    DocumentReading,
    DocumentVerdict,
    evaluate_document,
    read_document_file,
    record_document,
)
from ingest.landing import PendingReceipt
from ingest.messages import ERROR, WARNING, Message, Place
from ingest.normalise import normalise_table
from ingest.schema import first, form_table
from ingest.validate import Findings, TableContext, check_table, submitter_problem
from roadsafe.campaign import Campaign, Period
from roadsafe.campaign.model import FormDef, Unit
from roadsafe.settings import Settings

if TYPE_CHECKING:
    from ingest.readers import ParsedTable

__all__ = [
    "HOLD_ENV",
    "Evaluation",
    "Outcome",
    "Reading",
    "evaluate",
    "hold",
    "process_receipt",
    "SentFile",
    "read_file",
    "read_receipt",
    "record",
]

log = logging.getLogger(__name__)

# Test hook for the crash tests: ``ROADSAFE_INGEST_HOLD=before_commit:/path/marker`` makes the process write
# the marker file and wait (up to 10 minutes) just before COMMIT — every row inserted, nothing committed — so
# a test can kill it there; ``after_landing:…`` does the same once the file is landed, before the warehouse.
HOLD_ENV = "ROADSAFE_INGEST_HOLD"

SRC = "_ingest_src"
NORM = "_ingest_norm"


def hold(stage: str) -> None:
    """The crash-test hook (see :data:`HOLD_ENV`); does nothing unless the variable names ``stage``."""
    spec = os.environ.get(HOLD_ENV)
    if not spec or ":" not in spec:
        return
    wanted, marker = spec.split(":", 1)
    if wanted != stage:
        return
    Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.05)


@lru_cache(maxsize=1)
def _calendar():
    from roadsafe.workcalendar import WorkCalendar

    return WorkCalendar.load()


def due_and_lateness(campaign: Campaign, period: Period, received_at: dt.datetime) -> tuple[dt.datetime, int]:
    """The form due time of a period and how many whole minutes (rounded up) the receipt was late."""
    from roadsafe.schedule import form_due_at

    due = form_due_at(campaign, _calendar(), period)
    late = (received_at - due).total_seconds()
    return due, max(0, math.ceil(late / 60))


def _resolve_period(campaign: Campaign, no: int | None) -> Period | None:
    if no is None:
        return None
    try:
        return campaign.period(no)
    except KeyError:
        return None


# --------------------------------------------------------------------------- evaluation (no writes)


@dataclass(frozen=True)
class SentFile:
    """One file as sent: where its bytes are, and what the sender said (unit, form, week) and when."""

    path: Path
    original_name: str
    unit: Unit | None  # None: an inbox folder that names no reporting unit
    unit_text: str | None  # the unit as given (an alias, an id or an inbox folder name)
    form_code: str | None  # None: recognise it from the file
    period_no: int | None  # None: read it from the file
    received_at: dt.datetime
    sha256: str

    @classmethod
    def of_receipt(cls, settings: Settings, campaign: Campaign, receipt: PendingReceipt) -> SentFile:
        """The landed file of a receipt."""
        return cls(
            path=settings.home / receipt.stored_path,
            original_name=receipt.original_name,
            unit=campaign.units.get(receipt.unit_id) if receipt.unit_id else None,
            unit_text=receipt.unit,
            form_code=receipt.form,
            period_no=receipt.period,
            received_at=receipt.received,
            sha256=receipt.sha256,
        )


@dataclass(frozen=True)
class Reading:
    """A sent file as read, before any history is looked at: the parsed form, or the problem that
    stopped reading it (an inbox folder that is no unit, an unreadable file, no form recognised).
    Reading needs no warehouse, so :func:`ingest.service.submit` reads before it queues for the lock.
    A written document (Word/PDF/WPS) is read by :mod:`ingest.documents` instead (``document``)."""

    parsed: ParsedTable | None
    problem: Message | None = None
    document: DocumentReading | None = None


def read_file(campaign: Campaign, sent: SentFile) -> Reading:
    """Read and recognise one file (:func:`ingest.readers.parse_file`); writes nothing."""
    from ingest.readers import FormNotRecognised, UnreadableFile, parse_file

    if sent.unit is None:
        message = M.unknown_inbox_folder(sent.unit_text or "")
        return Reading(None, Place(sent.original_name).file_message(message))
    document = read_document_file(campaign, sent)
    if document is not None:
        return Reading(None, document=document)
    try:
        parsed = parse_file(
            sent.path,
            campaign,
            form_code=sent.form_code,
            period_no=sent.period_no,
            original_name=sent.original_name,
        )
    except (UnreadableFile, FormNotRecognised) as exc:
        return Reading(None, Message(ERROR, exc.message))
    return Reading(parsed)


def read_receipt(settings: Settings, campaign: Campaign, receipt: PendingReceipt) -> Reading:
    """:func:`read_file` of a receipt's landed file."""
    return read_file(campaign, SentFile.of_receipt(settings, campaign, receipt))


@dataclass
class Evaluation:
    """The verdict on one file before anything is recorded: what ingestion records, and what the upload
    page's dry run (:mod:`ingest.precheck`) answers."""

    status: str  # accepted / rejected / duplicate
    unit: Unit | None
    form: FormDef | None
    period_no: int | None
    period: Period | None
    row_count: int  # rows read (0 for a duplicate: nothing is loaded)
    messages: list[Message]
    error_count: int
    warning_count: int
    due_at: dt.datetime | None
    minutes_late: int | None
    received_at: dt.datetime
    sheet: str | None
    duplicate_of: str | None
    current: registry.CurrentSubmission | None  # the accepted submission it would replace or repeat
    document: DocumentVerdict | None = None  # a written document's occurrence and text (ingest.documents)

    @property
    def period_label(self) -> str | None:
        if self.document is not None:
            return self.document.label
        if self.period is not None:
            return self.period.label
        return f"第{self.period_no}周" if self.period_no is not None else None


def _returned(con, current) -> bool:
    """The office returned the current file (``ref.office_returns``, loaded by the build): the same bytes
    sent again after checking them are a resubmission, not a duplicate."""
    found = con.execute(  # the warehouse itself, or the published snapshot attached for the dry run
        "select database_name from duckdb_tables() where schema_name = 'ref' and table_name = 'office_returns' "
        "order by database_name = current_database() desc limit 1"
    ).fetchall()
    if not found:
        return False
    catalog = found[0][0].replace('"', '""')
    return con.execute(
        f'select count(*) from "{catalog}".ref.office_returns where submission_id = ?', [current.submission_id]
    ).fetchall()[0][0] > 0


def evaluate(con, campaign: Campaign, sent: SentFile, reading: Reading) -> Evaluation:
    """Detect, normalise and check a read file against the history on ``con`` (``raw.*``: the warehouse
    inside the loading transaction, or the published snapshot for the dry run) and decide its status.

    Writes only the scratch table ``temp._ingest_norm`` (the typed rows that :func:`record` loads; the
    cells are registered as ``_ingest_src``); nothing in ``raw.*``.
    """
    received_at = sent.received_at.astimezone(ZoneInfo(campaign.frame.timezone))
    if reading.document is not None:
        judged = evaluate_document(con, campaign, sent, reading.document, received_at)
        return Evaluation(
            status=judged.status,
            unit=sent.unit,
            form=judged.document,
            period_no=None,
            period=None,
            row_count=0,
            messages=judged.messages,
            error_count=judged.error_count,
            warning_count=judged.warning_count,
            due_at=judged.due_at,
            minutes_late=judged.minutes_late,
            received_at=received_at,
            sheet=None,
            duplicate_of=judged.duplicate_of,
            current=None,
            document=judged.verdict,
        )
    unit, period_no, original_name = sent.unit, sent.period_no, sent.original_name
    parsed = reading.parsed
    place = Place(original_name)
    file_messages: list[Message] = [reading.problem] if reading.problem else []
    findings = Findings()
    form: FormDef | None = campaign.forms.get(sent.form_code) if sent.form_code else None
    status = None
    duplicate_of = None
    current = None
    row_count = 0

    def file_error(body: str, severity: str = ERROR, header: str | None = None) -> None:
        file_messages.append(place.file_message(body, severity, header=header))

    period: Period | None = None
    if parsed is not None and unit is not None:
        form = campaign.forms[parsed.form_code]
        place = Place(original_name, parsed.sheet)
        if period_no is None:
            period_no = parsed.detected_period
        elif parsed.detected_period is not None and parsed.detected_period != period_no:
            file_error(M.period_mismatch(parsed.detected_period, period_no), WARNING)
        if (
            parsed.detected_unit
            and parsed.detected_unit != unit.id
            and parsed.detected_unit in campaign.units
        ):
            file_error(M.unit_mismatch(campaign.units[parsed.detected_unit].name, unit.name), WARNING)
        problem = submitter_problem(campaign, form, unit)
        if problem:
            file_error(problem)
        period = _resolve_period(campaign, period_no)
        if period_no is None:
            file_error(M.period_unknown())
        elif period is None:
            periods = campaign.periods()
            file_error(
                M.period_outside(
                    period_no,
                    periods[0].label,
                    periods[-1].label,
                    campaign.frame.start.isoformat(),
                    campaign.frame.end.isoformat(),
                )
            )
        if period is not None and not problem:
            current = registry.current_accepted(con, form.code, unit.id, period.no)
            if current is not None and current.file_sha256 == sent.sha256 and not _returned(con, current):
                status = "duplicate"
                duplicate_of = current.submission_id
                file_messages.clear()  # nothing is loaded: remarks about this copy do not count
        if status is None:
            for key in parsed.missing_required:
                file_error(M.missing_required_column(form.column(key).header), header=form.column(key).header)
            for key in parsed.missing_optional:
                header = form.column(key).header
                file_error(M.missing_optional_column(header), WARNING, header=header)
            for header in parsed.extra_headers:
                file_error(M.extra_column(header), WARNING, header=header)
            row_count = parsed.register_rows(con, SRC)
            if row_count == 0:
                file_error(M.no_rows())
            else:
                present = list(parsed.columns)
                year = (period or campaign.periods()[0]).end.year
                normalise_table(con, campaign, form, SRC, NORM, present, year=year, submitter_id=unit.id)
                ctx = TableContext(
                    campaign=campaign,
                    form=form,
                    place=place,
                    headers=dict(parsed.headers),
                    present=present,
                    submitter=unit,
                    period=period,
                    received_at=received_at,
                    norm=NORM,
                    src=SRC,
                )
                findings = check_table(con, ctx)

    if period is None and parsed is None:  # unreadable, but the week was given: on time or late all the same
        period = _resolve_period(campaign, period_no)
    for i, message in enumerate(file_messages):  # file problems first, errors before warnings
        findings.add((0, message.severity != ERROR, i), message)
    messages = findings.sorted(place)
    if status is None:
        status = "rejected" if findings.errors else "accepted"

    due_at = minutes_late = None
    if period is not None:
        due_at, minutes_late = due_and_lateness(campaign, period, received_at)
    return Evaluation(
        status=status,
        unit=unit,
        form=form,
        period_no=period_no,
        period=period,
        row_count=row_count if status != "duplicate" else 0,
        messages=messages,
        error_count=findings.errors,
        warning_count=findings.warnings,
        due_at=due_at,
        minutes_late=minutes_late,
        received_at=received_at,
        sheet=parsed.sheet if parsed is not None else None,
        duplicate_of=duplicate_of,
        current=current,
    )


# --------------------------------------------------------------------------- recording (one transaction)


@dataclass
class Outcome:
    """A recorded verdict (the service turns it into a :class:`ingest.service.Receipt`)."""

    evaluation: Evaluation
    submission_id: str
    receipt: PendingReceipt
    superseded: list[str] = field(default_factory=list)
    superseded_by: str | None = None


def record(con, campaign: Campaign, receipt: PendingReceipt, ev: Evaluation) -> Outcome:
    """Write the verdict: the registry row, its messages and — when accepted — the typed rows of
    ``temp._ingest_norm`` into ``raw.form_<code>``, superseding the earlier accepted submission. Runs
    inside the caller's transaction."""
    submission_id = registry.next_submission_id(con)
    form, unit, period = ev.form, ev.unit, ev.period
    registry.insert_submission(
        con,
        {
            "submission_id": submission_id,
            "campaign_code": campaign.code,
            "form_code": form.code if form else None,
            "unit_id": unit.id if unit else None,
            "period_no": ev.period_no,
            "file_sha256": receipt.sha256,
            "original_name": receipt.original_name,
            "stored_path": receipt.stored_path,
            "size_bytes": receipt.size,
            "channel": receipt.channel,
            "submitted_by": receipt.submitted_by,
            "received_at": ev.received_at,
            "due_at": ev.due_at,
            "minutes_late": ev.minutes_late,
            "status": ev.status,
            "row_count": ev.row_count,
            "error_count": ev.error_count,
            "warning_count": ev.warning_count,
            "receipt_id": receipt.receipt_id,
            "source_path": receipt.source_path,
        },
    )
    registry.insert_messages(con, submission_id, ev.messages)
    superseded: list[str] = []
    superseded_by = None
    if ev.document is not None:
        superseded, superseded_by = record_document(con, submission_id, ev)
    elif ev.status == "accepted":
        assert form is not None and unit is not None and period is not None
        cols = ", ".join(f'"{c.key}"' for c in form.columns)
        con.execute(
            f"insert into {form_table(form.code)} "
            f"(submission_id, sheet, source_row, subject_unit_id, record_key, {cols}) "
            f"select ?, ?, source_row, _subject, _record_key, {cols} from {NORM}",
            [submission_id, ev.sheet or ""],
        )
        superseded, superseded_by = registry.supersede(
            con, submission_id, form.code, unit.id, period.no, ev.received_at
        )
    log.info(
        "%s %s %s %s rows=%s",
        submission_id,
        ev.status,
        receipt.original_name,
        unit.id if unit else "?",
        ev.row_count,
    )
    return Outcome(ev, submission_id, receipt, superseded, superseded_by)


# --------------------------------------------------------------------------- one receipt


def _existing(con, receipt: PendingReceipt) -> str | None:
    row = first(
        con.execute("select submission_id from raw.submissions where receipt_id = ?", [receipt.receipt_id])
    )
    return row[0] if row else None


def _drop_temp(con) -> None:
    try:
        con.unregister(SRC)  # the file's cells (ParsedTable.register_rows)
    except Exception:  # noqa: BLE001 - best effort clean-up of scratch tables
        pass
    for name in (SRC, NORM):
        try:
            con.execute(f"drop table if exists temp.{name}")
        except Exception:  # noqa: BLE001 - best effort clean-up of scratch tables
            pass


def process_receipt(
    con, settings: Settings, campaign: Campaign, receipt: PendingReceipt, reading: Reading | None = None
) -> Outcome | str:
    """Evaluate and record one landed file in one transaction. Returns the :class:`Outcome`, or the id of
    the submission that already recorded this receipt (nothing is done then). ``reading``: the file as
    :func:`read_receipt` read it, when the caller read it before taking the warehouse lock."""
    con.execute("begin transaction")
    try:
        done = _existing(con, receipt)
        if done:
            con.execute("rollback")
            return done
        sent = SentFile.of_receipt(settings, campaign, receipt)
        evaluation = evaluate(con, campaign, sent, reading or read_file(campaign, sent))
        outcome = record(con, campaign, receipt, evaluation)
        hold("before_commit")
        con.execute("commit")
    except BaseException:
        try:
            con.execute("rollback")
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass
        raise
    finally:
        _drop_temp(con)
    return outcome
