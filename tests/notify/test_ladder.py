"""The escalation ladder over a replayed campaign week: the sample submissions of week 1 imported with their
real receive times and built (dbt), the sample contacts imported from their Excel list, every hourly run of the reminders
from Tuesday to Monday, every mail received by an SMTP server on loopback. Each expected submission still
missing gets its reminder, overdue notice and escalation exactly once, in that order; a second pass over
the same week sends nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import duckdb

from application.build import run_build
from application.reminders import REMINDER_HOURS, run_reminders
from application.samples.contacts import write_sample_contacts
from ingest.history import replay_manifest
from roadsafe.contacts import import_xlsx, save_contacts

TZ = ZoneInfo("Asia/Shanghai")
START, END = dt.datetime(2022, 4, 12, 8, tzinfo=TZ), dt.datetime(2022, 4, 18, 18, tzinfo=TZ)
DUE = dt.datetime(2022, 4, 14, 12, tzinfo=TZ)  # week 1's forms


def _hours():
    t = START
    while t <= END:
        if t.hour in REMINDER_HOURS:
            yield t
        t += dt.timedelta(hours=1)


def _expected(settings, campaign) -> set[tuple[str, str, str]]:
    """(unit, form, rung) for week 1, from the submissions themselves: missing at each rung's moment."""
    rules = campaign.frame.reminders
    moments = {
        "reminder": DUE - dt.timedelta(hours=rules.before_due_hours),
        "overdue": DUE + dt.timedelta(hours=rules.overdue_after_hours),
        "escalation": DUE + dt.timedelta(hours=rules.escalate_after_hours),
    }
    con = duckdb.connect(str(settings.published), read_only=True)
    try:
        expected = con.execute(
            "select form_code, unit_id from ref.expected_submissions where due_at = ?", [DUE]
        ).fetchall()
        accepted = con.execute(
            "select form_code, unit_id, received_at from raw.submissions where status = 'accepted' and period_no = 1"
        ).fetchall()
    finally:
        con.close()
    first: dict[tuple[str, str], dt.datetime] = {}
    for form, unit, received in accepted:
        first[(form, unit)] = min(received, first.get((form, unit), received))
    return {
        (unit, form, rung)
        for form, unit in expected
        for rung, moment in moments.items()
        if not (first.get((form, unit)) and first[(form, unit)] <= moment)
    }


def test_the_ladder_over_a_replayed_week(settings, campaign, samples, smtp, tmp_path):
    replay_manifest(settings, samples, until=END)
    assert run_build(settings).ok
    save_contacts(
        settings, import_xlsx(campaign, write_sample_contacts(campaign, tmp_path / "联络员名单.xlsx"))
    )

    runs = [run_reminders(settings, t, delays=()) for t in _hours()]
    sent = [d for r in runs for d in r["deliveries"] if d["status"] == "sent"]
    assert {d["route"] for d in sent} == {"email"}  # the sample contacts have no robots
    assert len(smtp.messages) == len(sent) and not [
        d for r in runs for d in r["deliveries"] if d["status"] != "sent"
    ]
    keys = Counter(d["key"] for d in sent)
    assert max(keys.values()) == 1  # each notice once
    week1 = {
        (unit, form, rung)
        for key in keys
        for _, unit, form, period, rung in [key.split("/")]
        if period == "1"
    }
    expected = _expected(settings, campaign)
    assert week1 == expected
    assert {r for _, _, r in expected} == {"reminder", "overdue", "escalation"}
    # each unit hears its rungs in order, and an escalation reaches its leader and the office
    order = {"reminder": 0, "overdue": 1, "escalation": 2}
    seen: dict[tuple[str, str], int] = {}
    for d in sent:
        _, unit, form, period, rung = d["key"].split("/")
        assert order[rung] >= seen.get((unit, form, period), -1)
        seen[(unit, form, period)] = order[rung]
    escalations = [rcpts for _, rcpts, raw in smtp.messages if "leader." in ",".join(rcpts)]
    assert escalations and all("zhengzhiban@jiujiang.example.gov.cn" in r for r in escalations)
    # units late or missing twice or more by the end of the week are 督办 candidates
    flagged = {c["unit_id"]: c for c in runs[-1]["duban_candidates"]}
    twice = Counter(unit for unit, _, rung in expected if rung == "overdue")
    assert {u for u, n in twice.items() if n >= 2} <= set(flagged)
    assert all(c["late"] + c["missing"] >= 2 for c in flagged.values())

    again = [run_reminders(settings, t, delays=()) for t in _hours()]
    assert {d["status"] for r in again for d in r["deliveries"]} == {"already_sent"}
    assert len(smtp.messages) == len(sent)
