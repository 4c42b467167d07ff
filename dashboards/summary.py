"""The monthly summary (工作小结): the month's progress in prose and tables — tasks and indicators at
month end against the previous month end, trend charts, submissions per unit, the ranking in a
sentence, each responsible unit's own 月度工作小结 (quoted, or 未报送), the difficulties units reported
(quoted), and what falls due next month.

Examples
--------
>>> doc = build_summary(collect_summary(con, meta), meta)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import polars as pl

from dashboards import data as d
from dashboards.edition_meta import EditionMeta
from dashboards.formatting import fmt_deadline, fmt_value
from dashboards.key_indicators import key_indicator_charts
from dashboards.narrative import (
    base_context,
    compliance_sentence,
    corrections_frame,
    indicator_sentence,
    period_text,
    stamp_text,
    task_overview_sentence,
)
from dashboards.ranking import SCOPES, ranking_sentence
from dashboards.rendering import Document, render_template
from dashboards.tables import (
    build_corrections_table,
    build_month_indicator_table,
    build_task_overview_table,
    build_unit_compliance_table,
    to_html,
)
from dashboards.workbook import Sheet
from roadsafe.wording import cn_lateness, cn_numeral, cn_short

__all__ = [
    "SummaryData",
    "build_summary",
    "collect_summary",
    "compliance_sheet",
    "unit_compliance_summary",
    "unit_summary_quotes",
]


@dataclass(frozen=True)
class SummaryData:
    """The month's figures, from the frozen snapshot."""

    reference: d.Reference
    values: pl.DataFrame  # indicator values, weeks 1..N
    tasks: pl.DataFrame  # task status, weeks 1..N
    compliance: pl.DataFrame  # the month's weeks, as of the edition
    ranking: pl.DataFrame
    lead_reports: pl.DataFrame  # F9 of the month's last week
    coverage: d.Coverage
    corrections: pl.DataFrame
    previous_period: int | None  # last week of the previous month's edition
    unit_documents: pl.DataFrame | None = None  # the units' own 月度小结 of the month (read_unit_documents)


def collect_summary(con, meta: EditionMeta) -> SummaryData:
    """Read the summary's data from an open snapshot connection."""
    n = meta.period_no
    previous = meta.previous.max_period if meta.previous else None
    corrections = pl.DataFrame()
    if meta.previous is not None:
        corrections = d.read_corrections(con, meta.previous.until, meta.until, meta.previous.max_period)
    return SummaryData(
        reference=d.read_reference(con),
        values=d.read_indicator_values(con, upto=n),
        tasks=d.read_task_status(con, upto=n),
        compliance=d.read_compliance(con, period_nos=list(meta.period_nos), as_of=meta.until),
        ranking=d.read_ranking(con, meta.month),
        lead_reports=d.read_lead_reports(con, n),
        coverage=d.read_coverage(con, list(meta.period_nos), meta.cutoff, meta.until),
        corrections=corrections,
        previous_period=previous,
        unit_documents=d.read_unit_documents(con, meta.month),
    )


def _month_end(month: str, ahead: int) -> dt.date:
    """Last day of ``month`` + ``ahead`` months."""
    year, mon = int(month[:4]), int(month[5:]) + ahead + 1
    year, mon = year + (mon - 1) // 12, (mon - 1) % 12 + 1
    return dt.date(year, mon, 1) - dt.timedelta(days=1)


def compliance_sheet(per_unit: pl.DataFrame) -> Sheet:
    """The workbook's 报送情况 sheet: each unit's expected, on-time, late and missing reports."""
    return Sheet(
        "报送情况",
        per_unit.select(
            pl.col("unit_name").alias("单位"),
            pl.col("expected").alias("应报"),
            pl.col("on_time").alias("按时报送"),
            pl.col("late").alias("逾期报送"),
            pl.col("missing").alias("未报送"),
        ),
    )


def unit_compliance_summary(compliance: pl.DataFrame) -> pl.DataFrame:
    """Per unit: unit_name, unit_order, expected, on_time, late, missing (over the frame's rows)."""
    return (
        compliance.group_by("unit_id", "unit_name", "unit_order")
        .agg(
            pl.len().alias("expected"),
            pl.col("on_time").fill_null(False).sum().alias("on_time"),
            (pl.col("received_at").is_not_null() & ~pl.col("on_time").fill_null(False)).sum().alias("late"),
            pl.col("received_at").is_null().sum().alias("missing"),
        )
        .sort("unit_order")
    )


EXCERPT_CHARS = 120


