"""A dry run of ingestion: read, normalise and check a file exactly as :mod:`ingest.load` would, write nothing.

The upload portal calls :func:`precheck` to answer a unit at once (the Chinese 回执 or the numbered error
list with sheet, row and column) while the real loading happens later in Airflow, in the one process that
may write the warehouse. The checks are the same functions ingestion runs —
:func:`ingest.readers.parse_file`, :func:`ingest.normalise.normalise_table`,
:func:`ingest.validate.check_table` and :func:`ingest.validate.submitter_problem`, the message wording of
:mod:`ingest.messages`, the duplicate look-up :func:`ingest.registry.current_accepted` and the lateness
rule :func:`ingest.load.due_and_lateness` — in the same order as :func:`ingest.load.process_receipt`.

They run on an **in-memory** DuckDB. The published snapshot (``$ROADSAFE_HOME/published/warehouse.duckdb``)
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
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest import messages as M
from ingest import registry
from ingest.landing import sha256_file
from ingest.load import due_and_lateness
from ingest.messages import ERROR, WARNING, Message, Place
from ingest.normalise import normalise_table
from ingest.schema import ensure_raw_schema, form_table
from ingest.validate import Findings, TableContext, check_table, submitter_problem
from roadsafe.campaign import Campaign, Period
from roadsafe.campaign.model import FormDef
from roadsafe.settings import Settings

__all__ = ["PrecheckResult", "open_history", "precheck"]

log = logging.getLogger(__name__)

_SRC = "_precheck_src"
_NORM = "_precheck_norm"
_SNAP = "published_snapshot"


@dataclass(frozen=True)
class PrecheckResult:
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

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == ERROR]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if m.severity != ERROR]

    def receipt(self, submission_id: str):
        """This result as an :class:`ingest.service.Receipt` numbered ``submission_id``."""
        from ingest.service import Receipt

        return Receipt(
            status=self.status,
            submission_id=submission_id,
            form=self.form,
            unit=self.unit,
            period=self.period,
            row_count=self.row_count,
            messages=self.messages,
            due_at=self.due_at,
            minutes_late=self.minutes_late,
            received_at=self.received_at,
            original_name=self.original_name,
            unit_name=self.unit_name,
            form_name=self.form_name,
            period_label=self.period_label,
            error_count=self.error_count,
            warning_count=self.warning_count,
            superseded=self.superseded,
            duplicate_of=self.duplicate_of,
        )

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
                tables = ["submissions", "submission_messages"]
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


def _resolve_unit(campaign: Campaign, unit: str):
    from ingest.service import UsageError

    found = campaign.units.get(unit) or campaign.resolve_unit(unit)
    if found is None or found.kind not in ("county", "department"):
        raise UsageError(
            f"找不到报送单位“{unit}”，请填写县（市、区）或市直部门的名称（如“市公安局”“浔阳区”）。"
        )
    return found


def _resolve_form(campaign: Campaign, form: str | None) -> str | None:
    from ingest.service import UsageError

    if form is None:
        return None
    code = form.strip().upper()
    if code not in campaign.forms:
        raise UsageError(f"报表代码“{form}”不存在，可用的报表：{'、'.join(campaign.forms)}。")
    return code


def _period(campaign: Campaign, no: int | None) -> Period | None:
    if no is None:
        return None
    try:
        return campaign.period(no)
    except KeyError:
        return None


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
    from ingest.readers import FormNotRecognised, UnreadableFile, parse_file

    campaign = campaign or settings.campaign()
    tz = ZoneInfo(campaign.frame.timezone)
    unit_obj = _resolve_unit(campaign, unit)
    form_code = _resolve_form(campaign, form)
    path = Path(path)
    name = original_name or path.name
    received_at = (received_at or dt.datetime.now(tz)).astimezone(tz)
    if sha256 is None:
        sha256, _ = sha256_file(path)

    con, used = open_history(settings, campaign)
    try:
        return _evaluate(
            con,
            campaign,
            path,
            name,
            unit_obj,
            form_code,
            period,
            received_at,
            sha256,
            used,
            parse_file,
            (UnreadableFile, FormNotRecognised),
        )
    finally:
        con.close()


def _evaluate(
    con, campaign, path, name, unit, form_code, period_no, received_at, sha, used, parse, unreadable
):
    """The steps of :func:`ingest.load._process`, up to (not including) writing the registry row."""
    place = Place(name)
    file_messages: list[Message] = []
    findings = Findings()
    form: FormDef | None = campaign.forms.get(form_code) if form_code else None
    parsed = None
    status = None
    duplicate_of = None
    current = None
    row_count = 0

    def file_error(body: str, severity: str = ERROR, header: str | None = None) -> None:
        file_messages.append(place.file_message(body, severity, header=header))

    try:
        parsed = parse(path, campaign, form_code=form_code, period_no=period_no, original_name=name)
    except unreadable as exc:
        file_messages.append(Message(ERROR, exc.message))

    period: Period | None = None
    if parsed is not None:
        form = campaign.forms[parsed.form_code]
        place = Place(name, parsed.sheet)
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
        period = _period(campaign, period_no)
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
            if current is not None and current.file_sha256 == sha:
                status = "duplicate"
                duplicate_of = current.submission_id
                file_messages.clear()
        if status is None:
            for key in parsed.missing_required:
                file_error(M.missing_required_column(form.column(key).header), header=form.column(key).header)
            for key in parsed.missing_optional:
                header = form.column(key).header
                file_error(M.missing_optional_column(header), WARNING, header=header)
            for header in parsed.extra_headers:
                file_error(M.extra_column(header), WARNING, header=header)
            row_count = parsed.load_into(con, _SRC)
            if row_count == 0:
                file_error(M.no_rows())
            else:
                present = list(parsed.columns)
                year = (period or campaign.periods()[0]).end.year
                normalise_table(con, campaign, form, _SRC, _NORM, present, year=year, submitter_id=unit.id)
                ctx = TableContext(
                    campaign=campaign,
                    form=form,
                    place=place,
                    headers=dict(parsed.headers),
                    present=present,
                    submitter=unit,
                    period=period,
                    received_at=received_at,
                    norm=_NORM,
                    src=_SRC,
                )
                findings = check_table(con, ctx)

    if period is None and parsed is None:
        period = _period(campaign, period_no)
    for i, message in enumerate(file_messages):
        findings.add((0, message.severity != ERROR, i), message)
    messages = findings.sorted(place)
    if status is None:
        status = "rejected" if findings.errors else "accepted"

    due_at = minutes_late = None
    if period is not None:
        due_at, minutes_late = due_and_lateness(campaign, period, received_at)

    superseded: tuple[str, ...] = ()
    if status == "accepted" and current is not None and current.received_at <= received_at:
        superseded = (current.submission_id,)
    label = period.label if period else (f"第{period_no}周" if period_no is not None else None)
    return PrecheckResult(
        status=status,
        unit=unit.id,
        unit_name=unit.name,
        form=form.code if form else None,
        form_name=form.name if form else None,
        period=period_no,
        period_label=label,
        row_count=row_count if status != "duplicate" else 0,
        messages=tuple(messages),
        error_count=findings.errors,
        warning_count=findings.warnings,
        due_at=due_at,
        minutes_late=minutes_late,
        received_at=received_at,
        original_name=name,
        duplicate_of=duplicate_of,
        superseded=superseded,
        used_snapshot=used,
    )
