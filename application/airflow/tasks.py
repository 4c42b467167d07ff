"""Thin callables behind the Airflow tasks in ``dags/``.

Each function turns Airflow's view of a run (its logical date) into a call of the roadsafe packages
and returns a small JSON-able summary (it becomes the task's XCom). The packages are imported inside
the functions, so importing this module (which every DAG file does at parse time) stays cheap: only
the standard library, plus PyYAML in the two parse-time helpers.

Dates: the DAGs pass the run's logical date (for ``CronTriggerTimetable`` runs, the scheduled time);
nothing here reads the clock, so re-running a period gives the same result.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "build_marts",
    "campaign_report_cron",
    "campaign_timezone",
    "deliver_edition",
    "inbox_path",
    "ingest_announcing_raw",
    "ingest_pending",
    "is_bulletin_day",
    "is_last_working_day",
    "local_date",
    "monthly_edition",
    "raw_changed",
    "render_edition",
    "send_reminders",
    "span_editions",
    "span_report_cron",
    "spans_due",
    "weekly_edition",
]

_REPO = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- parse-time helpers


def inbox_path(campaign: str | None = None) -> str:
    """The campaign's inbox as an absolute path (what its inbox trigger watches)."""
    return str(_settings(campaign).inbox)


def _campaign_file(campaign: str | None = None) -> Path:
    """campaign.yml of the campaign: the office's own import in the campaign's home, else the shipped one
    (as :func:`roadsafe.campaign.campaign_root` finds it, without importing the campaign package)."""
    settings = _settings(campaign)
    office = settings.home / "campaigns" / settings.campaign_code / "campaign.yml"
    if office.is_file():
        return office
    root = Path(os.environ.get("ROADSAFE_CAMPAIGNS_DIR") or _REPO / "campaigns")
    return root / settings.campaign_code / "campaign.yml"


def _campaign_frame(campaign: str | None = None) -> tuple[Path, dict]:
    import yaml

    path = _campaign_file(campaign)
    with path.open(encoding="utf-8") as fh:
        return path, yaml.safe_load(fh) or {}


def campaign_timezone(campaign: str | None = None) -> str:
    """The campaign's time zone (``timezone`` in campaign.yml), read at DAG parse time."""
    return str(_campaign_frame(campaign)[1].get("timezone") or "Asia/Shanghai")


def campaign_report_cron(report: str, days: str = "*", campaign: str | None = None) -> tuple[str, str]:
    """Cron expression and timezone for a report of the active campaign, read at DAG parse time.

    Reads only ``campaign.yml`` with PyYAML (no validation, no heavy imports): the ``time`` of
    ``reports.<report>`` (e.g. ``17:00``) becomes ``"0 17 <days> * *"``. A campaign that does not issue
    the report (the long-term plan has no weekly bulletin) still loads the DAG: it runs at 00:00 and its
    short-circuit finds nothing due.

    Parameters
    ----------
    report : str
        Key under ``reports`` in campaign.yml, e.g. ``weekly_bulletin``.
    days : str
        The day-of-month field, e.g. ``20-31`` for the monthly DAG.
    campaign : str, optional
        The campaign's code (default: the active campaign, ``$ROADSAFE_CAMPAIGN``).

    Examples
    --------
    >>> campaign_report_cron("weekly_bulletin")
    ('0 17 * * *', 'Asia/Shanghai')
    """
    path, frame = _campaign_frame(campaign)
    tz = str(frame.get("timezone") or "Asia/Shanghai")
    if report not in (frame.get("reports") or {}):
        return f"0 0 {days} * *", tz
    hour, minute = _report_time(path, frame, report)
    return f"{minute} {hour} {days} * *", tz


def _report_time(path: Path, frame: dict, report: str) -> tuple[int, int]:
    try:
        hh, mm = str(frame["reports"][report]["time"]).split(":")
        hour, minute = int(hh), int(mm)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f'{path}: reports.{report}.time 应写成 "HH:MM"（例如 "17:00"）') from exc
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"{path}: reports.{report}.time 不是有效时刻：{hh}:{mm}")
    return hour, minute


