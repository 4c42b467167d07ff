"""The leaders' front page, read from the published snapshot (issue 19).

Top first: the campaign at a glance, the tasks most behind, the ranking (closed months as issued), the county
tile map, timeliness this week. Everything is inline (CSS, SVG), no scripts, no network; every figure says the
time of the data it shows and links to its task or unit page (``tasks/task-NN.html``, ``units/<id>.html``,
the same paths as the static site, so the export and the portal share the links)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from dashboards import data as d
from dashboards.formatting import fmt_change, fmt_value
from dashboards.leaders.render import render_page
from dashboards.leaders.snapshot import LeadersData, stamp
from dashboards.leaders.svg import sparkline, tile_map
from dashboards.leaders.tilemap import load_tilemap
from roadsafe.wording import cn_date, cn_month, local

__all__ = ["STATUS_ORDER", "FrontPage", "front_page", "gap_words", "moved_by", "render_front"]

# Task statuses of marts.fct_task_status, in the order the glance shows them.
STATUS_ORDER = ("正常推进", "滞后", "逾期未完成", "已完成")
_BEHIND = ("逾期未完成", "滞后")
_COMPONENTS = {"attainment": "目标完成", "timeliness": "报送及时", "quality": "数据质量"}
_SCOPES = {"county": "县（市、区）", "department": "市直部门"}
MOST_BEHIND = 5


@dataclass(frozen=True)
class FrontPage:
    """Everything the front page shows (plain values, ready for the template)."""

    campaign_name: str
    data_time: str
    glance: dict
    behind: list[dict]
    ranking_month: str | None
    ranking_note: str
    rankings: list[dict]
    tilemap_svg: str
    timeliness: dict


def _last_received(compliance: pl.DataFrame) -> dt.datetime | None:
    received = compliance["received_at"].drop_nulls()
    return received.max() if received.len() else None


def gap_words(gap: float | None, kind: str) -> str:
    """How far a value is from 序时进度 (the marts' ``gap`` = actual − expected; higher is better):
    ``落后序时进度 3.2个百分点`` / ``超出序时进度 120``."""
    if gap is None:
        return "本期数据缺报"
    behind = gap < 0
    size = f"{abs(gap) * 100:.1f}个百分点" if kind == "rate" else fmt_value(abs(gap), kind)
    if abs(gap) < 1e-9:
        return "与序时进度持平"
    return f"{'落后' if behind else '超出'}序时进度 {size}"


def _glance(data, as_of: dt.datetime) -> dict:
    ref, tz = data.reference, data.timezone
    periods = ref.periods
    start, end = periods["start_date"].min(), periods["end_date"].max()
    today = local(as_of, tz).date()
    upcoming = periods.filter(pl.col("due_at") > pl.lit(as_of).dt.convert_time_zone("Etc/UTC")).sort("due_at")
    now = data.tasks.filter(pl.col("period_no") == data.period_no)
    counts = {s: int((now["status"] == s).sum()) for s in STATUS_ORDER}
    last = _last_received(data.compliance)
    return {
        "day": min(max((today - start).days + 1, 1), (end - start).days + 1),
        "days": (end - start).days + 1,
        "start": cn_date(start),
        "end": cn_date(end),
        "period_label": ref.period(data.period_no)["label"],
        "last_data": stamp(last, tz) if last else "尚无报送",
        "next_due": (
            f"{upcoming['label'][0]}报送截止 {stamp(upcoming['due_at'][0], tz)}"
            if upcoming.height
            else "本期活动报送已全部截止"
        ),
        "counts": [
            {
                "status": s,
                "n": counts[s],
                "anchor": f"status-{i}",
                "tasks": now.filter(pl.col("status") == s).sort("task_no").select("task_no", "title").rows(),
            }
            for i, s in enumerate(STATUS_ORDER)
        ],
        "total": now.height,
    }


def _key_indicator(data, task_no: int) -> pl.DataFrame:
    """The task's first indicator at the widest scope, every period so far (the sparkline and the gap)."""
    codes = data.reference.indicators.filter(pl.col("task_nos").list.contains(task_no))["indicator_code"]
    for code in codes.to_list():
        rows = data.values.filter(pl.col("indicator_code") == code)
        wide = rows.filter(pl.col("unit_kind").is_in(["city", "group"]))
        rows = wide if wide.height else rows
        if rows.height:
            first_unit = rows.sort("unit_order")["unit_id"][0]
            return rows.filter(pl.col("unit_id") == first_unit).sort("period_no")
    return pl.DataFrame()


def _behind(data) -> list[dict]:
    now = data.tasks.filter((pl.col("period_no") == data.period_no) & pl.col("status").is_in(_BEHIND))
    words = data.lead_reports
    out = []
    for task in now.iter_rows(named=True):
        series = _key_indicator(data, task["task_no"])
        gap, spark, indicator = None, "", ""
        if series.height:
            last = series.row(-1, named=True)
            indicator = last["indicator_name"]
            if last["actual"] is not None and last["expected"] is not None:
                gap = last["actual"] - last["expected"]
                gap_text = gap_words(gap, last["kind"])
            else:
                gap_text = "本期数据缺报"
            spark = sparkline(
                series["actual"].to_list(),
                f"{indicator}逐周走势，最新 {fmt_value(last['actual'], last['kind'])}",
            )
        else:
            gap_text = "无量化指标"
        said = words.filter(pl.col("task_no") == task["task_no"])
        out.append(
            {
                "task_no": task["task_no"],
                "title": task["title"],
                "status": task["status"],
                "lead": task["lead_names"] or "—",
                "indicator": indicator,
                "gap": gap,
                "gap_text": gap_text,
                "spark": spark,
                "words": d.condense_lead_reports(said["progress"][0]) if said.height else None,
                "words_by": said["unit_name"][0] if said.height else None,
            }
        )
    # overdue before behind, then the widest shortfall first
    out.sort(key=lambda r: (r["status"] != "逾期未完成", r["gap"] if r["gap"] is not None else 0.0, r["task_no"]))
    return out[:MOST_BEHIND]


def moved_by(breakdown: pl.DataFrame, previous: pl.DataFrame, unit_id: str) -> str:
    """The score component that changed most since last month, ``目标完成 −3.2`` (empty when unknown)."""
    if previous.height == 0:
        return ""
    now = breakdown.filter(pl.col("unit_id") == unit_id)
    before = previous.filter(pl.col("unit_id") == unit_id)
    if now.height == 0 or before.height == 0:
        return ""
    deltas = {c: float(now[c][0]) - float(before[c][0]) for c in _COMPONENTS if now[c][0] is not None}
    if not deltas:
        return ""
    comp = max(deltas, key=lambda c: abs(deltas[c]))
    delta = deltas[comp]
    return "" if abs(delta) < 0.005 else f"{_COMPONENTS[comp]} {'+' if delta > 0 else '−'}{abs(delta):.2f}"


def _rankings(data, issued) -> list[dict]:
    if data.ranking_month is None:
        return []
    ranking = issued.ranking
    history = data.ranking_history
    months = sorted(history["month"].unique().to_list()) if history.height else []
    prev_month = months[-2] if len(months) > 1 else None
    previous = history.filter(pl.col("month") == prev_month) if prev_month else pl.DataFrame()
    tables = []
    for scope, name in _SCOPES.items():
        rows = ranking.filter(pl.col("scope") == scope).sort("rank")
        if rows.height == 0:
            continue
        prev_scope = previous.filter(pl.col("scope") == scope) if previous.height else previous
        tables.append(
            {
                "name": name,
                "scope": scope,
                "rows": [
                    {
                        "unit_id": r["unit_id"],
                        "unit_name": r["unit_name"],
                        "score": f"{r['score']:.2f}",
                        "rank": r["rank"],
                        "change": fmt_change(r["rank_change"]),
                        "direction": (
                            "new" if r["rank_change"] is None
                            else "up" if r["rank_change"] > 0
                            else "down" if r["rank_change"] < 0
                            else "same"
                        ),
                        "moved_by": moved_by(rows, prev_scope, r["unit_id"]),
                        "bottom": bool(r["is_bottom"]),
                        "changed": r["unit_id"] in issued.changed,
                    }
                    for r in rows.iter_rows(named=True)
                ],
            }
        )
    return tables


def _timeliness(data, duban: list[dict]) -> dict:
    ref, tz, n = data.reference, data.timezone, data.period_no
    week = data.compliance.filter(pl.col("period_no") == n)
    missing = week.filter(pl.col("received_at").is_null())
    late = week.filter(pl.col("received_at").is_not_null() & ~pl.col("on_time").fill_null(False))

    def by_unit(frame: pl.DataFrame) -> list[dict]:
        grouped = frame.group_by("unit_id", "unit_name", "unit_order").agg(pl.col("form_name").unique().sort())
        return [
            {"unit_id": r["unit_id"], "unit_name": r["unit_name"], "forms": "、".join(r["form_name"])}
            for r in grouped.sort("unit_order").iter_rows(named=True)
        ]

    return {
        "label": ref.period(n)["label"],
        "expected": week.height,
        "on_time": int(week["on_time"].fill_null(False).sum()),
        "missing": by_unit(missing),
        "late": by_unit(late),
        "duban": [
            {**b, "issued_text": cn_date(local(b["issued_at"], tz)), "deadline_text": cn_date(b["deadline"])}
            for b in duban
        ],
    }


def front_page(lead: LeadersData, campaign) -> FrontPage:
    """The front page's content from the leaders' data."""
    data, issued = lead.site, lead.issued
    month = data.ranking_month
    county_scores = {}
    if issued.ranking.height:
        counties = issued.ranking.filter(pl.col("scope") == "county")
        county_scores = dict(zip(counties["unit_id"].to_list(), counties["score"].to_list(), strict=True))
    caption = (
        f"各县（市、区）{cn_month(month)}综合得分地图，颜色越深蓝得分越高，越深红得分越低"
        if month
        else "各县（市、区）地图（尚无排名）"
    )
    return FrontPage(
        campaign_name=data.campaign_name,
        data_time=lead.data_time,
        glance=_glance(data, lead.as_of),
        behind=_behind(data),
        ranking_month=cn_month(month) if month else None,
        ranking_note=issued.note,
        rankings=_rankings(data, issued),
        tilemap_svg=tile_map(load_tilemap(campaign), county_scores, caption=caption, href="units/{unit_id}.html"),
        timeliness=_timeliness(data, lead.duban_week),
    )


def render_front(page: FrontPage, *, root: str = "", portal: bool = False) -> str:
    """The front page's HTML (one self-contained document; ``portal``: served behind the portal's login)."""
    return render_page(
        "leaders_front.html.j2",
        title="工作进展总览",
        root=root,
        portal=portal,
        page=page,
        campaign_name=page.campaign_name,
        data_time=page.data_time,
    )
