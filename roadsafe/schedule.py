"""Due times of a campaign: weekly forms, reports and one-off submissions, on the working-day calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from roadsafe.campaign import Campaign, Period
from roadsafe.campaign.model import DueRule, OneOff
from roadsafe.workcalendar import WorkCalendar

__all__ = ["ScheduleItem", "build_schedule", "form_due_at", "month_ends", "oneoff_due_times", "period_due_at"]


@dataclass(frozen=True, order=True)
class ScheduleItem:
    """One due time. ``kind`` is ``form``, a report key of campaign.yml or ``oneoff``; ``ref`` says which."""

    due_at: dt.datetime
    kind: str
    ref: str


def _at(campaign: Campaign, day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=ZoneInfo(campaign.frame.timezone))


def _roll(rule: DueRule, day: dt.date, calendar: WorkCalendar) -> dt.date:
    return calendar.next_working_day(day) if rule.roll == "next_working_day" else day


def period_due_at(campaign: Campaign, calendar: WorkCalendar, rule: DueRule, period: Period) -> dt.datetime:
    """A period-based rule's due time: N days after the period ends, moved to a working day."""
    day = period.end + dt.timedelta(days=rule.days_after_period_end or 0)
    return _at(campaign, _roll(rule, day, calendar), rule.time)


def form_due_at(campaign: Campaign, calendar: WorkCalendar, period: Period) -> dt.datetime:
    """When a period's forms are due (2022: the day after the week ends, 12:00, next working day).

    Examples
    --------
    >>> from roadsafe.campaign import load_campaign
    >>> c = load_campaign("jiujiang-2022")
    >>> form_due_at(c, WorkCalendar.load(), c.period(4)).isoformat()  # week 4 ends Fri 04-30 (a holiday)
    '2022-05-05T12:00:00+08:00'
    """
    return period_due_at(campaign, calendar, campaign.frame.due["form"], period)


def month_ends(campaign: Campaign, calendar: WorkCalendar) -> list[tuple[str, dt.date]]:
    """(``YYYY-MM``, last working day) for every month of the campaign whose last working day it reaches."""
    start, end = campaign.frame.start, campaign.frame.end
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        last = calendar.last_working_day_of_month(year, month)
        if start <= last:
            out.append((f"{year}-{month:02d}", last))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _rule_due_times(
    campaign: Campaign, calendar: WorkCalendar, rule: DueRule
) -> list[tuple[str, dt.datetime]]:
    if rule.days_after_period_end is not None:
        return [(p.label, period_due_at(campaign, calendar, rule, p)) for p in campaign.periods()]
    if rule.days_after_campaign_end is not None:
        day = campaign.frame.end + dt.timedelta(days=rule.days_after_campaign_end)
        return [(str(campaign.frame.end.year), _at(campaign, _roll(rule, day, calendar), rule.time))]
    if rule.rule == "last_working_day_of_month":
        return [(month, _at(campaign, day, rule.time)) for month, day in month_ends(campaign, calendar)]
    years = range(campaign.frame.start.year, campaign.frame.end.year + 1)
    return [(str(y), _at(campaign, calendar.last_working_day_of_month(y, 12), rule.time)) for y in years]


def build_schedule(campaign: Campaign, calendar: WorkCalendar) -> list[ScheduleItem]:
    """Every due time of the campaign, sorted: forms per period, each report, each one-off submission."""
    items = [
        ScheduleItem(due, "form", ref)
        for ref, due in _rule_due_times(campaign, calendar, campaign.frame.due["form"])
    ]
    for kind, rule in campaign.frame.reports.items():
        items += [ScheduleItem(due, kind, ref) for ref, due in _rule_due_times(campaign, calendar, rule)]
    for oneoff in campaign.frame.oneoffs:
        items += [
            ScheduleItem(due, "oneoff", oneoff.name if not occurrence else f"{oneoff.name}（{occurrence}）")
            for occurrence, due in oneoff_due_times(campaign, calendar, oneoff)
        ]
    return sorted(items)


def oneoff_due_times(
    campaign: Campaign, calendar: WorkCalendar, oneoff: OneOff
) -> list[tuple[str, dt.datetime]]:
    """(occurrence, due time) of a one-off submission: ``""`` for a fixed date, ``YYYY-MM`` for each month's
    last working day, ``YYYY`` for each year's last working day (a year-end 12-31 that is not a working day
    moves back to the last working day of the year)."""
    if oneoff.due is not None:
        return [("", _at(campaign, oneoff.due, oneoff.time))]
    if oneoff.rule == "last_working_day_of_month":
        return [(month, _at(campaign, day, oneoff.time)) for month, day in month_ends(campaign, calendar)]
    years = range(campaign.frame.start.year, campaign.frame.end.year + 1)
    return [(str(y), _at(campaign, calendar.last_working_day_of_month(y, 12), oneoff.time)) for y in years]
