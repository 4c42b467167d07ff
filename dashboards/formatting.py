"""How figures, dates and statuses read in a Chinese government report.

Examples
--------
>>> import datetime as dt
>>> cn_date(dt.date(2022, 5, 12)), cn_moment(dt.datetime(2022, 5, 12, 12, 0))
('2022年5月12日', '5月12日12时')
>>> fmt_value(0.9512, "rate"), fmt_value(31500, "count"), fmt_change(2), fmt_change(-1)
('95.1%', '31,500', '↑2', '↓1')
>>> cn_numeral(3), cn_numeral(12)
('三', '十二')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

__all__ = [
    "STATUSES",
    "STATUS_COLOURS",
    "cn_date",
    "cn_moment",
    "cn_month",
    "cn_month_day",
    "cn_numeral",
    "fmt_change",
    "fmt_deadline",
    "fmt_target",
    "fmt_value",
    "issue_label",
    "join_names",
    "local",
]

# The statuses of docs/ARCHITECTURE.md, in the order a reader scans them (best to worst).
STATUSES = ("已完成", "正常推进", "滞后", "逾期未完成", "未启动", "数据缺报")

# (background, text) per status: light fills that still print, dark text that reads in grey-scale.
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "已完成": ("#dcefdc", "#1b5e20"),
    "正常推进": ("#dde9f7", "#0d47a1"),
    "滞后": ("#ffe6cc", "#9a4a00"),
    "逾期未完成": ("#fbdcdc", "#b71c1c"),
    "未启动": ("#ececec", "#424242"),
    "数据缺报": ("#eadcf3", "#5e1f86"),
}

_DIGITS = "零一二三四五六七八九"


def local(moment: dt.datetime | None, tz: str) -> dt.datetime | None:
    """A timestamp in the campaign's time zone (naive input is taken as UTC, as DuckDB returns it)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(tz))


def cn_date(day: dt.date | dt.datetime) -> str:
    """``2022年5月12日``."""
    return f"{day.year}年{day.month}月{day.day}日"


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


def issue_label(issue_no: int) -> str:
    """``第5期``."""
    return f"第{issue_no}期"


def fmt_value(value: float | None, kind: str, *, digits: int = 1) -> str:
    """An indicator value: rates as percentages, counts as integers with thousands separators."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.{digits}f}%"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def fmt_target(target: float | None, kind: str, direction: str = "up") -> str:
    """A target as the plan states it: ``≥95.0%`` for rates, ``31,500`` for counts, ``—`` when none."""
    if target is None or direction == "none":
        return "—"
    if kind == "rate":
        return ("" if target >= 1 else "≥") + fmt_value(target, kind)
    return fmt_value(target, kind)


def fmt_deadline(deadline: dt.date | None, rule: str | None = None) -> str:
    """``6月30日`` or ``每月末``."""
    if rule == "month_end":
        return "每月末"
    if deadline is None:
        return "—"
    return cn_month_day(deadline)


def fmt_change(change: int | None) -> str:
    """Rank change against last month: ``↑2`` (moved up), ``↓1``, ``—`` (same), ``新`` (not ranked then)."""
    if change is None:
        return "新"
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"


def join_names(names: Iterable[str]) -> str:
    """``浔阳区、濂溪区`` (duplicates dropped, order kept)."""
    return "、".join(dict.fromkeys(n for n in names if n))
