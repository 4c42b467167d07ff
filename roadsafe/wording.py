"""How dates, times and durations read in Chinese, in every part the users see (reports, portal, receipts).

Examples
--------
>>> import datetime as dt
>>> cn_date(dt.date(2022, 5, 12)), cn_moment(dt.datetime(2022, 5, 12, 12, 0))
('2022年5月12日', '5月12日12时')
>>> cn_time(dt.datetime(2022, 5, 12, 12, 0)), cn_short(dt.datetime(2022, 5, 12, 9, 5))
('2022年5月12日（周四）12:00', '5月12日 09:05')
>>> cn_minutes(1505), cn_countdown(3 * 3600 + 125), cn_numeral(12)
('1天1小时5分钟', '3小时2分钟', '十二')
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = [
    "CN_DIGITS",
    "campaign_now",
    "campaign_tz",
    "cn_countdown",
    "cn_lateness",
    "cn_date",
    "cn_minutes",
    "cn_moment",
    "cn_month",
    "cn_month_day",
    "cn_size",
    "cn_span",
    "cn_numeral",
    "cn_short",
    "cn_time",
    "cn_to_int",
    "local",
]

_DIGITS = "零一二三四五六七八九"
CN_DIGITS = {**{ch: n for n, ch in enumerate(_DIGITS)}, "〇": 0, "两": 2}
_WEEKDAYS = "一二三四五六日"


def campaign_tz(campaign) -> ZoneInfo:
    """The campaign's time zone (``campaign.yml``: ``timezone``)."""
    return ZoneInfo(campaign.frame.timezone)


def campaign_now(campaign) -> dt.datetime:
    """Now, in the campaign's time zone."""
    return dt.datetime.now(campaign_tz(campaign))


def local(moment: dt.datetime | None, tz: str) -> dt.datetime | None:
    """A timestamp in the campaign's time zone (naive input is taken as UTC, as DuckDB returns it)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(tz))


def cn_date(day: dt.date | dt.datetime, with_year: bool = True) -> str:
    """``2022年5月12日`` (``5月12日`` without the year)."""
    return f"{day.year}年{day.month}月{day.day}日" if with_year else f"{day.month}月{day.day}日"


def cn_month_day(day: dt.date | dt.datetime) -> str:
    """``5月12日``."""
    return f"{day.month}月{day.day}日"


def cn_month(month: str) -> str:
    """``2022-05`` → ``2022年5月``."""
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月"


def cn_moment(moment: dt.datetime) -> str:
    """``5月12日12时`` (with ``30分`` when the minutes are not zero)."""
    text = f"{moment.month}月{moment.day}日{moment.hour}时"
    return text + (f"{moment.minute}分" if moment.minute else "")


def cn_numeral(n: int) -> str:
    """Chinese numerals for section headings (1..99): 一, 十, 十二, 二十一."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def cn_time(value: dt.datetime | None, tz=None) -> str:
    """``2022年5月12日（周四）12:00`` (``—`` for none), in ``tz`` when given."""
    if value is None:
        return "—"
    if tz is not None:
        value = value.astimezone(tz)
    return f"{cn_date(value)}（周{_WEEKDAYS[value.weekday()]}）{value:%H:%M}"


def cn_short(value: dt.datetime | None, tz=None) -> str:
    """``5月12日 09:05`` (``—`` for none), in ``tz`` when given."""
    if value is None:
        return "—"
    if tz is not None:
        value = value.astimezone(tz)
    return f"{value.month}月{value.day}日 {value:%H:%M}"


def cn_minutes(minutes: int) -> str:
    """An exact duration, as a receipt states lateness: ``1天1小时5分钟``, ``0分钟``."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    out = ""
    if days:
        out += f"{days}天"
    if hours:
        out += f"{hours}小时"
    if mins or not out:
        out += f"{mins}分钟"
    return out


def cn_countdown(seconds: float) -> str:
    """A rough duration for a countdown: ``2天3小时``, ``3小时2分钟``, ``5分钟``, ``不到1分钟``."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分钟"
    return f"{minutes}分钟" if minutes else "不到1分钟"


def cn_span(start: dt.date, end: dt.date, with_year: bool = True) -> str:
    """``2022年5月5日至5月11日`` (one day: ``2022年6月30日``); ``5月5日至5月11日`` without the year."""
    first = cn_date(start, with_year)
    if start == end:
        return first
    return f"{first}至{cn_date(end, with_year and end.year != start.year)}"


def cn_size(n: int | None) -> str:
    """A file size: ``512 字节``, ``3.4 KB``, ``1.2 MB``, ``2.0 GB`` (``—`` when unknown)."""
    if n is None:
        return "—"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} 字节"


def cn_lateness(minutes: int | None) -> str:
    """How a receipt's lateness reads: ``按时``, ``逾期3小时2分钟`` (``—`` when not known)."""
    if minutes is None:
        return "—"
    if minutes == 0:
        return "按时"
    return "逾期" + cn_countdown(minutes * 60)


def cn_to_int(text: str) -> int | None:
    """A number as plans and titles write it: ``12``, ``十二``, ``二十``, ``一百零五`` → int; None for anything else
    (``一二``)."""
    if text.isdigit():
        return int(text)
    total, current = 0, None
    for ch in text:
        if ch in ("十", "百"):
            total += (1 if current is None else current) * (10 if ch == "十" else 100)
            current = None
        elif ch in "零〇" and total and current is None:
            continue  # 一百零五: a zero between units
        elif ch in CN_DIGITS and current is None:
            current = CN_DIGITS[ch]
        else:
            return None
    return (total + (current or 0)) if text else None
