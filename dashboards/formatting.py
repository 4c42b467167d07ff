"""How figures, dates and statuses read in a Chinese government report.

Dates and times read as :mod:`roadsafe.wording` says.

Examples
--------
>>> fmt_value(0.9512, "rate"), fmt_value(31500, "count"), fmt_change(2), fmt_change(-1)
('95.1%', '31,500', '↑2', '↓1')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from roadsafe.wording import cn_month_day

__all__ = [
    "STATUSES",
    "STATUS_COLOURS",
    "fmt_change",
    "fmt_deadline",
    "fmt_target",
    "fmt_value",
    "issue_label",
    "join_names",
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


def fmt_target(target: float | None, kind: str, direction: str = "up", assumed: bool | None = False) -> str:
    """A target as the plan states it: ``≥95.0%`` for rates, ``31,500`` for counts, ``—`` when none; a
    target the plan does not give (the office's assumption) is marked ``（暂定）``."""
    if target is None or direction == "none":
        return "—"
    text = fmt_value(target, kind)
    if kind == "rate" and target < 1:
        text = "≥" + text
    return text + ("（暂定）" if assumed else "")


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
