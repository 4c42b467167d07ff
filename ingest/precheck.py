"""A dry run of ingestion: read, normalise and check a file exactly as :mod:`ingest.load` would, write nothing.

The upload portal calls :func:`precheck` to answer a unit at once (the Chinese 回执 or the numbered error
list with sheet, row and column) while the real loading happens later in Airflow, in the one process that
may write the warehouse. There is one way to evaluate a file: the dry run is ingestion's own evaluation
step, :func:`ingest.load.read_submission` then :func:`ingest.load.evaluate` (detection, the duplicate rule,
normalising, every check, lateness), without ingestion's recording step :func:`ingest.load.record`; the
request is resolved by :func:`ingest.service.resolve_request` as :func:`ingest.service.submit` resolves it.

It runs on an **in-memory** DuckDB. The published snapshot (``$ROADSAFE_HOME/published/warehouse.duckdb``)
is ATTACHed read-only, when there is one, and its ``raw.*`` tables are seen through views of the same
names, so the cross-week rule (a cumulative figure may not fall below the last accepted week) and the
duplicate rule compare with what has been published. Nothing is written: not the warehouse, not the
snapshot, not the landing zone.

Because the snapshot lags the warehouse by one build, the dry run can differ from the real load when an
earlier week was accepted but not yet published; ingestion re-validates every file and its answer is the
one recorded (see ``tests/portal/test_precheck.py`` for the equivalence on a corpus).

Examples
--------
>>> result = precheck(Settings.from_env(), "F1.xlsx", unit="市公安局", period=5)   # doctest: +SKIP
>>> result.status, result.error_count                                           # doctest: +SKIP
('accepted', 0)
>>> print(result.text("R1a2b3c4d"))                                             # doctest: +SKIP
已受理：市公安局 报送的《重点车辆隐患清零周报》第5周，共15行，按时报送。回执编号 R1a2b3c4d。
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.landing import sha256_file
from ingest.load import SentFile, evaluate, read_file
from ingest.messages import Message
from ingest.schema import ensure_raw_schema, form_table
from ingest.service import Answer, Receipt, receipt_fields, resolve_request
from roadsafe.campaign import Campaign
from roadsafe.settings import Settings

__all__ = ["PrecheckResult", "open_history", "precheck"]

log = logging.getLogger(__name__)

_SNAP = "published_snapshot"


@dataclass(frozen=True)
class PrecheckResult(Answer):
    """What ingestion would answer for a file, without recording anything.

    ``status`` is ``accepted``, ``rejected`` or ``duplicate`` (the same bytes as the current accepted
    submission in the published snapshot). ``form``/``unit``/``period`` are the form code, unit id and
    period number (None where they could not be told); ``messages`` the errors and warnings, in the order
    and wording ingestion records them; ``superseded`` the published submission this one would replace.
    """

    status: str
    unit: str
    unit_name: str
    form: str | None
    form_name: str | None
    period: int | None
    period_label: str | None
    row_count: int
    messages: tuple[Message, ...]
    error_count: int
    warning_count: int
    due_at: dt.datetime | None
    minutes_late: int | None
    received_at: dt.datetime
    original_name: str
    duplicate_of: str | None = None
    superseded: tuple[str, ...] = field(default_factory=tuple)
    used_snapshot: bool = False

    @property
    def ok(self) -> bool:
        return self.status != "rejected"

    def receipt(self, submission_id: str) -> Receipt:
        """This result as an :class:`ingest.service.Receipt` numbered ``submission_id``."""
        shared = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "used_snapshot"}
        return Receipt(submission_id=submission_id, **shared)

    def text(self, submission_id: str) -> str:
        """The Chinese 回执 (or numbered error list), worded exactly as :meth:`Receipt.text`."""
        return self.receipt(submission_id).text()


# --------------------------------------------------------------------------- the history to compare with


def _columns(con, catalog: str, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where database_name = ? and schema_name = ? "
            "and table_name = ? order by column_index",
            [catalog, schema, table],
        ).fetchall()
    ]


def open_history(settings: Settings, campaign: Campaign):
    """An in-memory DuckDB connection whose ``raw.*`` are views of the published snapshot (read-only), or
    empty tables when there is no snapshot (or it lacks a table or column). Returns ``(con, used)``."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"set TimeZone = '{campaign.frame.timezone}'")
        ensure_raw_schema(con, campaign)  # empty tables in memory, the shape ingestion writes
        used = False
        snapshot = Path(settings.published)
        if snapshot.is_file():
            try:
                con.execute(f"attach '{_sql_path(snapshot)}' as {_SNAP} (read_only)")
            except duckdb.Error as exc:  # a snapshot being replaced, or not a DuckDB file
                log.warning("published snapshot %s not readable for the dry run: %s", snapshot, exc)
            else:
                used = True
                mem = con.execute("select current_database()").fetchall()[0][0]
                tables = ["submissions", "submission_messages", "documents"]
                tables += [form_table(code).split(".", 1)[1] for code in campaign.forms]
                con.execute("drop view if exists raw.form_values")
                for table in tables:
                    want = _columns(con, mem, "raw", table)
                    have = set(_columns(con, _SNAP, "raw", table))
                    if not want or not set(want) <= have:
                        if table == "submissions":  # an old or foreign snapshot: compare with nothing
                            used = False
                        continue
                    cols = ", ".join(f'"{c}"' for c in want)
                    con.execute(f"drop table raw.{table}")
                    con.execute(f"create view raw.{table} as select {cols} from {_SNAP}.raw.{table}")
        return con, used
    except BaseException:
        con.close()
        raise


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


# --------------------------------------------------------------------------- the dry run


def precheck(
    settings: Settings,
    path: str | os.PathLike,
    *,
    unit: str,
    form: str | None = None,
    period: int | None = None,
    received_at: dt.datetime | None = None,
    original_name: str | None = None,
    sha256: str | None = None,
    campaign: Campaign | None = None,
) -> PrecheckResult:
    """Check a file as ingestion would, on an in-memory DuckDB; write nothing.

    Parameters
    ----------
    settings : Settings
    path : the file (e.g. the landed copy); its format is told from the content
    unit : the submitting unit (id, name or alias)
    form : form code, or None to recognise it from the file
    period : week number, or None to read it from the file
    received_at : the receipt time (aware; default now) — lateness and "date after received" use it
    original_name : the file name as the submitter named it, used in every message (default: path's name)
    sha256 : the file's sha256 if known (for the duplicate rule; computed otherwise)
    campaign : the loaded campaign (default ``settings.campaign()``)

    Raises
    ------
    ingest.service.UsageError
        unknown unit or form (Chinese message).
    """
    campaign = campaign or settings.campaign()
    tz = ZoneInfo(campaign.frame.timezone)
    unit_obj, form_code = resolve_request(campaign, unit, form)
    path = Path(path)
    name = original_name or path.name
    received_at = (received_at or dt.datetime.now(tz)).astimezone(tz)
    if sha256 is None:
        sha256, _ = sha256_file(path)

    sent = SentFile(path, name, unit_obj, unit, form_code, period, received_at, sha256)
    reading = read_file(campaign, sent)
    con, used = open_history(settings, campaign)
    try:
        ev = evaluate(con, campaign, sent, reading)
    finally:
        con.close()
    superseded: tuple[str, ...] = ()
    if ev.status == "accepted" and ev.current is not None and ev.current.received_at <= received_at:
        superseded = (ev.current.submission_id,)  # what registry.supersede will do, as far as published
    return PrecheckResult(**receipt_fields(ev, name), superseded=superseded, used_snapshot=used)
