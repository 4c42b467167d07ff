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
    "ingest_pending",
    "is_bulletin_day",
    "is_last_working_day",
    "local_date",
    "monthly_edition",
    "raw_changed",
    "render_edition",
    "send_reminders",
    "weekly_edition",
]

_REPO = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- parse-time helpers


def inbox_path() -> str:
    """``$ROADSAFE_HOME/inbox`` as an absolute path (what the inbox trigger watches)."""
    from roadsafe.settings import Settings

    return str(Settings.from_env().inbox)


def _campaign_file() -> Path:
    code = os.environ.get("ROADSAFE_CAMPAIGN") or "jiujiang-2022"
    root = Path(os.environ.get("ROADSAFE_CAMPAIGNS_DIR") or _REPO / "campaigns")
    return root / code / "campaign.yml"


def _campaign_frame() -> tuple[Path, dict]:
    import yaml

    path = _campaign_file()
    with path.open(encoding="utf-8") as fh:
        return path, yaml.safe_load(fh) or {}


def campaign_timezone() -> str:
    """The active campaign's time zone (``timezone`` in campaign.yml), read at DAG parse time."""
    return str(_campaign_frame()[1].get("timezone") or "Asia/Shanghai")


def campaign_report_cron(report: str, days: str = "*") -> tuple[str, str]:
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

    Examples
    --------
    >>> campaign_report_cron("weekly_bulletin")
    ('0 17 * * *', 'Asia/Shanghai')
    """
    path, frame = _campaign_frame()
    tz = str(frame.get("timezone") or "Asia/Shanghai")
    if report not in (frame.get("reports") or {}):
        return f"0 0 {days} * *", tz
    try:
        hh, mm = str(frame["reports"][report]["time"]).split(":")
        hour, minute = int(hh), int(mm)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f'{path}: reports.{report}.time 应写成 "HH:MM"（例如 "17:00"）') from exc
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"{path}: reports.{report}.time 不是有效时刻：{hh}:{mm}")
    return f"{minute} {hour} {days} * *", tz


# --------------------------------------------------------------------------- shared


def _settings():
    from roadsafe.settings import Settings

    return Settings.from_env()


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


def ingest_pending(conf: dict[str, Any] | None = None) -> dict[str, Any]:
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

    settings = _settings()
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


def build_marts() -> dict[str, Any]:
    """Rewrite ``ref.*``, run ``dbt build`` and publish the read-only snapshot."""
    from application.build import run_build

    result = run_build(_settings())
    if not result.ok:
        # dbt failed on the data or the models: deterministic, a retry would fail the same way, so
        # fail now with the plain-word failures (the last good snapshot stays published).
        from airflow.sdk.exceptions import AirflowFailException

        failures = "\n".join(f"  - {f}" for f in result.failures)
        raise AirflowFailException(f"{result.message}\n{failures}".rstrip())
    return _jsonable(result)


# --------------------------------------------------------------------------- calendar questions


def is_bulletin_day(logical_date: datetime) -> bool:
    """Whether the weekly bulletin of the active campaign is due on the run's date.

    Due days follow the campaign definition (days after the period end, rolled to the next working
    day), so they move with holidays; the DAG runs daily at the bulletin time and asks this.
    """
    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import WorkCalendar

    campaign = _settings().campaign()
    tz = str(campaign.frame.timezone)
    day = local_date(logical_date, tz)
    return any(
        item.kind == "weekly_bulletin" and local_date(item.due_at, tz) == day
        for item in build_schedule(campaign, WorkCalendar.load())
    )


def is_last_working_day(logical_date: datetime, tz: str | None = None) -> bool:
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

    day = local_date(logical_date, tz or campaign_timezone())
    calendar = WorkCalendar.load()
    try:
        if calendar.last_working_day_of_month(day.year, day.month) != day:
            return False
    except CalendarYearMissing as exc:
        raise AirflowFailException(str(exc)) from exc
    campaign = _settings().campaign()
    monthly = {k for k, rule in campaign.frame.reports.items() if rule.rule == "last_working_day_of_month"}
    zone = str(campaign.frame.timezone)
    return any(
        item.kind in monthly and local_date(item.due_at, zone) == day
        for item in build_schedule(campaign, calendar)
    )


# --------------------------------------------------------------------------- editions


def weekly_edition(logical_date: datetime) -> str:
    """Freeze the weekly edition (通报 + 调度单) for the run's date; returns the edition folder."""
    from dashboards import editions

    return str(editions.freeze_weekly(_settings(), local_date(logical_date, campaign_timezone())))


def monthly_edition(logical_date: datetime) -> str:
    """Freeze the monthly edition (排名 + 小结) for the run's month; returns the edition folder."""
    from dashboards import editions

    return str(editions.freeze_monthly(_settings(), local_date(logical_date, campaign_timezone())))


def render_edition(edition_dir: str, kind: str) -> list[str]:
    """Render one report (``bulletin``, ``dispatch``, ``ranking`` or ``summary``) of a frozen edition."""
    from dashboards import editions

    return [str(p) for p in editions.render(Path(edition_dir), kind)]


def deliver_edition(edition_dir: str) -> dict[str, Any]:
    """Send a rendered edition to its recipients (idempotent: an edition already sent is not re-sent)."""
    from dashboards import delivery

    return {"deliveries": _jsonable(delivery.deliver(_settings(), Path(edition_dir)))}


# --------------------------------------------------------------------------- reminders


def send_reminders(logical_date: datetime) -> dict[str, Any]:
    """Reminders, overdue notices and escalations falling in this run's hour, selected and delivered
    (exactly once per notice and route: a retried run sends only what did not go; see
    application.reminders)."""
    from application.reminders import run_reminders

    return _jsonable(run_reminders(_settings(), logical_date))
