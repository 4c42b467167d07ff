"""Span reports over several reporting periods: the half-year summary (半年工作总结) and the yearly
assessment (年度考核) of a standing mechanism, and the end-of-campaign assessment (总结评估: "专项整治结束后…
及时做好总结评估", 九府办字[2022]36号). Each reports, at the span's last period whose forms were due by the
issue time: every task's status (done, done late, not done), the indicators against their targets (targets
that are the office's assumption marked （暂定）), submissions over the span per unit, and the difficulties
the lead units reported (quoted).

Examples
--------
>>> doc = build_assessment(collect_assessment(con, meta), meta)  # doctest: +SKIP
>>> doc.stem
'assessment'
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from great_tables import GT

from dashboards import data as d
from dashboards.edition_meta import EditionMeta
from dashboards.formatting import fmt_deadline, fmt_target, fmt_value
from dashboards.narrative import (
    base_context,
    compliance_sentence,
    indicator_sentence,
    period_text,
    stamp_text,
    task_overview_sentence,
)
from dashboards.rendering import Document, render_template
from dashboards.summary import compliance_sheet, unit_compliance_summary
from dashboards.tables import (
    build_task_overview_table,
    build_unit_compliance_table,
    gov_table_style,
    to_html,
)
from dashboards.workbook import Sheet
from roadsafe.wording import cn_numeral

__all__ = ["AssessmentData", "build_assessment", "collect_assessment", "target_text"]


@dataclass(frozen=True)
class AssessmentData:
    """The span's figures, from the frozen snapshot."""

    reference: d.Reference
    values: pl.DataFrame  # indicator values at the span's last period
    tasks: pl.DataFrame  # task status, periods 1..N
    compliance: pl.DataFrame  # the span's periods, as of the edition
    lead_reports: pl.DataFrame  # the task reports of the span's last period
    coverage: d.Coverage


def collect_assessment(con, meta: EditionMeta) -> AssessmentData:
    """Read the span report's data from an open snapshot connection."""
    n = meta.period_no
    return AssessmentData(
        reference=d.read_reference(con),
        values=d.read_indicator_values(con, period_no=n),
        tasks=d.read_task_status(con, upto=n),
        compliance=d.read_compliance(con, period_nos=list(meta.period_nos), as_of=meta.until),
        lead_reports=d.read_lead_reports(con, n),
        coverage=d.read_coverage(con, list(meta.period_nos), meta.cutoff, meta.until),
    )


def target_text(row: dict) -> str:
    """The target as printed: ``≥95.0%``, with （暂定） when it is the office's assumption, not the plan's."""
    return fmt_target(row["target"], row["kind"], row["direction"], row.get("target_is_assumption"))


def _indicator_table(values: pl.DataFrame, *, table_id: str) -> GT:
    rows = list(values.iter_rows(named=True))
    cols = ("指标", "目标", "完成时限", "期末完成", "状态")
    frame = pl.DataFrame(
        {
            "指标": [
                r["indicator_name"]
                if r["unit_kind"] == "city"
                else f"{r['indicator_name']}（{r['unit_name']}）"
                for r in rows
            ],
            "目标": [target_text(r) for r in rows],
            "完成时限": [fmt_deadline(r["deadline"], r["deadline_rule"]) for r in rows],
            "期末完成": [fmt_value(r["actual"], r["kind"]) for r in rows],
            "状态": [r["status"] or "—" for r in rows],
        },
        schema={c: pl.String for c in cols},
    )
    return (
        GT(frame, id=table_id)
        .cols_align(align="center", columns=[c for c in cols if c != "指标"])
        .pipe(gov_table_style)
    )


def _done_in_time(
    tasks: pl.DataFrame, periods: pl.DataFrame, n: int
) -> tuple[list[int], list[int], list[int]]:
    """Task numbers done by their deadline, done after it (first reported done in a period starting after
    the deadline, as fct_task_status judges it), and not done, as of period ``n``."""
    now = tasks.filter(pl.col("period_no") == n)
    starts = dict(zip(periods["period_no"].to_list(), periods["start_date"].to_list(), strict=True))
    first_done = (
        tasks.filter(pl.col("status") == "已完成")
        .group_by("task_no")
        .agg(pl.col("period_no").min().alias("first"))
    )
    first = dict(zip(first_done["task_no"].to_list(), first_done["first"].to_list(), strict=True))
    done, late, not_done = [], [], []
    for task_no, status, deadline in now.select("task_no", "status", "deadline").iter_rows():
        if status != "已完成":
            not_done.append(task_no)
        elif deadline is not None and starts[first[task_no]] > deadline:
            late.append(task_no)
        else:
            done.append(task_no)
    return sorted(done), sorted(late), sorted(not_done)