SPAN_REPORTS = ("half_year_summary", "yearly_assessment", "final_assessment")


def span_report_cron(campaign: str | None = None) -> tuple[str, str]:
    """Cron expression and timezone of the span reports' DAG (the half-year summary, the yearly or final
    assessment): every time of day one of them is issued at, read from campaign.yml at DAG parse time.
    A campaign without span reports still loads the DAG: it runs at 00:00 and finds nothing due.

    Examples
    --------
    >>> span_report_cron("jiujiang-longterm-2022")
    ('0 17,18 * * *', 'Asia/Shanghai')
    """
    path, frame = _campaign_frame(campaign)
    tz = str(frame.get("timezone") or "Asia/Shanghai")
    times = {_report_time(path, frame, r) for r in SPAN_REPORTS if r in (frame.get("reports") or {})}
    if not times:
        return "0 0 * * *", tz
    hours = ",".join(str(h) for h in sorted({h for h, _ in times}))
    minutes = ",".join(str(m) for m in sorted({m for _, m in times}))
    return f"{minutes} {hours} * * *", tz  # a superset when times differ in both: spans_due picks exactly


# --------------------------------------------------------------------------- shared


def _settings(campaign: str | None = None):
    """The settings of ``campaign`` (its own home when the deployment runs several), default the active one."""
    from roadsafe.settings import Settings

    return Settings.from_env(campaign=campaign)


def local_date(logical_date: datetime, tz: str = "Asia/Shanghai") -> date:
    """The calendar date of ``logical_date`` in the campaign's time zone."""
    from zoneinfo import ZoneInfo

    if logical_date.tzinfo is None:
        raise ValueError(f"logical_date must be timezone-aware, got {logical_date!r}")
    return logical_date.astimezone(ZoneInfo(tz)).date()