def unit_summary_quotes(documents: pl.DataFrame | None, tz: str) -> list[dict]:
    """Per responsible unit, its own 月度工作小结 of the month as quoted in the summary: unit_name, received,
    title, status (``5月31日 10:00报送，按时`` / ``逾期3小时2分钟`` / ``未报送``) and an excerpt of its text
    (the title left out, at most :data:`EXCERPT_CHARS` characters; empty when no text could be read)."""
    if documents is None or not documents.height:
        return []
    out = []
    for r in documents.iter_rows(named=True):
        if not r["received"]:
            out.append(
                {
                    "unit_name": r["unit_name"],
                    "received": False,
                    "title": "",
                    "status": "未报送",
                    "excerpt": "",
                }
            )
            continue
        title = r["title"] or r["name"]
        text = " ".join((r["excerpt"] or "").split())
        if text.startswith(title):
            text = text[len(title) :].strip()
        if len(text) > EXCERPT_CHARS:
            text = text[:EXCERPT_CHARS] + "……"
        when = cn_short(r["received_at"], ZoneInfo(tz))
        status = f"{when}报送，{cn_lateness(r['minutes_late'])}"
        out.append(
            {"unit_name": r["unit_name"], "received": True, "title": title, "status": status, "excerpt": text}
        )
    return out


