"""Sentences and small derived frames shared by the reports: the words a campaign office writes around
its figures (总体情况, 滞后单位, 报送情况, 数据说明), generated from the data, never typed by hand.

Examples
--------
>>> import polars as pl
>>> tasks = pl.DataFrame({"task_no": [1, 2, 3], "status": ["已完成", "滞后", "滞后"]})
>>> task_overview_sentence(tasks, "截至第5周，全部")
'截至第5周，全部3项整治任务中，已完成1项，滞后2项（第2、3项）。'
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from dashboards.data import Coverage
from dashboards.edition_meta import EditionMeta
from dashboards.formatting import STATUSES, fmt_value, issue_label, join_names
from roadsafe.wording import cn_date, cn_moment, cn_month_day, local

__all__ = [
    "BAD_STATUSES",
    "Quote",
    "TaskQuotes",
    "base_context",
    "compliance_sentence",
    "compliance_table_frame",
    "corrections_frame",
    "group_quotes",
    "indicator_sentence",
    "lagging_by_indicator",
    "lagging_sentence",
    "needs_attention",
    "period_text",
    "stamp_text",
    "task_overview_sentence",
    "value_pair",
]

# Statuses that name a unit in a bulletin.
BAD_STATUSES = ("滞后", "逾期未完成", "数据缺报")


def period_text(start: dt.date, end: dt.date) -> str:
    """``5月5日至5月11日`` (a single day when start == end)."""
    return cn_month_day(start) if start == end else f"{cn_month_day(start)}至{cn_month_day(end)}"


def base_context(meta: EditionMeta) -> dict:
    """What every report template prints around its body (heading, 期号, date, freeze time)."""
    tz = meta.campaign.timezone
    frozen = local(meta.frozen_at, tz)
    return {
        "meta": meta,
        "issue": issue_label(meta.issue_no),
        "issue_date": cn_date(local(meta.issue_at, tz)),
        "frozen_text": f"{cn_date(frozen)}{frozen.hour}时{frozen.minute:02d}分",
        "period_text": period_text(meta.start, meta.end),
    }


def stamp_text(coverage: Coverage, tz: str, scope: str = "") -> str:
    """``截至5月12日12时，应报42份，已报39份`` plus late arrivals before the edition was frozen."""
    cutoff = local(coverage.cutoff, tz)
    text = f"截至{cn_moment(cutoff)}，{scope}应报{coverage.expected}份，已报{coverage.received}份"
    if coverage.late_after:
        text += f"；此后至{cn_moment(local(coverage.until, tz))}补报{coverage.late_after}份"
    return text


def _count_phrase(status: str, task_nos: list[int], name_tasks: bool) -> str:
    phrase = f"{status}{len(task_nos)}项"
    if name_tasks and status in BAD_STATUSES + ("未启动",):
        phrase += "（第" + "、".join(str(n) for n in sorted(task_nos)) + "项）"
    return phrase


def task_overview_sentence(tasks: pl.DataFrame, lead: str, *, name_tasks: bool = True) -> str:
    """``截至第5周，全部26项整治任务中，已完成8项，正常推进10项，滞后3项（第1、4、12项）…。``

    ``tasks`` columns: task_no, status (one row per task). ``lead`` is written before the count:
    ``截至第5周，全部`` or ``本组``.
    """
    by_status: dict[str, list[int]] = defaultdict(list)
    for rec in tasks.iter_rows(named=True):
        by_status[rec["status"] or "数据缺报"].append(rec["task_no"])
    parts = [_count_phrase(s, by_status[s], name_tasks) for s in STATUSES if by_status.get(s)]
    parts += [_count_phrase(s, v, name_tasks) for s, v in by_status.items() if s not in STATUSES]
    return f"{lead}{tasks.height}项整治任务中，" + "，".join(parts) + "。"


def indicator_sentence(values: pl.DataFrame) -> str:
    """``纳入监测的13项量化指标中，已完成2项，正常推进6项，滞后3项（重点车辆检验率、…）。``

    ``values``: one row per indicator at the aggregate scope (columns indicator_name, status, direction).
    """
    measured = values.filter(pl.col("direction") != "none")
    if measured.height == 0:
        return ""
    by_status: dict[str, list[str]] = defaultdict(list)
    for rec in measured.iter_rows(named=True):
        by_status[rec["status"] or "数据缺报"].append(rec["indicator_name"])
    parts = []
    for status in [*STATUSES, *(s for s in by_status if s not in STATUSES)]:
        names = by_status.get(status)
        if not names:
            continue
        phrase = f"{status}{len(names)}项"
        if status in BAD_STATUSES:
            phrase += f"（{join_names(names)}）"
        parts.append(phrase)
    return f"纳入监测的{measured.height}项量化指标中，" + "，".join(parts) + "。"


def lagging_by_indicator(county_values: pl.DataFrame) -> dict[str, dict[str, list[str]]]:
    """indicator_code → status → unit names, for the statuses in :data:`BAD_STATUSES` (in that order), the
    units in unit order."""
    out: dict[str, dict[str, list[str]]] = {}
    rows = county_values.filter(pl.col("status").is_in(list(BAD_STATUSES))).sort(
        ["indicator_code", "unit_order"]
    )
    for rec in rows.iter_rows(named=True):
        out.setdefault(rec["indicator_code"], {}).setdefault(rec["status"], []).append(rec["unit_name"])
    return {code: {s: by[s] for s in BAD_STATUSES if s in by} for code, by in out.items()}


def lagging_sentence(indicator_name: str, by_status: dict[str, list[str]]) -> str:
    """``重点车辆检验率：滞后的有浔阳区、濂溪区；数据缺报的有都昌县。``"""
    parts = [f"{status}的有{join_names(names)}" for status, names in by_status.items() if names]
    return f"{indicator_name}：" + "；".join(parts) + "。"


def compliance_table_frame(compliance: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Rows not submitted on time, formatted: unit_name, form_name, due, received, status."""
    rows = compliance.filter(~pl.col("on_time").fill_null(False)).sort(
        ["unit_order", "form_code", "period_no"]
    )
    out = {"unit_name": [], "form_name": [], "due": [], "received": [], "status": []}
    for rec in rows.iter_rows(named=True):
        out["unit_name"].append(rec["unit_name"])
        out["form_name"].append(f"{rec['form_code']} {rec['form_name']}")
        out["due"].append(cn_moment(local(rec["due_at"], tz)))
        if rec["received_at"] is None:
            out["received"].append("—")
            out["status"].append("未报")
        else:
            out["received"].append(cn_moment(local(rec["received_at"], tz)))
            out["status"].append("逾期报送")
    return pl.DataFrame(out, schema={k: pl.String for k in out})


