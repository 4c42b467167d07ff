"""The pieces the task and unit pages share: an indicator's series week by week with where each value came
from, its trend chart, and the deadline in words."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboards.formatting import fmt_value
from dashboards.leaders.front import gap_words
from dashboards.leaders.snapshot import LeadersData, origins
from dashboards.leaders.svg import trend_chart
from roadsafe.wording import cn_date, local

__all__ = ["deadline_words", "indicator_block", "today_of", "widest_unit"]


def today_of(lead: LeadersData) -> dt.date:
    return local(lead.as_of, lead.site.timezone).date()


def deadline_words(deadline: dt.date | None, today: dt.date, done: bool) -> str:
    """``完成时限 2022年6月30日，还有 12 天`` / ``…，已超过 5 天`` / ``…（已完成）``."""
    if deadline is None:
        return "完成时限：长期坚持"
    head = f"完成时限 {cn_date(deadline)}"
    if done:
        return head + "（已完成）"
    days = (deadline - today).days
    if days > 0:
        return f"{head}，还有 {days} 天"
    if days == 0:
        return f"{head}，今日到期"
    return f"{head}，已超过 {-days} 天"


def widest_unit(lead: LeadersData, code: str) -> str | None:
    """The scope a task's indicator is judged at: the city or a group when it has one, else the first unit."""
    rows = lead.site.values.filter(pl.col("indicator_code") == code)
    if rows.height == 0:
        return None
    wide = rows.filter(pl.col("unit_kind").is_in(["city", "group"]))
    return (wide if wide.height else rows).sort("unit_order")["unit_id"][0]


def _series(lead: LeadersData, code: str, unit_id: str) -> pl.DataFrame:
    site = lead.site
    rows = site.values.filter((pl.col("indicator_code") == code) & (pl.col("unit_id") == unit_id))
    rows = rows.join(site.reference.periods.select("period_no", "label"), on="period_no", how="left")
    return rows.join(lead.values_src, on=["indicator_code", "unit_id", "period_no"], how="left").sort(
        "period_no"
    )


def indicator_block(lead: LeadersData, code: str, unit_id: str) -> dict | None:
    """One indicator of one unit: the latest value against 序时进度, the chart, and every week (newest
    first) with the files and rows the value was computed from."""
    series = _series(lead, code, unit_id)
    if series.height == 0:
        return None
    last = series.row(-1, named=True)
    kind = last["kind"]

    def fmt(v):
        return fmt_value(v, kind)

    has_target = last["direction"] != "none"
    weeks = [
        {
            "label": r["label"],
            "actual": fmt(r["actual"]),
            "expected": fmt(r["expected"]) if has_target else "—",
            "status": r["status"],
            "origins": [o.text() for o in origins(r["source_rows"], lead.files)],
        }
        for r in reversed(list(series.iter_rows(named=True)))
    ]
    name = f"{last['indicator_name']}（{last['unit_name']}）"
    actual = series["actual"].to_list()
    chart = ""
    if any(v is not None for v in actual):
        alt = f"{name}逐周走势：最新{last['label']} {fmt(last['actual'])}"
        if has_target and last["expected"] is not None:
            alt += f"，序时进度 {fmt(last['expected'])}"
        chart = trend_chart(
            series["label"].to_list(),
            actual,
            series["expected"].to_list() if has_target else [None] * series.height,
            label=alt + "。逐周数值见下表。",
            fmt=lambda v: fmt_value(v, kind, digits=0),
        )
    return {
        "code": code,
        "name": name,
        "unit_id": unit_id,
        "label": last["label"],
        "actual": fmt(last["actual"]),
        "expected": fmt(last["expected"]) if has_target else "—",
        "target": fmt(last["target"]) if has_target else "—",
        "status": last["status"],
        "gap_text": (
            gap_words(last["gap"], kind)
            if has_target and last["expected"] is not None and last["actual"] is not None
            else ("本期数据缺报" if last["status"] == "数据缺报" else "不设序时进度")
        ),
        "gap": last["gap"],
        "chart": chart,
        "weeks": weeks,
    }
