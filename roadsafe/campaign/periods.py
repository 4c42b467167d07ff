"""Reporting periods of a campaign: weeks counted from the start, or calendar months, quarters, halves, years."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from roadsafe.campaign.model import PeriodRule

__all__ = ["Period", "split_periods"]

_HALF = {1: "上半年", 2: "下半年"}


@dataclass(frozen=True)
class Period:
    """One reporting period, ``no`` counted from 1; ``start`` and ``end`` are inclusive dates."""

    no: int
    label: str
    start: dt.date
    end: dt.date

    @property
    def month(self) -> str:
        """The month (``YYYY-MM``) the period ends in: a period counts for the month of its end."""
        return f"{self.end:%Y-%m}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def _calendar_block_end(day: dt.date, kind: str) -> dt.date:
    months = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[kind]
    first_month = (day.month - 1) // months * months + 1
    next_first = dt.date(day.year + (first_month + months > 12), (first_month + months - 1) % 12 + 1, 1)
    return next_first - dt.timedelta(days=1)


def _label(rule: PeriodRule, no: int, start: dt.date, end: dt.date) -> str:
    return rule.label.format(
        n=no,
        year=end.year,
        month=end.month,
        quarter=(end.month - 1) // 3 + 1,
        half=_HALF[1 if end.month <= 6 else 2],
    )


def split_periods(rule: PeriodRule, start: dt.date, end: dt.date) -> list[Period]:
    """Cut ``start..end`` into periods.

    Examples
    --------
    >>> from roadsafe.campaign.model import PeriodRule
    >>> weeks = split_periods(PeriodRule(kind="week", label="第{n}周"), dt.date(2022, 4, 7), dt.date(2022, 6, 30))
    >>> len(weeks), weeks[0].end, weeks[-1].start, weeks[-1].label
    (13, datetime.date(2022, 4, 13), datetime.date(2022, 6, 30), '第13周')
    """
    periods: list[Period] = []
    current = start
    while current <= end:
        if rule.kind == "week":
            block_end = current + dt.timedelta(days=6)
        else:
            block_end = _calendar_block_end(current, rule.kind)
        block_end = min(block_end, end)
        no = len(periods) + 1
        periods.append(Period(no, _label(rule, no, current, block_end), current, block_end))
        current = block_end + dt.timedelta(days=1)
    return periods
