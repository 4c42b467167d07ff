"""Reading the 完成时限 of a responsibility table: the ways Chinese plans write a deadline.

A phrase names a day or a stretch of time (a month, a 旬, a quarter, a half year, a year); the deadline is
the last day of that stretch, with or without 前/之前/以前 (``6月底前`` = 6月30日). A year missing from the
phrase is the plan's year. Phrases without a date (长期坚持, 持续推进) mean the campaign's end; phrases that
defer to something else (按时间节点) cannot be read and are reported.

Examples
--------
>>> parse_deadline("2022年6月30日前", 2022).day.isoformat()
'2022-06-30'
>>> parse_deadline("5月中旬", 2022).day.isoformat(), parse_deadline("5月中旬", 2022).note is not None
('2022-05-20', True)
>>> parse_deadline("长期坚持", 2022).ongoing
True
>>> parse_deadline("按时间节点", 2022).error is not None
True
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from roadsafe.wording import CN_DIGITS, cn_to_int

__all__ = ["Deadline", "format_deadline", "parse_deadline"]


ONGOING_WORDS = ("长期坚持", "持续推进", "长期推进", "常态化推进", "常态化", "持续开展", "长期", "持续")
VAGUE_WORDS = ("按时间节点", "按节点", "按进度", "按要求", "按上级要求", "适时", "另行通知", "待定")
_RECURRING = {"每季度": "quarterly", "每半年": "half_yearly", "每年": "yearly"}


@dataclass(frozen=True)
class Deadline:
    """What a 完成时限 cell says: ``day`` (None when unreadable or ongoing), ``ongoing`` (no date: the
    campaign's end), ``frequency`` (每季度 …), ``note`` (an interpretation the office should confirm),
    ``error`` (why it cannot be read, in Chinese)."""

    day: dt.date | None = None
    ongoing: bool = False
    frequency: str | None = None
    note: str | None = None
    error: str | None = None




_NUM = r"(\d{1,4}|[〇零一二两三四五六七八九十]{1,3})"
_YEAR = r"(?:(\d{4}|[〇零一二三四五六七八九]{4})年)?"

# Each pattern names a stretch of time; the function gives its last day and, when a choice was made, a note.
_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})"), "ymd"),
    (re.compile(_YEAR + _NUM + r"月" + _NUM + r"[日号]"), "day"),
    (re.compile(_YEAR + _NUM + r"月(上旬|中旬|下旬)"), "xun"),
    (re.compile(_YEAR + _NUM + r"月(?:底|末|份|中)?"), "month"),
    (re.compile(_YEAR + r"(?:第)?([一二三四1-4])季度(?:末|底)?"), "quarter"),
    (re.compile(_YEAR + r"(上半年|下半年)"), "half"),
    (re.compile(r"(?:(\d{4})年(?:底|末|内)|年底|年末|年内|全年)"), "year"),
]


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _year(text: str | None, default: int | None) -> int | None:
    if not text:
        return default
    if text.isdigit():
        return int(text)
    return int("".join(str(CN_DIGITS[c]) for c in text))


def _match_day(kind: str, m: re.Match, year: int | None) -> tuple[dt.date | None, str | None]:
    """The last day a matched phrase names, and a note when the reading involved a choice."""
    if kind == "ymd":
        return dt.date(int(m[1]), int(m[2]), int(m[3])), None
    y = _year(m[1], year)
    if y is None:
        raise LookupError
    if kind == "day":
        return dt.date(y, cn_to_int(m[2]), cn_to_int(m[3])), None
    if kind == "xun":
        month = cn_to_int(m[2])
        last = {"上旬": 10, "中旬": 20}.get(m[3]) or calendar.monthrange(y, month)[1]
        day = dt.date(y, month, last)
        return day, f"按该旬最后一天（{day.month}月{day.day}日）计"
    if kind == "month":
        month = cn_to_int(m[2])
        if m[0].endswith("中"):
            return dt.date(y, month, 15), f"按{month}月15日计"
        return _last_day(y, month), None
    if kind == "quarter":
        day = _last_day(y, cn_to_int(m[2]) * 3)
        return day, f"按该季度最后一天（{day.month}月{day.day}日）计"
    if kind == "half":
        return (dt.date(y, 6, 30) if m[2] == "上半年" else dt.date(y, 12, 31)), None
    return dt.date(y, 12, 31), None


def parse_deadline(value: object, year: int | None) -> Deadline:
    """Read one 完成时限 cell; ``year`` is the plan's year, used when the phrase gives none."""
    if isinstance(value, dt.datetime):
        return Deadline(day=value.date())
    if isinstance(value, dt.date):
        return Deadline(day=value)
    text = "".join(unicodedata.normalize("NFKC", str(value or "")).split())
    if not text:
        return Deadline(error="未填写完成时限")
    for word, freq in _RECURRING.items():
        if text.startswith(word):
            return Deadline(ongoing=True, frequency=freq, note="为定期任务，完成时限按活动结束日期计")
    found: list[tuple[int, dt.date, str | None, str]] = []
    taken: list[tuple[int, int]] = []
    try:
        for pattern, kind in _PATTERNS:
            for m in pattern.finditer(text):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                try:
                    day, note = _match_day(kind, m, year)
                except (ValueError, TypeError):
                    return Deadline(error="不是有效日期（月份或日期超出范围）")
                taken.append((m.start(), m.end()))
                found.append((m.start(), day, note, m[0]))
    except LookupError:
        return Deadline(error="时限未写年份，且无法从表格标题或 --year 确定年份")
    if not found:
        if any(word in text for word in VAGUE_WORDS):
            return Deadline(error="未给出具体日期")
        if any(text.startswith(word) for word in ONGOING_WORDS):
            return Deadline(ongoing=True, note="无具体日期，完成时限按活动结束日期计")
        return Deadline(error="无法识别为日期")
    found.sort()
    day = found[-1][1]
    if len(found) == 1:
        return Deadline(day=day, note=found[0][2])
    notes = [f"“{phrase}”{n}" for _, _, n, phrase in found if n]
    notes.append(f"含多个时间节点，以最后一个（{format_deadline(day)}）为完成时限")
    return Deadline(day=day, note="；".join(notes) or None)


def format_deadline(day: dt.date) -> str:
    """How a table writes a deadline: ``2022年4月30日前``."""
    return f"{day.year}年{day.month}月{day.day}日前"