def _jsonable(value: Any) -> Any:
    """A best-effort JSON-able copy of a result object (dataclass / pydantic / Path / date)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# --------------------------------------------------------------------------- ingest / build


def _reply_to_submitters(settings, receipts) -> None:
    """The 回执 of each inbox file, beside it in the unit's folder and to its 联络员 (exactly once). A delivery
    problem is logged and shown to the office (the notice ledger), never a failed ingest: the data is in."""
    from application.inbox_replies import reply_to_inbox

    try:
        result = reply_to_inbox(settings, receipts)
    except Exception:  # noqa: BLE001 - replies must not undo a finished load
        log.exception("回执 could not be sent for %d inbox file(s)", len(receipts))
        return
    log.info("回执: %d reply file(s) written, %d delivery attempt(s)", result["replies"], len(result["deliveries"]))


def ingest_pending(conf: dict[str, Any] | None = None, campaign: str | None = None) -> dict[str, Any]:
    """Land and load every pending inbox file (not only the files named in the triggering events).

    With ``conf = {"history_manifest": DIR, "until": ISO time}`` (a manually started run), the
    manifest's submissions received up to ``until`` are imported first, with their receive times.

    Returns
    -------
    dict
        ``{"receipts": n, "by_status": {...}, "submissions": [...]}``; ``receipts`` counts the
        submissions written to ``raw.*`` in this run (accepted, rejected and duplicate alike).
    """
    from ingest.history import replay_manifest
    from ingest.service import process_inbox

    settings = _settings(campaign)
    receipts = []
    if conf and conf.get("history_manifest"):
        until = datetime.fromisoformat(conf["until"]) if conf.get("until") else None
        receipts += replay_manifest(settings, Path(conf["history_manifest"]), until=until)
    from_inbox = process_inbox(settings)
    receipts += from_inbox
    _reply_to_submitters(settings, from_inbox)
    by_status: dict[str, int] = {}
    for r in receipts:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    submissions = [
        {
            "submission_id": r.submission_id,
            "status": r.status,
            "unit_id": r.unit_id,
            "form_code": r.form_code,
            "period_no": r.period_no,
        }
        for r in receipts
    ]
    return {
        "receipts": len(receipts),
        "by_status": by_status,
        "submissions": submissions,
        "unpublished": _raw_ahead_of_snapshot(settings),
    }


def _raw_ahead_of_snapshot(settings) -> bool:
    """Whether ``raw.submissions`` holds attempts the published snapshot does not: a try killed after its
    load committed but before it announced leaves exactly that, and its retry loads nothing new."""
    import duckdb

    from roadsafe.warehouse import SnapshotMissing, connect, open_snapshot, writer_turn

    query = "select count(*), coalesce(max(submission_id), '') from raw.submissions"

    def registry(con) -> tuple[int, str]:
        try:
            return tuple(con.execute(query).fetchone())
        except duckdb.CatalogException:  # nothing ingested yet
            return (0, "")

    with writer_turn(settings) as deadline:
        con = connect(settings, deadline=deadline)
        try:
            live = registry(con)
        finally:
            con.close()
    try:
        snap = open_snapshot(settings.published)
    except SnapshotMissing:
        return live[0] > 0
    try:
        return registry(snap) != live
    finally:
        snap.close()


def raw_changed(summary: dict[str, Any]) -> bool:
    """Whether the marts must be rebuilt: this run wrote to ``raw.*`` (rejected and duplicate attempts count
    too: they change the submission compliance mart), or an earlier try did and never announced it."""
    return int(summary.get("receipts") or 0) > 0 or bool(summary.get("unpublished"))


def ingest_announcing_raw(conf: dict[str, Any] | None = None, campaign: str | None = None) -> dict[str, Any]:
    """:func:`ingest_pending` for the ingest DAG's one task, whose outlet is ``roadsafe_raw``: the task is
    skipped (so no event, no build) when nothing reached ``raw.*``."""
    summary = ingest_pending(conf, campaign)
    if not raw_changed(summary):
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException("no submission written to raw.*: roadsafe_raw not updated")
    return summary


def build_marts(campaign: str | None = None) -> dict[str, Any]:
    """Rewrite the campaign's ``ref.*``, run ``dbt build`` and publish its read-only snapshot."""
    from application.build import run_build

    result = run_build(_settings(campaign))
    if not result.ok:
        # dbt failed on the data or the models: deterministic, a retry would fail the same way, so
        # fail now with the plain-word failures (the last good snapshot stays published).
        from airflow.sdk.exceptions import AirflowFailException

        failures = "\n".join(f"  - {f}" for f in result.failures)
        raise AirflowFailException(f"{result.message}\n{failures}".rstrip())
    return _jsonable(result)


# --------------------------------------------------------------------------- calendar questions


def is_bulletin_day(logical_date: datetime, campaign: str | None = None) -> bool:
    """Whether the weekly bulletin of the active campaign is due on the run's date.

    Due days follow the campaign definition (days after the period end, rolled to the next working
    day), so they move with holidays; the DAG runs daily at the bulletin time and asks this.
    """
    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import WorkCalendar

    definition = _settings(campaign).campaign()
    tz = str(definition.frame.timezone)
    day = local_date(logical_date, tz)
    return any(
        item.kind == "weekly_bulletin" and local_date(item.due_at, tz) == day
        for item in build_schedule(definition, WorkCalendar.load())
    )


def is_last_working_day(logical_date: datetime, tz: str | None = None, campaign: str | None = None) -> bool:
    """Whether the run's date is the last working day of its month (working-day calendar) and the active
    campaign issues a monthly report that day: outside the campaign's period, or for a campaign without
    monthly reports, the run is skipped, not failed.

    Raises
    ------
    AirflowFailException
        With the calendar's Chinese message when the year is not in ``calendar/cn-workdays.yml``:
        the run fails visibly (no retry: retrying cannot add the year) instead of skipping silently.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import CalendarYearMissing, WorkCalendar

    day = local_date(logical_date, tz or campaign_timezone(campaign))
    calendar = WorkCalendar.load()
    try:
        if calendar.last_working_day_of_month(day.year, day.month) != day:
            return False
    except CalendarYearMissing as exc:
        raise AirflowFailException(str(exc)) from exc
    definition = _settings(campaign).campaign()
    monthly = {k for k, rule in definition.frame.reports.items() if rule.rule == "last_working_day_of_month"}
    zone = str(definition.frame.timezone)
    return any(
        item.kind in monthly and local_date(item.due_at, zone) == day
        for item in build_schedule(definition, calendar)
    )


# --------------------------------------------------------------------------- editions


def weekly_edition(logical_date: datetime, campaign: str | None = None) -> str:
    """The drafts of the weekly edition (通报 + 调度单) for the run's date (frozen now unless the office already
    has them: its review is kept); returns the bulletin's folder (the draft, or the edition once signed)."""
    from dashboards import signoff
    from dashboards.edition_meta import WEEKLY_KINDS

    day = local_date(logical_date, campaign_timezone(campaign))
    return str(signoff.prepare_for_day(_settings(campaign), WEEKLY_KINDS, day))