def compliance_sentence(compliance: pl.DataFrame, what: str = "本周") -> str:
    """``本周应报报表94份，按时报送89份，逾期报送2份，未报送3份。未报送的有：都昌县（F4 …）…``; a late or missing
    report the office excused (情况说明) is counted and named as such, neither late nor missing."""
    total = compliance.height
    excused = pl.col("excused").fill_null(False) if "excused" in compliance.columns else pl.lit(False)
    on_time = compliance.filter(pl.col("on_time").fill_null(False) & ~excused).height
    missing = compliance.filter(pl.col("received_at").is_null() & ~excused)
    late = compliance.filter(pl.col("received_at").is_not_null() & ~pl.col("on_time").fill_null(False) & ~excused)
    explained = compliance.filter(excused)
    text = f"{what}应报报表{total}份，按时报送{on_time}份，逾期报送{late.height}份，未报送{missing.height}份"
    text += f"，已说明情况{explained.height}份。" if explained.height else "。"

    def named(frame: pl.DataFrame) -> str:
        groups: dict[str, list[str]] = {}
        for rec in frame.sort(["unit_order", "form_code"]).iter_rows(named=True):
            groups.setdefault(rec["unit_name"], []).append(rec["form_name"])
        return "；".join(f"{unit}（{join_names(forms)}）" for unit, forms in groups.items())

    for frame, word in ((missing, "未报送"), (late, "逾期报送"), (explained, "已说明情况")):
        if frame.height:
            text += f"{word}的有：{named(frame)}。"
    return text


def corrections_frame(corrections: pl.DataFrame, periods: pl.DataFrame, tz: str) -> pl.DataFrame:
    """The correction log formatted for the table: received, unit_name, form_name, period, kind,
    submission_id, replaces."""
    labels = dict(zip(periods["period_no"].to_list(), periods["label"].to_list(), strict=True))
    out = {
        k: [] for k in ("received", "unit_name", "form_name", "period", "kind", "submission_id", "replaces")
    }
    for rec in corrections.iter_rows(named=True) if corrections.height else []:
        out["received"].append(cn_moment(local(rec["received_at"], tz)))
        out["unit_name"].append(rec["unit_name"])
        out["form_name"].append(f"{rec['form_code']} {rec['form_name'] or ''}".strip())
        out["period"].append(labels.get(rec["period_no"], str(rec["period_no"])))
        out["kind"].append(rec["kind"])
        out["submission_id"].append(rec["submission_id"])
        out["replaces"].append(rec["replaces"])
    return pl.DataFrame(out, schema={k: pl.String for k in out})


@dataclass(frozen=True)
class Quote:
    """A lead unit's own words for one task (F9), attributed."""

    unit_name: str
    status: str | None
    progress: str | None
    difficulties: str | None


@dataclass(frozen=True)
class TaskQuotes:
    task_no: int
    title: str
    task_status: str | None
    quotes: list[Quote]
    summary: str = ""


def needs_attention(quotes: TaskQuotes) -> bool:
    """Whether a task's F9 words belong in the bulletin's text: the task is behind, overdue or without
    data, or a lead unit names difficulties."""
    return quotes.task_status in BAD_STATUSES + ("未启动",) or any(q.difficulties for q in quotes.quotes)


def group_quotes(lead_reports: pl.DataFrame, tasks: pl.DataFrame, *, max_quotes: int = 3) -> list[TaskQuotes]:
    """The F9 words per task, in task order. A task with many lead units (e.g. every county) quotes only
    the units that name difficulties or are not done, and counts the rest."""
    out = []
    for task in tasks.sort("task_no").iter_rows(named=True):
        rows = lead_reports.filter(pl.col("task_no") == task["task_no"])
        quotes = [
            Quote(r["unit_name"], r["status"], _clean(r["progress"]), _clean(r["difficulties"]))
            for r in rows.iter_rows(named=True)
        ]
        summary = ""
        if len(quotes) > max_quotes:
            counts: dict[str, int] = defaultdict(int)
            for q in quotes:
                counts[q.status or "未填"] += 1
            summary = (
                f"{len(quotes)}个牵头单位报告：" + "，".join(f"{s}{n}个" for s, n in counts.items()) + "。"
            )
            quotes = [q for q in quotes if q.difficulties or q.status != "已完成"][:max_quotes]
        if quotes or summary:
            out.append(TaskQuotes(task["task_no"], task["title"], task["status"], quotes, summary))
    return out


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    return text or None


def value_pair(actual: float | None, expected: float | None, kind: str) -> str:
    """``实际61.2%，序时进度65.0%``."""
    return f"实际{fmt_value(actual, kind)}，序时进度{fmt_value(expected, kind)}"
