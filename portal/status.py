"""What the pages show: every attempt of a unit, and the state of each (form, unit, week), from

- the published snapshot's marts (``marts.fct_submissions`` / ``marts.fct_submission_messages``, opened
  read-only), the record of everything ingestion has processed and the build has published, and
- the receipt sidecars in the landing zone: those whose id is not in the snapshot yet are pending (landed,
  to be loaded by the next ingest run), with the dry-run answer the portal gave for its own uploads; the
  others give the landing details the marts leave out (where the file is stored, who sent it).

Nothing here writes anything.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from ingest.landing import PendingReceipt
from ingest.messages import Message
from roadsafe.campaign import Campaign, Period

__all__ = ["Attempt", "Cell", "PortalData", "STATE_LABELS"]

log = logging.getLogger(__name__)

# state → (label, css class)
STATE_LABELS = {
    "ok": ("已受理", "ok"),
    "late": ("逾期受理", "late"),
    "pending": ("已接收，待入库", "pending"),
    "pending_bad": ("未通过检查", "rejected"),
    "rejected": ("未受理", "rejected"),
    "missing": ("逾期未报", "missing"),
    "open": ("未报送", "open"),
    "na": ("无需报送", "na"),
}
STATUS_WORDS = {
    "accepted": "已受理",
    "rejected": "未受理",
    "duplicate": "重复报送",
    "pending": "待入库",
}
CHANNEL_WORDS = {"portal": "网页上传", "inbox": "共享文件夹", "cli": "命令行"}


@dataclass
class Attempt:
    """One submission attempt as the pages show it."""

    key: str
    submission_id: str | None
    receipt_id: str | None
    unit_id: str | None
    form_code: str | None
    period_no: int | None
    original_name: str
    size_bytes: int | None
    channel: str
    submitted_by: str | None
    received_at: dt.datetime
    status: str  # accepted / rejected / duplicate / pending
    superseded_by: str | None = None
    due_at: dt.datetime | None = None
    minutes_late: int | None = None
    row_count: int | None = None
    error_count: int = 0
    warning_count: int = 0
    precheck_status: str | None = None  # the portal's dry run, for pending uploads
    receipt_text: str | None = None
    stored_path: str | None = None
    messages: list[Message] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    @property
    def current(self) -> bool:
        return self.status == "accepted" and self.superseded_by is None

    @property
    def late(self) -> bool:
        return bool(self.minutes_late)


@dataclass(frozen=True)
class Cell:
    state: str
    attempts: int = 0
    late: bool = False
    latest: Attempt | None = None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state][0]

    @property
    def css(self) -> str:
        return STATE_LABELS[self.state][1]


class _ReceiptCache:
    """The receipt sidecars, each parsed once: a sidecar is written once (tmp + rename) and never changed,
    so only names not seen before are read (listing the folder costs well under a millisecond per
    thousand receipts). Same order and filtering as :func:`ingest.landing.read_receipts`."""

    def __init__(self):
        self._parsed: dict[tuple[str, str], PendingReceipt | None] = {}
        self._lock = threading.Lock()

    def get(self, settings) -> list[PendingReceipt]:
        folder = settings.landing / "receipts"
        try:
            names = [n for n in os.listdir(folder) if n.endswith(".json")]
        except OSError:
            return []
        root = str(folder)
        out = []
        with self._lock:
            for name in names:
                key = (root, name)
                if key not in self._parsed:
                    self._parsed[key] = _read_receipt(folder / name)
                if self._parsed[key] is not None:
                    out.append(self._parsed[key])
            if len(self._parsed) > 200_000:
                self._parsed.clear()
        out.sort(key=lambda r: (r.received, r.receipt_id))
        return out


def _read_receipt(path) -> PendingReceipt | None:
    try:
        return PendingReceipt(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None  # unreadable (or half-written by a foreign tool): skipped, as read_receipts does


_RECEIPTS = _ReceiptCache()


class PortalData:
    """The campaign's expectations plus everything received, for one request."""

    def __init__(self, settings, campaign: Campaign, store, due_times: dict[int, dt.datetime]):
        self.settings = settings
        self.campaign = campaign
        self.store = store
        self.due_times = due_times
        self.tz = due_times[1].tzinfo if due_times else None
        self.snapshot_available = False
        self.snapshot_error: str | None = None

    # ------------------------------------------------------------------ reading

    def _connect(self):
        import duckdb

        from roadsafe.warehouse import SnapshotMissing, open_snapshot

        try:
            con = open_snapshot(self.settings.published)
        except SnapshotMissing:
            return None
        except duckdb.Error as exc:
            log.warning("published snapshot %s not readable: %s", self.settings.published, exc)
            self.snapshot_error = str(exc)
            return None
        try:
            con.execute(f"set TimeZone = '{self.campaign.frame.timezone}'")
            ok = con.execute(
                "select count(*) from duckdb_tables() where schema_name = 'marts' "
                "and table_name in ('fct_submissions', 'fct_submission_messages')"
            ).fetchall()[0][0]
        except duckdb.Error as exc:
            con.close()
            self.snapshot_error = str(exc)
            return None
        if ok != 2:
            con.close()
            return None
        return con

    _COLUMNS = (
        "submission_id, receipt_id, unit_id, form_code, period_no, original_name, size_bytes, channel, "
        "received_at, status, superseded_by, due_at, minutes_late, row_count, error_count, warning_count"
    )

    def _snapshot_rows(
        self, unit_id: str | None, with_messages: bool, landed: dict[str, PendingReceipt]
    ) -> tuple[list[Attempt], set[str]]:
        con = self._connect()
        if con is None:
            return [], set()
        try:
            self.snapshot_available = True
            where, params = ("where unit_id = ?", [unit_id]) if unit_id else ("", [])
            rows = con.execute(
                f"select {self._COLUMNS} from marts.fct_submissions {where} order by received_at, submission_id",
                params,
            ).fetchall()
            loaded = {
                r[0]
                for r in con.execute(
                    "select receipt_id from marts.fct_submissions where receipt_id is not null"
                ).fetchall()
            }
            attempts = []
            for r in rows:
                sidecar = landed.get(r[1]) if r[1] else None
                attempts.append(
                    Attempt(
                        key=r[0],
                        submission_id=r[0],
                        receipt_id=r[1],
                        unit_id=r[2],
                        form_code=r[3],
                        period_no=r[4],
                        original_name=r[5],
                        size_bytes=r[6],
                        channel=r[7],
                        submitted_by=sidecar.submitted_by if sidecar else None,
                        received_at=self._aware(r[8]),
                        status=r[9],
                        superseded_by=r[10],
                        due_at=self._aware(r[11]) if r[11] else None,
                        minutes_late=r[12],
                        row_count=r[13],
                        error_count=r[14],
                        warning_count=r[15],
                        stored_path=sidecar.stored_path if sidecar else None,
                    )
                )
            if with_messages and attempts:
                by_id = {a.submission_id: a for a in attempts}
                for sid, sev, text, sheet, row_no, header, value in con.execute(
                    """
                    select submission_id, severity, message, sheet, row_no, column_header, value
                    from marts.fct_submission_messages
                    where unit_id = ?
                    qualify row_number() over (partition by submission_id order by seq) <= 200
                    order by submission_id, seq
                    """,
                    [unit_id],
                ).fetchall():
                    if sid in by_id:
                        by_id[sid].messages.append(Message(sev, text, sheet, row_no, header, value))
            return attempts, loaded
        finally:
            con.close()

    def _aware(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(self.tz) if self.tz else value

    def _pending(
        self, loaded: set[str], unit_id: str | None, landed: dict[str, PendingReceipt]
    ) -> list[Attempt]:
        portal = {r["receipt_id"]: r for r in self.store.attempts(unit_id)}
        out = []
        for rec in landed.values():
            if rec.receipt_id in loaded or (unit_id and rec.unit_id != unit_id):
                continue
            mine = portal.get(rec.receipt_id)
            form, period = rec.form, rec.period
            messages: list[Message] = []
            attempt = Attempt(
                key=rec.receipt_id,
                submission_id=None,
                receipt_id=rec.receipt_id,
                unit_id=rec.unit_id,
                form_code=form,
                period_no=period,
                original_name=rec.original_name,
                size_bytes=rec.size,
                channel=rec.channel,
                submitted_by=rec.submitted_by,
                received_at=self._aware(rec.received),
                status="pending",
                stored_path=rec.stored_path,
                messages=messages,
            )
            if mine is not None:
                attempt.form_code = mine["form_code"] or form
                attempt.period_no = mine["period_no"] if mine["period_no"] is not None else period
                attempt.precheck_status = mine["status"]
                attempt.error_count = mine["error_count"]
                attempt.warning_count = mine["warning_count"]
                attempt.row_count = mine["row_count"]
                attempt.receipt_text = mine["receipt_text"]
                for m in json.loads(mine["messages_json"] or "[]"):
                    messages.append(Message(**m))
            if attempt.period_no in self.due_times:
                attempt.due_at = self.due_times[attempt.period_no]
                late = (attempt.received_at - attempt.due_at).total_seconds()
                attempt.minutes_late = max(0, -int(-late // 60))
            out.append(attempt)
        return out

    def attempts(self, unit_id: str | None, *, with_messages: bool = False) -> list[Attempt]:
        """Every attempt (of one unit, or of all units), oldest first: processed, then still pending."""
        landed = {r.receipt_id: r for r in _RECEIPTS.get(self.settings)}
        done, loaded = self._snapshot_rows(unit_id, with_messages, landed)
        return done + self._pending(loaded, unit_id, landed)

    # ------------------------------------------------------------------ states

    @cached_property
    def submitters(self) -> dict[str, set[str]]:
        return {code: set(self.campaign.form_submitters(code)) for code in self.campaign.forms}

    def forms_of(self, unit_id: str) -> list[str]:
        return [code for code in self.campaign.forms if unit_id in self.submitters[code]]

    def reporting_units(self):
        """Units that submit at least one form: departments first, then counties (units.yml order)."""
        units = [u for u in self.campaign.units.values() if u.kind in ("department", "county")]
        units.sort(key=lambda u: 0 if u.kind == "department" else 1)
        return [u for u in units if self.forms_of(u.id)]

    def cells(
        self, attempts: list[Attempt], now: dt.datetime, unit_ids: set[str] | None = None
    ) -> dict[tuple[str, str, int], Cell]:
        """State of every expected (form, unit, period) of ``unit_ids`` (default: every reporting unit)."""
        grouped: dict[tuple, list[Attempt]] = defaultdict(list)
        for a in attempts:
            if a.form_code and a.unit_id and a.period_no is not None:
                grouped[(a.form_code, a.unit_id, a.period_no)].append(a)
        out = {}
        units = unit_ids if unit_ids is not None else {u.id for u in self.reporting_units()}
        for code, who in self.submitters.items():
            for unit_id in who & units:
                for p in self.campaign.periods():
                    out[(code, unit_id, p.no)] = self._cell(grouped.get((code, unit_id, p.no), []), p, now)
        return out

    def _cell(self, group: list[Attempt], period: Period, now: dt.datetime) -> Cell:
        latest = max(group, key=lambda a: a.received_at) if group else None
        current = [a for a in group if a.current]
        if current:
            a = max(current, key=lambda a: a.received_at)
            return Cell("late" if a.late else "ok", len(group), a.late, latest)
        pending = [a for a in group if a.pending]
        if pending:
            a = max(pending, key=lambda a: a.received_at)
            state = "pending_bad" if a.precheck_status == "rejected" else "pending"
            return Cell(state, len(group), a.late, latest)
        if any(a.status == "rejected" for a in group):
            return Cell("rejected", len(group), False, latest)
        due = self.due_times.get(period.no)
        return Cell("missing" if due and now > due else "open", len(group), False, latest)

    def current_period(self, now: dt.datetime) -> tuple[Period, bool]:
        """The period whose forms are due next (the one to work on now), and whether the campaign's last due
        time has passed (then the last period)."""
        for p in self.campaign.periods():
            if self.due_times[p.no] >= now:
                return p, False
        return self.campaign.periods()[-1], True
