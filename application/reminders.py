"""Which units get a reminder, an overdue notice or an escalation in one run of the reminders DAG.

The reminders DAG runs every hour during working hours (:data:`REMINDER_HOURS`, campaign time zone).
A run at ``t`` covers the window ``(previous run slot, t]`` and selects, for every expected
submission (``ref.expected_submissions``) still without an accepted submission received by ``t``
(``raw.submissions``), the notices whose moment falls in that window:

- ``reminder``   at ``due_at - reminders.before_due_hours``
- ``overdue``    at ``due_at + reminders.overdue_after_hours``
- ``escalation`` at ``due_at + reminders.escalate_after_hours`` (to ``reminders.escalate_to``)

The units' written documents (forms.yml ``kind: document``: 实施方案, 月度小结, 总结) climb the same ladder
against their one-off due times (``ref.oneoffs``) until an accepted document of that occurrence is on
record (``raw.documents``).

So each notice is produced by exactly one run, and re-running a run gives the same notices (the
window and the "received by" cut-off come from the logical date, not the clock). A notice whose
moment falls at night is sent by the first run of the next morning.

The notices are read from the published read-only snapshot, written to
``$ROADSAFE_HOME/reminders/<YYYY-MM-DDTHH>.json`` (overwritten on a re-run), and delivered to the unit's
contacts (:mod:`roadsafe.contacts`): e-mail to the 联络员 and the unit's group robot; an escalation also
to the unit's 分管领导, the ``escalate_to`` addresses and the office's group robot. Delivery is exactly
once per notice and route (:mod:`dashboards.outreach`, ledger ``ops.notice_attempts`` in the warehouse).
Units late or missing twice or more by the run's time are listed as 督办 candidates.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboards.notices import Notice

__all__ = [
    "REMINDER_HOURS",
    "notice_slots",
    "reminder_cron",
    "reminder_window",
    "run_reminders",
    "select_notices",
]

log = logging.getLogger(__name__)

REMINDER_HOURS = range(8, 19)
"""Local hours at which the reminders DAG runs (08:00 … 18:00)."""


def reminder_cron() -> str:
    """The reminders DAG's cron expression, built from :data:`REMINDER_HOURS`."""
    return f"0 {REMINDER_HOURS.start}-{REMINDER_HOURS.stop - 1} * * *"


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


def notice_slots(campaign, due_times, start: datetime, end: datetime) -> list[datetime]:
    """The run slots in ``(start, end]`` whose window holds a notice moment of one of ``due_times``:
    running only these gives the same notices as running every slot (the windows partition time).

    Examples
    --------
    >>> from roadsafe.campaign import load_campaign
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> due = datetime(2022, 4, 14, 12, tzinfo=tz)
    >>> [f"{t:%m-%d %H}" for t in notice_slots(load_campaign("jiujiang-2022"), [due], due - timedelta(days=3), due + timedelta(days=3))]
    ['04-13 12', '04-14 12', '04-16 12']
    """
    rules = campaign.frame.reminders
    tz = ZoneInfo(campaign.frame.timezone)
    slots = set()
    for due in due_times:
        for hours in (-rules.before_due_hours, rules.overdue_after_hours, rules.escalate_after_hours):
            moment = due.astimezone(tz) + timedelta(hours=hours)
            slot = moment.replace(minute=0, second=0, microsecond=0)
            if slot < moment:
                slot += timedelta(hours=1)
            while slot.hour not in REMINDER_HOURS:
                slot += timedelta(hours=1)
            if start < slot <= end:
                slots.add(slot)
    return sorted(slots)


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
            select submission_id, form_code, unit_id, period_no, status, received_at,
                   row_number() over (partition by form_code, unit_id, period_no
                                      order by received_at desc, submission_id desc) as rn
            from raw.submissions
            where received_at <= $end
        ),
        done as (
            select distinct form_code, unit_id, period_no from attempts where status = 'accepted'
        )
        select e.form_code, e.unit_id, e.period_no, e.due_at, a.status, a.submission_id
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
    rows = [(*r, None) for r in rows]
    rows += _document_rows(
        con,
        campaign,
        end,
        start - timedelta(hours=max(offsets.values())),
        end - timedelta(hours=min(offsets.values())),
    )
    rows.sort(key=lambda r: (r[3], r[0], r[1]))
    notices = []
    reasons = _rejection_reasons(con, [r[5] for r in rows if r[4] == "rejected"])
    for form_code, unit_id, period_no, due_at, last_status, last_id, occurrence in rows:
        due_local = due_at.astimezone(tz)
        for kind, hours in offsets.items():
            at = due_local + timedelta(hours=hours)
            if start < at <= end:
                notices.append(
                    Notice(
                        kind=kind,
                        form_code=form_code,
                        unit_id=unit_id,
                        period_no=int(period_no or 0),
                        due_at=due_local.isoformat(),
                        notify_at=at.isoformat(),
                        last_status=last_status,
                        recipients=escalate_to if kind == "escalation" else (),
                        problems=reasons.get(last_id, ()) if last_status == "rejected" else (),
                        occurrence=occurrence,
                    )
                )
    return notices