def build_summary(data: SummaryData, meta: EditionMeta) -> Document:
    """Lay out the monthly summary."""
    ref, n, tz = data.reference, meta.period_no, meta.campaign.timezone
    prev_n = data.previous_period
    label_n = ref.period(n)["label"]
    first, last = ref.period(min(meta.period_nos)), ref.period(n)
    span = f"{first['label']}至{last['label']}" if first["period_no"] != n else label_n

    tasks_now = data.tasks.filter(pl.col("period_no") == n).sort("task_no")
    tasks_prev = data.tasks.filter(pl.col("period_no") == prev_n) if prev_n else data.tasks.clear()
    tasks_table = tasks_now.join(
        tasks_prev.select("task_no", pl.col("status").alias("上月末状态")), on="task_no", how="left"
    )
    done_now = tasks_now.filter(pl.col("status") == "已完成").height
    done_prev = tasks_prev.filter(pl.col("status") == "已完成").height if prev_n else None

    with_rules = data.values.join(
        ref.indicators.select("indicator_code", "deadline_rule"), on="indicator_code", how="left"
    )
    aggregate = with_rules.filter(pl.col("unit_kind").is_in(["city", "group"]))
    now = aggregate.filter(pl.col("period_no") == n)
    prev = (
        aggregate.filter(pl.col("period_no") == prev_n).select(
            "indicator_code", "unit_id", pl.col("actual").alias("previous")
        )
        if prev_n
        else pl.DataFrame(schema={"indicator_code": pl.String, "unit_id": pl.String, "previous": pl.Float64})
    )
    month_values = now.join(prev, on=["indicator_code", "unit_id"], how="left").sort(
        ["indicator_code", "unit_order"]
    )

    # ---- 一、总体进展
    progress = [
        f"{meta.label}（{span}，{period_text(meta.start, meta.end)}），"
        f"各责任单位按照{meta.campaign.document}的部署，持续推进专项整治各项任务。"
    ]
    overview = task_overview_sentence(tasks_now, f"截至{label_n}，全部")
    if done_prev is not None:
        overview = overview.rstrip("。") + f"；已完成任务较上月末增加{done_now - done_prev}项。"
    progress.append(overview)
    ind = indicator_sentence(month_values.filter(~pl.col("is_goal")))
    if ind:
        progress.append(ind)
    for g in month_values.filter(pl.col("is_goal")).iter_rows(named=True):
        progress.append(
            f"总体目标方面，{g['unit_name']}{g['indicator_name']}为{fmt_value(g['actual'], g['kind'])}"
            f"（目标{fmt_value(g['target'], g['kind'])}{'（暂定）' if g['target_is_assumption'] else ''}，序时进度{fmt_value(g['expected'], g['kind'])}），"
            f"{g['status'] or '—'}。"
        )

    # ---- charts
    charts = key_indicator_charts(
        data.values, ref, meta.campaign.key_indicators, chart_prefix="month", period=f"截至{label_n}"
    )

    # ---- 报送
    per_unit = unit_compliance_summary(data.compliance)
    not_clean = per_unit.filter((pl.col("late") > 0) | (pl.col("missing") > 0))

    # ---- 排名
    ranking_lines = []
    for scope, scope_name in SCOPES.items():
        table = data.ranking.filter(pl.col("scope") == scope).sort("rank")
        if table.height:
            ranking_lines.append(ranking_sentence(table, scope_name, meta.campaign.bottom_marked))

    # ---- 各单位月度工作小结 (the units' own words)
    unit_summaries = unit_summary_quotes(data.unit_documents, tz)

    # ---- 困难和问题 (quoted)
    difficulties = [
        {"unit_name": r["unit_name"], "task_no": r["task_no"], "text": " ".join(r["difficulties"].split())}
        for r in data.lead_reports.sort(["task_no", "unit_name"]).iter_rows(named=True)
        if r["difficulties"] and r["difficulties"].strip()
    ]

    # ---- 下月工作安排
    month_end, next_end = _month_end(meta.month, 0), _month_end(meta.month, 1)
    upcoming = tasks_now.filter(
        (pl.col("status") != "已完成") & (pl.col("deadline") > month_end) & (pl.col("deadline") <= next_end)
    )
    overdue = tasks_now.filter(pl.col("status") == "逾期未完成")
    plan = []
    if overdue.height:
        plan.append(
            "逾期未完成的第"
            + "、".join(str(t) for t in overdue["task_no"].to_list())
            + "项任务，牵头单位要明确补救措施和完成时间，尽快完成。"
        )
    if upcoming.height:
        plan.append(
            "下月到期的任务："
            + "；".join(
                f"第{r['task_no']}项{r['title']}（{r['lead_names']}，{fmt_deadline(r['deadline'])}前）"
                for r in upcoming.iter_rows(named=True)
            )
            + "，请牵头单位倒排工期，确保按期完成。"
        )
    plan.append("继续落实“一周一通报、一周一调度、一月一排名、一月一小结”工作机制，按时报送各类报表。")

    corrections = corrections_frame(data.corrections, ref.periods, tz)
    parts = ["progress", "tasks", "indicators", "compliance"] + (["ranking"] if ranking_lines else [])
    parts += (["unit_summaries"] if unit_summaries else []) + ["difficulties", "corrections", "plan"]
    num = {p: cn_numeral(i) for i, p in enumerate(parts, start=1)}
    stamp = stamp_text(data.coverage, tz, "本月")
    html = render_template(
        "summary.html.j2",
        **base_context(meta),
        num=num,
        stamp=stamp,
        progress=progress,
        tasks_table=to_html(
            build_task_overview_table(tasks_table, table_id="month-tasks", extra="上月末状态")
            if prev_n
            else build_task_overview_table(tasks_table, table_id="month-tasks")
        ),
        indicator_table=to_html(build_month_indicator_table(month_values, table_id="month-indicators"))
        if month_values.height
        else "",
        charts=charts,
        compliance_text=compliance_sentence(data.compliance, "本月"),
        unit_table=to_html(build_unit_compliance_table(not_clean, table_id="month-units"))
        if not_clean.height
        else "",
        ranking_lines=ranking_lines,
        difficulties=difficulties,
        unit_summaries=unit_summaries,
        corrections_table=to_html(build_corrections_table(corrections, table_id="month-corrections"))
        if corrections.height
        else "",
        previous=meta.previous,
        plan=plan,
        label_n=label_n,
    )
    sheets = [
        Sheet(
            "任务推进情况",
            pl.DataFrame(
                {
                    "序号": tasks_table["task_no"].to_list(),
                    "任务": tasks_table["title"].to_list(),
                    "牵头单位": tasks_table["lead_names"].to_list(),
                    "完成时限": [x.isoformat() if x else None for x in tasks_table["deadline"].to_list()],
                    "上月末状态": tasks_table["上月末状态"].to_list(),
                    "本月末状态": tasks_table["status"].to_list(),
                },
                schema_overrides={"上月末状态": pl.String},
            ),
            title=f"{meta.title}（第{meta.issue_no}期）",
        ),
        Sheet(
            "指标完成情况",
            pl.DataFrame(
                {
                    "指标编号": month_values["indicator_code"].to_list(),
                    "指标": month_values["indicator_name"].to_list(),
                    "范围": month_values["unit_name"].to_list(),
                    "上月末": [
                        fmt_value(v, k)
                        for v, k in zip(month_values["previous"], month_values["kind"], strict=True)
                    ],
                    "本月末": [
                        fmt_value(v, k)
                        for v, k in zip(month_values["actual"], month_values["kind"], strict=True)
                    ],
                    "序时进度": [
                        fmt_value(v, k)
                        for v, k in zip(month_values["expected"], month_values["kind"], strict=True)
                    ],
                    "状态": month_values["status"].to_list(),
                }
            ),
        ),
        compliance_sheet(per_unit),
        Sheet(
            "困难问题",
            pl.DataFrame(
                {
                    "任务编号": [x["task_no"] for x in difficulties],
                    "单位": [x["unit_name"] for x in difficulties],
                    "推进中的困难问题及有关建议": [x["text"] for x in difficulties],
                },
                schema={"任务编号": pl.Int64, "单位": pl.String, "推进中的困难问题及有关建议": pl.String},
            ),
            widths={"推进中的困难问题及有关建议": 60},
        ),
    ]
    if unit_summaries:
        sheets.append(
            Sheet(
                "单位小结",
                pl.DataFrame(
                    {
                        "单位": [x["unit_name"] for x in unit_summaries],
                        "报送情况": [x["status"] for x in unit_summaries],
                        "标题": [x["title"] for x in unit_summaries],
                        "摘录": [x["excerpt"] for x in unit_summaries],
                    },
                    schema={"单位": pl.String, "报送情况": pl.String, "标题": pl.String, "摘录": pl.String},
                ),
                widths={"摘录": 60},
            )
        )
    summary = "\n".join([f"{meta.title}（第{meta.issue_no}期）", stamp, *progress])
    return Document(
        stem="summary",
        title=f"{meta.title}（第{meta.issue_no}期）",
        html=html,
        sheets=sheets,
        summary=summary,
    )