def monthly_edition(logical_date: datetime, campaign: str | None = None) -> str:
    """The drafts of the monthly edition (排名 + 小结) for the run's month; returns the ranking's folder."""
    from dashboards import signoff
    from dashboards.edition_meta import MONTHLY_KINDS

    day = local_date(logical_date, campaign_timezone(campaign))
    return str(signoff.prepare_for_day(_settings(campaign), MONTHLY_KINDS, day))


def render_edition(edition_dir: str, kind: str) -> list[str]:
    """Render one report (``bulletin``, ``dispatch``, ``ranking`` or ``summary``) of the edition: a draft's
    page for the office to review, or a signed edition's HTML, PDF and XLSX."""
    from dashboards import signoff

    return [str(p) for p in signoff.render_step(Path(edition_dir), kind)]


def deliver_edition(edition_dir: str, campaign: str | None = None) -> dict[str, Any]:
    """At the issue time: deliver each report of the edition once signed; a draft nobody signed is issued
    automatically (自动签发) or kept waiting for signature (the office is told), as the campaign's
    ``editions.unsigned`` says. Idempotent: nothing is sent twice."""
    from dashboards import signoff
    from dashboards.edition_meta import MONTHLY_KINDS, WEEKLY_KINDS
    from dashboards.editions import open_edition

    meta = open_edition(Path(edition_dir)).meta
    kinds = next((pair for pair in (WEEKLY_KINDS, MONTHLY_KINDS) if meta.kind in pair), (meta.kind,))
    settings = _settings(campaign)
    return {"editions": _jsonable([signoff.issue(settings, kind, meta.ref) for kind in kinds])}


# --------------------------------------------------------------------------- reminders


def send_reminders(logical_date: datetime, campaign: str | None = None) -> dict[str, Any]:
    """Reminders, overdue notices and escalations falling in this run's hour, selected and delivered
    (exactly once per notice and route: a retried run sends only what did not go; see
    application.reminders)."""
    from application.reminders import run_reminders

    return _jsonable(run_reminders(_settings(campaign), logical_date))


# --------------------------------------------------------------------------- span reports


def spans_due(logical_date: datetime, campaign: str | None = None) -> list[dict[str, Any]]:
    """The span reports (:data:`SPAN_REPORTS`) the campaign issues at the run's time (its schedule, with
    holidays): ``[{"kind": ..., "ref": period number or None}]``, empty on every other run."""
    from zoneinfo import ZoneInfo

    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import WorkCalendar

    definition = _settings(campaign).campaign()
    tz = ZoneInfo(str(definition.frame.timezone))
    at = logical_date.astimezone(tz).replace(second=0, microsecond=0)
    periods = {p.label: p.no for p in definition.periods()}
    return [
        {"kind": item.kind, "ref": periods.get(item.ref) if item.kind == "half_year_summary" else None}
        for item in build_schedule(definition, WorkCalendar.load())
        if item.kind in SPAN_REPORTS and item.due_at.astimezone(tz).replace(second=0, microsecond=0) == at
    ]


def span_editions(reports: list[dict[str, Any]], campaign: str | None = None) -> list[str]:
    """Freeze and render each due span report (HTML, PDF, XLSX); returns their folders."""
    from dashboards import editions

    settings = _settings(campaign)
    return [str(editions.span_edition(settings, r["kind"], r["ref"])) for r in reports]
