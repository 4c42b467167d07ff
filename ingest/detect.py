"""What a file says about itself: its form, its week and its unit, read from the rows around the table.

Offices put a title (``2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）``) and a line such as
``填报单位：市公安局　　统计时段：2022年5月5日至5月11日`` or ``填报日期：2022年5月12日`` above the header,
and sometimes the unit or date in the footer. These functions read them; each returns ``None`` when the
text does not tell.

* Form: a form's name contained in the text (``重点车辆隐患清零周报``), the longest name winning.
* Period: ``第N周`` (Arabic or Chinese numerals); else the end of a date range (统计时段 …至…) or a
  截至/截止 date, mapped with :meth:`Campaign.period_for`; else a 填报日期 (or an unlabelled date): the
  period that ended most recently before that day, since forms are filed the day after the week ends.
* Unit: the text after ``填报单位：`` (also 报送单位/填表单位/单位名称), resolved with
  :meth:`Campaign.resolve_unit`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable

from roadsafe.wording import cn_to_int

__all__ = ["detect_form", "detect_period", "detect_unit", "find_dates", "find_week", "row_text"]

_SPACES = re.compile(r"\s+")
_WEEK = re.compile(r"第\s*([0-9]+|[零〇一二两三四五六七八九十百]+)\s*周")

_FULL_DATE = r"(?P<y>\d{4})\s*(?:年|[./-])\s*(?P<m>\d{1,2})\s*(?:月|[./-])\s*(?P<d>\d{1,2})\s*日?"
_MONTH_DAY = r"(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日?"
_SHORT_AFTER = r"(?P<m3>\d{1,2})\s*[./-]\s*(?P<d3>\d{1,2})(?!\d)"
_DATE = re.compile(rf"(?<!\d)(?:{_FULL_DATE}|{_MONTH_DAY})")
_RANGE_SEP = re.compile(r"\s*(?:至|到|~|～|-|—|–|－)+\s*")
_SHORT_DATE = re.compile(rf"(?:{_FULL_DATE}|{_MONTH_DAY}|{_SHORT_AFTER})")

_FILED = re.compile(r"(填报|报送|填表|上报|制表)(日期|时间)")
_CUTOFF = re.compile(r"统计(时段|时间|期间|周期|日期)|时间段|截至|截止")

_UNIT = re.compile(r"(?:填报|报送|填表|上报)?单位(?:名称)?\s*(?:\((?:盖章|公章)\))?\s*:\s*(?P<v>[^\s:]*)")
_UNIT_TAIL = re.compile(r"(填报|报送|填表|统计|联系|日期|时间|截至|截止|审核|负责人).*$")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def row_text(cells: Iterable[str | None]) -> str:
    """One row's non-empty cells joined by two spaces (so ``填报单位：`` + ``市公安局`` reads as one line)."""
    return "  ".join(str(c) for c in cells if c not in (None, ""))


# ---------------------------------------------------------------------------------------------- form


def detect_form(texts: Iterable[str], campaign) -> str | None:
    """The form whose name one of ``texts`` contains (the longest name if several do)."""
    names = []
    for code, form in campaign.forms.items():
        name = _SPACES.sub("", _fold(form.name))
        names.append((name, code))
        bare = re.sub(r"\([^()]*\)", "", name)
        if bare != name:
            names.append((bare, code))
    names.sort(key=lambda item: -len(item[0]))
    for text in texts:
        folded = _SPACES.sub("", _fold(text or ""))
        for name, code in names:
            if name and name in folded:
                return code
    return None


# ---------------------------------------------------------------------------------------------- period




def find_week(texts: Iterable[str]) -> int | None:
    """The N of the first ``第N周`` in ``texts``.

    Examples
    --------
    >>> find_week(["重点车辆隐患清零周报（第５周）"]), find_week(["第十二周"]), find_week(["无"])
    (5, 12, None)
    """
    for text in texts:
        m = _WEEK.search(_fold(text or ""))
        if m:
            n = cn_to_int(m[1])
            if n:
                return n
    return None


def _make_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str, default_year: int) -> list[tuple[str, dt.date, dt.date | None]]:
    """Dates in one text: ``(kind, date, range_end)`` with kind ``range``, ``cutoff``, ``filed`` or ``plain``.

    A date without a year takes the year of the date before it, or ``default_year``.

    Examples
    --------
    >>> find_dates("填报单位：市公安局　统计时段：2022年5月5日至5月11日", 2022)
    [('range', datetime.date(2022, 5, 5), datetime.date(2022, 5, 11))]
    >>> find_dates("填报日期：2022-05-12", 2022)
    [('filed', datetime.date(2022, 5, 12), None)]
    """
    text = _fold(text or "")
    out: list[tuple[str, dt.date, dt.date | None]] = []
    year = default_year
    pos = 0
    while True:
        m = _DATE.search(text, pos)
        if not m:
            break
        if m["y"]:
            year = int(m["y"])
            first = _make_date(year, int(m["m"]), int(m["d"]))
        else:
            first = _make_date(year, int(m["m2"]), int(m["d2"]))
        pos = m.end()
        end = None
        sep = _RANGE_SEP.match(text, pos)
        if sep:
            second = _SHORT_DATE.match(text, sep.end())
            if second:
                if second["y"]:
                    end = _make_date(int(second["y"]), int(second["m"]), int(second["d"]))
                elif second["m2"]:
                    end = _make_date(year, int(second["m2"]), int(second["d2"]))
                else:
                    end = _make_date(year, int(second["m3"]), int(second["d3"]))
                if end:
                    pos = second.end()
        if first is None:
            continue
        before = text[max(0, m.start() - 12) : m.start()]
        if end is not None:
            kind = "range"
        elif _CUTOFF.search(before):
            kind = "cutoff"
        elif _FILED.search(before) or before.rstrip(": ").endswith("日期"):
            kind = "filed"
        else:
            kind = "plain"
        out.append((kind, first, end))
    return out


def detect_period(texts: Iterable[str], campaign, names: Iterable[str] = ()) -> int | None:
    """The period a file reports on, from its title/metadata ``texts`` and then its file ``names``.

    ``第N周`` wins (title before file name); then the end of a date range or a 截至 date → the period it falls
    in; then a 填报日期 (or unlabelled date) → the period that ended most recently before it.
    """
    texts = [t for t in texts if t]
    names = [n for n in names if n]
    week = find_week(texts) or find_week(names)
    if week:
        return week
    default_year = campaign.frame.start.year
    filed: dt.date | None = None
    for text in texts:
        for kind, first, end in find_dates(text, default_year):
            if kind == "range" and end is not None:
                period = campaign.period_for(end)
                if period:
                    return period.no
            elif kind == "cutoff":
                period = campaign.period_for(first)
                if period:
                    return period.no
            elif filed is None:
                filed = first
    if filed is not None:
        ended = [p for p in campaign.periods() if p.end < filed]
        if ended:
            return ended[-1].no
    return None


# ---------------------------------------------------------------------------------------------- unit


def detect_unit(texts: Iterable[str], campaign) -> str | None:
    """The unit id named after ``填报单位：`` in ``texts``, or ``None`` if absent or unknown."""
    for text in texts:
        folded = _fold(text or "")
        for m in _UNIT.finditer(folded):
            value = re.sub(r"\([^()]*\)", "", m["v"])
            value = _UNIT_TAIL.sub("", value)
            unit = campaign.resolve_unit(value) if value else None
            if unit is not None:
                return unit.id
    return None