def build_assessment(data: AssessmentData, meta: EditionMeta) -> Document:
    """Lay out the span report."""
    ref, n, tz = data.reference, meta.period_no, meta.campaign.timezone
    label_n = ref.period(n)["label"]
    first = ref.period(min(meta.period_nos))
    span = f"{first['label']}至{label_n}" if first["period_no"] != n else label_n

    tasks_now = data.tasks.filter(pl.col("period_no") == n).sort("task_no")
    on_time, late, not_done = _done_in_time(data.tasks, ref.periods, n)
    values = data.values.join(
        ref.indicators.select("indicator_code", "deadline_rule"), on="indicator_code", how="left"
    )
    aggregate = values.filter(pl.col("unit_kind").is_in(["city", "group"])).sort(
        ["indicator_code", "unit_order"]
    )

    when = (
        period_text(meta.start, meta.end)
        if span == meta.label
        else f"{span}，{period_text(meta.start, meta.end)}"
    )
    overview = [
        f"{meta.label}（{when}），各责任单位按照{meta.campaign.document}"
        f"的部署推进各项工作，现将{meta.report_name}情况报告如下。",
        task_overview_sentence(tasks_now, f"截至{label_n}，全部"),
    ]
    done_line = f"按期完成{len(on_time)}项"
    if late:
        done_line += f"，逾期后完成{len(late)}项（第{'、'.join(map(str, late))}项）"
    if not_done:
        done_line += f"，尚未完成{len(not_done)}项（第{'、'.join(map(str, not_done))}项）"
    overview.append(f"对照各项任务的完成时限，{done_line}。")
    ind = indicator_sentence(aggregate.filter(~pl.col("is_goal")))
    if ind:
        overview.append(ind)
    for g in aggregate.filter(pl.col("is_goal")).iter_rows(named=True):
        overview.append(
            f"总体目标方面，{g['unit_name']}{g['indicator_name']}为{fmt_value(g['actual'], g['kind'])}"
            f"（目标{target_text(g)}），{g['status'] or '—'}。"
        )
    if aggregate.filter(pl.col("target_is_assumption")).height:
        overview.append("标注“（暂定）”的目标值为方案未明确、由本办暂定的口径。")

    per_unit = unit_compliance_summary(data.compliance)
    not_clean = per_unit.filter((pl.col("late") > 0) | (pl.col("missing") > 0))
    difficulties = [
        {"unit_name": r["unit_name"], "task_no": r["task_no"], "text": " ".join(r["difficulties"].split())}
        for r in data.lead_reports.sort(["task_no", "unit_name"]).iter_rows(named=True)
        if r["difficulties"] and r["difficulties"].strip()
    ]
    plan = []
    if not_done:
        plan.append(
            "尚未完成的第"
            + "、".join(map(str, not_done))
            + "项任务，牵头单位要明确完成时间，继续推进，按期报告。"
        )
    plan.append("梳理总结工作成果和经验做法，固化相关机制、制度，长期保持道路交通安全综合治理高压态势。")

    parts = ["overview", "tasks", "indicators", "compliance", "difficulties", "plan"]
    num = {p: cn_numeral(i) for i, p in enumerate(parts, start=1)}
    stamp = stamp_text(data.coverage, tz, "期间")
    html = render_template(
        "assessment.html.j2",
        **base_context(meta),
        num=num,
        stamp=stamp,
        overview=overview,
        label_n=label_n,
        tasks_table=to_html(build_task_overview_table(tasks_now, table_id="span-tasks")),
        indicator_table=to_html(_indicator_table(aggregate, table_id="span-indicators"))
        if aggregate.height
        else "",
        compliance_text=compliance_sentence(data.compliance, "期间"),
        unit_table=to_html(build_unit_compliance_table(not_clean, table_id="span-units"))
        if not_clean.height
        else "",
        difficulties=difficulties,
        plan=plan,
    )
    sheets = [
        Sheet(
            "任务完成情况",
            pl.DataFrame(
                {
                    "序号": tasks_now["task_no"].to_list(),
                    "任务": tasks_now["title"].to_list(),
                    "牵头单位": tasks_now["lead_names"].to_list(),
                    "完成时限": [x.isoformat() if x else None for x in tasks_now["deadline"].to_list()],
                    "期末状态": tasks_now["status"].to_list(),
                }
            ),
            title=f"{meta.title}（第{meta.issue_no}期）",
        ),
        Sheet(
            "指标完成情况",
            pl.DataFrame(
                {
                    "指标编号": aggregate["indicator_code"].to_list(),
                    "指标": aggregate["indicator_name"].to_list(),
                    "范围": aggregate["unit_name"].to_list(),
                    "目标": [target_text(r) for r in aggregate.iter_rows(named=True)],
                    "期末完成": [
                        fmt_value(v, k) for v, k in zip(aggregate["actual"], aggregate["kind"], strict=True)
                    ],
                    "状态": aggregate["status"].to_list(),
                },
                schema_overrides={"状态": pl.String},
            ),
        ),
        compliance_sheet(per_unit),
    ]
    summary = "\n".join([f"{meta.title}（第{meta.issue_no}期）", stamp, *overview])
    return Document(
        stem="assessment",
        title=f"{meta.title}（第{meta.issue_no}期）",
        html=html,
        sheets=sheets,
        summary=summary,
    )
