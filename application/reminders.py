"""Which units get a reminder, an overdue notice or an escalation in one run of the reminders DAG.

The reminders DAG runs every hour during working hours (:data:`REMINDER_HOURS`, campaign time zone).
A run at ``t`` covers the window ``(previous run slot, t]`` and selects, for every expected
submission (``ref.expected_submissions``) still without an accepted submission received by ``t``
(``raw.submissions``), the notices whose moment falls in that window:

- ``reminder``   at ``due_at - reminders.before_due_hours``
- ``overdue``    at ``due_at + reminders.overdue_after_hours``
- ``escalation`` at ``due_at + reminders.escalate_after_hours`` (to ``reminders.escalate_to``)

So each notice is produced by exactly one run, and re-running a run gives the same notices (the
window and the "received by" cut-off come from the logical date, not the clock). A notice whose
moment falls at night is sent by the first run of the next morning.

The notices are read from the published read-only snapshot and written to
``$ROADSAFE_HOME/reminders/<YYYY-MM-DDTHH>.json`` (overwritten on a re-run).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["REMINDER_HOURS", "Notice", "reminder_cron", "reminder_window", "run_reminders", "select_notices"]

log = logging.getLogger(__name__)

REMINDER_HOURS = range(8, 19)
"""Local hours at which the reminders DAG runs (08:00 … 18:00)."""


def reminder_cron() -> str:
    """The reminders DAG's cron expression, built from :data:`REMINDER_HOURS`."""
    return f"0 {REMINDER_HOURS.start}-{REMINDER_HOURS.stop - 1} * * *"


@dataclass(frozen=True)
class Notice:
    kind: str  # reminder / overdue / escalation
    form_code: str
    unit_id: str
    period_no: int
    due_at: str  # ISO, campaign time zone
    notify_at: str
    last_status: str | None  # status of the unit's latest attempt (e.g. rejected), None if none
    recipients: tuple[str, ...]  # extra recipients (escalation), besides the unit itself


def reminder_window(logical_date: datetime, tz: str) -> tuple[datetime, datetime]:
    """``(start, end]`` covered by the run at ``logical_date``: back to the previous run slot."""
    if logical_date.tzinfo is None:
        raise ValueError("logical_date must be timezone-aware")
    end = logical_date.astimezone(ZoneInfo(tz))
    slot = end.replace(minute=0, second=0, microsecond=0)
    if slot == end:
        slot -= timedelta(hours=1)
    for _ in range(48):
        if slot.hour in REMINDER_HOURS:
            break
        slot -= timedelta(hours=1)
    return slot, end


def select_notices(con, campaign, window: tuple[datetime, datetime]) -> list[Notice]:
    """Notices due in ``window`` from a DuckDB connection holding ``ref.*`` and ``raw.submissions``."""
    start, end = window
    rules = campaign.frame.reminders
    offsets = {
        "reminder": -rules.before_due_hours,
        "overdue": rules.overdue_after_hours,
        "escalation": rules.escalate_after_hours,
    }
    escalate_to = tuple(
        addr for group in rules.escalate_to for addr in campaign.frame.recipients.get(group, [group])
    )
    tz = ZoneInfo(campaign.frame.timezone)
    rows = con.execute(
        """
        with attempts as (
            select form_code, unit_id, period_no, status, received_at,
                   row_number() over (partition by form_code, unit_id, period_no
                                      order by received_at desc, submission_id desc) as rn
            from raw.submissions
            where received_at <= $end
        ),
        done as (
            select distinct form_code, unit_id, period_no from attempts where status = 'accepted'
        )
        select e.form_code, e.unit_id, e.period_no, e.due_at, a.status
        from ref.expected_submissions e
        left join done d using (form_code, unit_id, period_no)
        left join attempts a
               on a.form_code = e.form_code and a.unit_id = e.unit_id
              and a.period_no = e.period_no and a.rn = 1
        where d.form_code is null
          and e.due_at between $lo and $hi
        order by e.due_at, e.form_code, e.unit_id
        """,
        {
            "end": end,
            "lo": start - timedelta(hours=max(offsets.values())),
            "hi": end - timedelta(hours=min(offsets.values())),
        },
    ).fetchall()
    notices = []
    for form_code, unit_id, period_no, due_at, last_status in rows:
        due_local = due_at.astimezone(tz)
        for kind, hours in offsets.items():
            at = due_local + timedelta(hours=hours)
            if start < at <= end:
                notices.append(
                    Notice(
                        kind=kind,
                        form_code=form_code,
                        unit_id=unit_id,
                        period_no=int(period_no),
                        due_at=due_local.isoformat(),
                        notify_at=at.isoformat(),
                        last_status=last_status,
                        recipients=escalate_to if kind == "escalation" else (),
                    )
                )
    return notices


def run_reminders(settings, logical_date: datetime) -> dict:
    """Select this run's notices from the published snapshot and write them to the outbox file."""
    from roadsafe.warehouse import open_snapshot

    campaign = settings.campaign()
    window = reminder_window(logical_date, campaign.frame.timezone)
    if not settings.published.exists():
        log.warning("No published snapshot at %s yet: no reminders", settings.published)
        return {"window": [w.isoformat() for w in window], "snapshot": None, "notices": []}
    con = open_snapshot(settings.published)
    try:
        notices = select_notices(con, campaign, window)
    finally:
        con.close()
    outbox = settings.home / "reminders" / f"{window[1]:%Y-%m-%dT%H}.json"
    outbox.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "campaign": campaign.code,
        "window": [w.isoformat() for w in window],
        "notices": [asdict(n) for n in notices],
    }
    tmp = outbox.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(outbox)
    counts: dict[str, int] = {}
    for n in notices:
        counts[n.kind] = counts.get(n.kind, 0) + 1
    return {**payload, "counts": counts, "outbox": str(outbox), "snapshot": str(settings.published)}