def _document_rows(con, campaign, end: datetime, lo: datetime, hi: datetime) -> list[tuple]:
    """The written documents (forms.yml ``kind: document``) due in ``[lo, hi]`` that a unit has not sent
    (no accepted file received by ``end``), as rows ``(document code, unit, None, due_at, last status, last
    submission, occurrence)``; their due times are the one-offs of ``ref.oneoffs``."""
    by_oneoff = {doc.oneoff: code for code, doc in campaign.documents.items()}
    if not by_oneoff:
        return []
    tables = {
        (r[0], r[1]) for r in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
    }
    if ("ref", "oneoffs") not in tables:
        return []
    sent = "select null::varchar as oneoff_code, null::varchar as occurrence, null::varchar as unit_id, "
    sent += "null::varchar as status, null::varchar as submission_id, 1 as rn where false"
    if ("raw", "documents") in tables:
        sent = """
            select d.oneoff_code, d.occurrence, s.unit_id, s.status, s.submission_id,
                   row_number() over (partition by d.oneoff_code, d.occurrence, s.unit_id
                                      order by s.received_at desc, s.submission_id desc) as rn
            from raw.submissions s join raw.documents d using (submission_id)
            where s.received_at <= $end
        """
    rows = con.execute(
        f"""
        with attempts as ({sent}),
        done as (select distinct oneoff_code, occurrence, unit_id from attempts where status = 'accepted')
        select o.code, o.unit_id, o.due_at, a.status, a.submission_id, o.occurrence
        from ref.oneoffs o
        left join done d on d.oneoff_code = o.code and d.occurrence = o.occurrence and d.unit_id = o.unit_id
        left join attempts a
               on a.oneoff_code = o.code and a.occurrence = o.occurrence and a.unit_id = o.unit_id and a.rn = 1
        where d.oneoff_code is null and o.due_at between $lo and $hi and o.code in (select unnest($codes))
        order by o.due_at, o.code, o.unit_id
        """,
        {"end": end, "lo": lo, "hi": hi, "codes": list(by_oneoff)},
    ).fetchall()
    return [
        (by_oneoff[code], unit, None, due, status, sid, occ) for code, unit, due, status, sid, occ in rows
    ]


def _rejection_reasons(con, submission_ids: list[str], limit: int = 3) -> dict[str, tuple[str, ...]]:
    """The first ``limit`` errors of each rejected submission (none when the snapshot has no messages)."""
    has_messages = con.execute(
        "select 1 from duckdb_tables() where schema_name = 'raw' and table_name = 'submission_messages'"
    ).fetchall()
    if not submission_ids or not has_messages:
        return {}
    rows = con.execute(
        """
        select submission_id, message from raw.submission_messages
        where submission_id in (select unnest($ids)) and severity = 'error'
        order by submission_id, seq
        """,
        {"ids": submission_ids},
    ).fetchall()
    out: dict[str, tuple[str, ...]] = {}
    for sid, message in rows:
        if len(out.get(sid, ())) < limit:
            out[sid] = (*out.get(sid, ()), message)
    return out


def run_reminders(
    settings, logical_date: datetime, *, dry_run: bool = False, delays: tuple[float, ...] | None = None
) -> dict:
    """Select this run's notices from the published snapshot, write them to the outbox file and deliver
    them (``dry_run``: select and word them, send and record nothing)."""
    from dashboards.duban import duban_candidates
    from dashboards.notices import notice_message
    from dashboards.outreach import DELAYS, Outgoing, deliver, portal_url, routes_for, smtp_config
    from roadsafe.contacts import load_contacts
    from roadsafe.warehouse import open_snapshot

    campaign = settings.campaign()
    window = reminder_window(logical_date, campaign.frame.timezone)
    if not settings.published.exists():
        log.warning("No published snapshot at %s yet: no reminders", settings.published)
        return {"window": [w.isoformat() for w in window], "snapshot": None, "notices": [], "deliveries": []}
    con = open_snapshot(settings.published)
    try:
        notices = select_notices(con, campaign, window)
        candidates = duban_candidates(con, campaign, window[1])
    finally:
        con.close()
    outbox = settings.home / "reminders" / f"{window[1]:%Y-%m-%dT%H}.json"
    outbox.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "campaign": campaign.code,
        "window": [w.isoformat() for w in window],
        "notices": [asdict(n) for n in notices],
        "duban_candidates": candidates,
    }
    tmp = outbox.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(outbox)
    counts: dict[str, int] = {}
    for n in notices:
        counts[n.kind] = counts.get(n.kind, 0) + 1
    contacts = load_contacts(settings)
    smtp = smtp_config()
    link = portal_url()
    items = []
    for n in notices:
        key = n.key(campaign.code)
        items.append(
            Outgoing(
                key=key,
                campaign_code=campaign.code,
                unit_id=n.unit_id,
                rung=n.kind,
                message=notice_message(campaign, n, link),
                routes=routes_for(contacts, n.unit_id, n.kind, n.recipients, key, smtp),
            )
        )
    if dry_run:
        deliveries = [
            {
                "key": i.key,
                "rung": i.rung,
                "unit_id": i.unit_id,
                "route": r.name,
                "target": r.target,
                "status": "dry_run",
                "attempts": 0,
                "detail": i.message.subject,
            }
            for i in items
            for r in i.routes or (None,)
            if r is not None
        ] + [
            {
                "key": i.key,
                "rung": i.rung,
                "unit_id": i.unit_id,
                "route": "none",
                "target": "",
                "status": "no_contact",
                "attempts": 0,
                "detail": "未登记联络方式",
            }
            for i in items
            if not i.routes
        ]
    else:
        deliveries = deliver(settings, items, delays=DELAYS if delays is None else delays) if items else []
    sent = sum(1 for d in deliveries if d["status"] == "sent")
    return {
        **payload,
        "counts": counts,
        "sent": sent,
        "deliveries": deliveries,
        "outbox": str(outbox),
        "snapshot": str(settings.published),
    }
