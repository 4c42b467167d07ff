"""The weekly bulletin (工作通报): red heading, 期号, an opening summary written from the figures, a
section per task group with its indicator table and the units lagging behind, the lead units' own words
(F9), trend charts against 序时进度, who did not submit on time, and the correction log.

:func:`collect_bulletin` reads the frozen snapshot (through :mod:`dashboards.data`);
:func:`build_bulletin` turns that data into a :class:`~dashboards.rendering.Document` without any SQL.

Examples
--------
>>> from dashboards.editions import open_edition  # doctest: +SKIP
>>> edition = open_edition(path)  # doctest: +SKIP
>>> doc = build_bulletin(collect_bulletin(edition.connect(), edition.meta), edition.meta)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from dashboards import data as d
from dashboards.duban import read_duban
from dashboards.edition_meta import EditionMeta
from dashboards.formatting import fmt_value
from dashboards.key_indicators import key_indicator_charts
from dashboards.narrative import (
    BAD_STATUSES,
    base_context,
    compliance_sentence,
    compliance_table_frame,
    corrections_frame,
    group_quotes,
    indicator_sentence,
    lagging_by_indicator,
    lagging_sentence,
    needs_attention,
    stamp_text,
    task_overview_sentence,
)
from dashboards.rendering import Document, render_template
from dashboards.tables import (
    build_compliance_table,
    build_corrections_table,
    build_county_matrix_table,
    build_indicator_table,
    build_milestone_table,
    to_html,
)
from dashboards.workbook import Sheet
from roadsafe.wording import cn_moment, cn_numeral, local

__all__ = ["BulletinData", "build_bulletin", "collect_bulletin", "indicator_section", "timeliness_frame"]


@dataclass(frozen=True)
class BulletinData:
    """Everything a weekly bulletin shows, read from the edition's frozen snapshot."""

    reference: d.Reference
    values: pl.DataFrame  # indicator values, periods 1..N, every unit
    tasks: pl.DataFrame  # task status in week N
    lead_reports: pl.DataFrame  # F9 words in week N
    compliance: pl.DataFrame  # week N's expected submissions
    coverage: d.Coverage
    corrections: pl.DataFrame
    duban: tuple[dict, ...] = ()  # 督办单 issued up to the freeze
    decisions: pl.DataFrame = field(default_factory=pl.DataFrame)  # 退回 / 已说明 since the last edition


def collect_bulletin(con, meta: EditionMeta) -> BulletinData:
    """Read a weekly bulletin's data from an open snapshot connection."""
    n = meta.period_no
    corrections = pl.DataFrame()
    if meta.previous is not None:
        corrections = d.read_corrections(con, meta.previous.until, meta.until, meta.previous.max_period)
    return BulletinData(
        reference=d.read_reference(con),
        values=d.read_indicator_values(con, upto=n),
        tasks=d.read_task_status(con, period_no=n),
        lead_reports=d.read_lead_reports(con, n),
        compliance=d.read_compliance(con, period_nos=[n], as_of=meta.until),
        coverage=d.read_coverage(con, [n], meta.cutoff, meta.until),
        corrections=corrections,
        duban=tuple(read_duban(con, meta.campaign.code, meta.until)),
        decisions=d.read_office_decisions(con, meta.previous.until if meta.previous else None, meta.until),
    )


def timeliness_frame(data: BulletinData, tz: str) -> pl.DataFrame:
    """The 报送情况 table: this week's submissions not on time (未报, 逾期报送, 退回, 已说明 with the
    office's reason), then the office's 退回 / 情况说明 decided since the last edition for earlier weeks.
    Columns (formatted): unit_name, form_name, due, received, status."""
    late = compliance_table_frame(data.compliance, tz)
    comp = data.compliance.filter(~pl.col("on_time").fill_null(False)).sort(["unit_order", "form_code", "period_no"])
    if "excused" in comp.columns and comp.height:
        status = []
        for rec, shown in zip(comp.iter_rows(named=True), late["status"].to_list(), strict=True):
            if rec["excused"]:
                shown = f"已说明：{rec['excuse_reason']}"
            elif rec["returned"] and rec["received_at"] is None:
                shown = f"退回：{rec['return_reason']}"
            status.append(shown)
        late = late.with_columns(pl.Series("status", status, dtype=pl.String))
    shown_keys = {(r["form_code"], r["unit_id"], r["period_no"]) for r in comp.iter_rows(named=True)}
    extra = {k: [] for k in late.columns}
    for dec in data.decisions.iter_rows(named=True) if data.decisions.height else []:
        if (dec["form_code"], dec["unit_id"], dec["period_no"]) in shown_keys:
            continue
        period = data.reference.period(dec["period_no"])
        extra["unit_name"].append(dec["unit_name"])
        extra["form_name"].append(f"{dec['form_code']} {dec['form_name'] or ''}（{period['label']}）")
        extra["due"].append(cn_moment(local(period["due_at"], tz)))
        extra["received"].append(f"{cn_moment(local(dec['decided_at'], tz))}办公室决定")
        extra["status"].append(f"{dec['kind']}：{dec['reason']}")
    if extra["status"]:
        late = pl.concat([late, pl.DataFrame(extra, schema=late.schema)], how="vertical")
    return late


def indicator_section(reference: d.Reference, indicator_code: str) -> int | None:
    """The task group an indicator is reported under: that of its first task (None for goals)."""
    row = reference.indicators.filter(pl.col("indicator_code") == indicator_code)
    if row.height == 0 or not row["task_nos"][0].to_list():
        return None
    first = min(row["task_nos"][0].to_list())
    task = reference.tasks.filter(pl.col("task_no") == first)
    return int(task["section_no"][0]) if task.height else None


def _with_rules(frame: pl.DataFrame, reference: d.Reference) -> pl.DataFrame:
    """Add task_nos and deadline_rule from the reference."""
    extra = reference.indicators.select("indicator_code", "task_nos", "deadline_rule")
    return frame.join(extra, on="indicator_code", how="left")


def _violations_sentence(values: pl.DataFrame, n: int) -> str:
    """Indicators without a target (e.g. 严重交通违法查处数): this week against last week, city level."""
    rows = values.filter((pl.col("direction") == "none") & (pl.col("unit_kind") == "city"))
    parts = []
    for code in sorted(set(rows["indicator_code"].to_list())):
        this = rows.filter((pl.col("indicator_code") == code) & (pl.col("period_no") == n))
        last = rows.filter((pl.col("indicator_code") == code) & (pl.col("period_no") == n - 1))
        if this.height == 0 or this["actual"][0] is None:
            continue
        name, kind, now = this["indicator_name"][0], this["kind"][0], this["actual"][0]
        text = f"{name}本周{fmt_value(now, kind)}"
        if last.height and last["actual"][0] is not None:
            diff = now - last["actual"][0]
            text += (
                "，与上周持平"
                if diff == 0
                else f"，较上周{'增加' if diff > 0 else '减少'}{fmt_value(abs(diff), kind)}"
            )
        parts.append(text)
    return "；".join(parts) + ("。" if parts else "")


def build_bulletin(data: BulletinData, meta: EditionMeta) -> Document:
    """Lay out the weekly bulletin."""
    ref, n, tz = data.reference, meta.period_no, meta.campaign.timezone
    now = _with_rules(data.values.filter(pl.col("period_no") == n), ref)
    aggregate = now.filter(pl.col("unit_kind").is_in(["city", "group"])).sort(
        ["indicator_code", "unit_order"]
    )
    counties = now.filter(pl.col("unit_kind") == "county")
    lagging = lagging_by_indicator(counties)
    label = ref.period(n)["label"]

    # ---- 一、总体情况
    overview = [task_overview_sentence(data.tasks, f"截至{label}，全部")]
    ind_text = indicator_sentence(aggregate.filter(~pl.col("is_goal")))
    if ind_text:
        overview.append(ind_text)
    goals = aggregate.filter(pl.col("is_goal"))
    for g in goals.iter_rows(named=True):
        overview.append(
            f"总体目标方面，{g['unit_name']}{g['indicator_name']}为{fmt_value(g['actual'], g['kind'])}"
            f"（目标{fmt_value(g['target'], g['kind'])}{'（暂定）' if g['target_is_assumption'] else ''}，序时进度{fmt_value(g['expected'], g['kind'])}），"
            f"{g['status'] or '—'}。"
        )
        if g["indicator_code"] in lagging:
            overview.append(lagging_sentence(g["indicator_name"], lagging[g["indicator_code"]]))
    violations = _violations_sentence(data.values, n)
    if violations:
        overview.append(violations)
    overview.append(compliance_sentence(data.compliance))
    lag_units = sorted(
        {
            name
            for statuses in lagging.values()
            for s, names in statuses.items()
            if s != "数据缺报"
            for name in names
        },
        key=lambda name: ref.units.filter(pl.col("name") == name)["sort_order"][0],
    )
    if lag_units:
        overview.append(f"有量化指标滞后于序时进度的县（市、区）：{'、'.join(lag_units)}。")

    # ---- 二、分项推进情况: a part per task group
    sections = []
    for sec in (
        ref.tasks.select("section_no", "section_title").unique().sort("section_no").iter_rows(named=True)
    ):
        sec_no = sec["section_no"]
        sec_tasks = data.tasks.filter(pl.col("section_no") == sec_no)
        # every indicator of the group, also one reported only per county (named below, no table row)
        all_codes = sorted(set(aggregate["indicator_code"]) | set(counties["indicator_code"]))
        codes = [c for c in all_codes if indicator_section(ref, c) == sec_no]
        sec_values = aggregate.filter(pl.col("indicator_code").is_in(codes)).sort(
            ["indicator_code", "unit_order"]
        )
        milestones = sec_tasks.filter(pl.col("is_milestone"))
        lag_lines = []
        for code in codes:
            if code in lagging:
                name = now.filter(pl.col("indicator_code") == code)["indicator_name"][0]
                lag_lines.append(lagging_sentence(name, lagging[code]))
        sections.append(
            {
                "numeral": cn_numeral(len(sections) + 1),
                "title": sec["section_title"],
                "overview": task_overview_sentence(sec_tasks, "本组"),
                "indicator_table": to_html(build_indicator_table(sec_values, table_id=f"ind-s{sec_no}"))
                if sec_values.height
                else "",
                "lagging": lag_lines,
                "milestone_table": to_html(build_milestone_table(milestones, table_id=f"ms-s{sec_no}"))
                if milestones.height
                else "",
            }
        )

    # ---- 三、各县（市、区）重点指标
    matrix_codes = [
        c
        for c in counties["indicator_code"].unique().sort().to_list()
        if counties.filter(pl.col("indicator_code") == c)["direction"][0] != "none"
    ]
    matrix_html = ""
    if matrix_codes:
        units = counties.select("unit_id", "unit_name", "unit_order").unique().sort("unit_order")
        matrix = units
        indicators = []
        for code in matrix_codes:
            rows = counties.filter(pl.col("indicator_code") == code)
            first = rows.row(0, named=True)
            indicators.append((code, first["indicator_name"], first["kind"]))
            matrix = matrix.join(
                rows.select(
                    "unit_id", pl.col("actual").alias(code), pl.col("status").alias(f"{code}_status")
                ),
                on="unit_id",
                how="left",
            )
        matrix_html = to_html(
            build_county_matrix_table(matrix, indicators=indicators, table_id="county-matrix")
        )

    # ---- charts
    charts = key_indicator_charts(
        data.values, ref, meta.campaign.key_indicators, chart_prefix="trend", period=label
    )

    # ---- 四、牵头单位推进情况 (F9, in their own words)
    all_quotes = group_quotes(data.lead_reports, data.tasks)
    quotes = [q for q in all_quotes if needs_attention(q)]
    quiet = [q.task_no for q in all_quotes if not needs_attention(q)]
    silent = sorted(set(data.tasks["task_no"].to_list()) - {q.task_no for q in all_quotes})

    # ---- 五、报送情况 and 六、数据更正说明
    late = timeliness_frame(data, tz)
    corrections = corrections_frame(data.corrections, ref.periods, tz)

    # ---- 下一步工作要求
    bad_tasks = data.tasks.filter(pl.col("status").is_in(list(BAD_STATUSES)))
    requirements = []
    if bad_tasks.height:
        lead_ids = ref.tasks.filter(pl.col("task_no").is_in(bad_tasks["task_no"].to_list()))["lead_ids"]
        leads = ref.names_of([u for ids in lead_ids.to_list() for u in ids])
        requirements.append(
            f"请{leads}对照任务清单，针对滞后、逾期事项逐项分析原因，明确整改措施和完成时限，确保按期完成。"
        )
    blamed = late.filter(~pl.col("status").str.starts_with("已说明")) if late.height else late
    if blamed.height:
        units = "、".join(dict.fromkeys(blamed["unit_name"].to_list()))
        requirements.append(f"请{units}严格落实报送制度，按时报送报表，确保数据真实、准确、完整。")
    requirements.append(
        "各牵头单位要加强统筹调度，协作单位要主动配合，形成工作合力，推动专项整治各项任务落地见效。"
    )

    parts = ["overview", "sections"] + (["charts"] if charts else []) + (["matrix"] if matrix_html else [])
    parts += ["quotes", "compliance", "corrections", "requirements"]
    num = {part: cn_numeral(i) for i, part in enumerate(parts, start=1)}
    stamp = stamp_text(data.coverage, tz)
    first_edition = meta.previous is None
    html = render_template(
        "bulletin.html.j2",
        **base_context(meta),
        label=label,
        num=num,
        stamp=stamp,
        overview=overview,
        sections=sections,
        matrix_html=matrix_html,
        charts=charts,
        quotes=quotes,
        quiet_tasks="、".join(str(n) for n in quiet),
        silent_tasks="、".join(str(n) for n in silent),
        compliance_text=compliance_sentence(data.compliance),
        late_table=to_html(build_compliance_table(late, table_id="late")) if late.height else "",
        duban=data.duban,
        corrections_table=to_html(build_corrections_table(corrections, table_id="corrections"))
        if corrections.height
        else "",
        first_edition=first_edition,
        previous=meta.previous,
        requirements=requirements,
    )
    sheets = _sheets(data, meta, now, late, corrections)
    summary = "\n".join([meta.title + f"（第{meta.issue_no}期）", stamp, *overview])
    return Document(
        stem="bulletin",
        title=f"{meta.title}（第{meta.issue_no}期）",
        html=html,
        sheets=sheets,
        summary=summary,
    )


def _sheets(
    data: BulletinData, meta: EditionMeta, now: pl.DataFrame, late: pl.DataFrame, corrections: pl.DataFrame
) -> list[Sheet]:
    tz = meta.campaign.timezone
    values = now.sort(["indicator_code", "unit_order"])
    indicator_sheet = pl.DataFrame(
        {
            "指标编号": values["indicator_code"].to_list(),
            "指标": values["indicator_name"].to_list(),
            "单位": values["unit_name"].to_list(),
            "实际完成": [fmt_value(v, k) for v, k in zip(values["actual"], values["kind"], strict=True)],
            "序时进度": [fmt_value(v, k) for v, k in zip(values["expected"], values["kind"], strict=True)],
            "目标": [
                None if t is None else fmt_value(t, k) + ("（暂定）" if a else "")
                for t, k, a in zip(
                    values["target"], values["kind"], values["target_is_assumption"], strict=True
                )
            ],
            "状态": values["status"].to_list(),
            "实际值": values["actual"].to_list(),
            "序时进度值": values["expected"].to_list(),
            "目标值": values["target"].to_list(),
        }
    )
    tasks = data.tasks.sort("task_no")
    task_sheet = pl.DataFrame(
        {
            "序号": tasks["task_no"].to_list(),
            "任务": tasks["title"].to_list(),
            "牵头单位": tasks["lead_names"].to_list(),
            "完成时限": [x.isoformat() if x else None for x in tasks["deadline"].to_list()],
            "状态": tasks["status"].to_list(),
        }
    )
    f9 = data.lead_reports
    f9_sheet = pl.DataFrame(
        {
            "任务编号": f9["task_no"].to_list(),
            "牵头单位": f9["unit_name"].to_list(),
            "完成状态": f9["status"].to_list(),
            "工作推进落实情况": f9["progress"].to_list(),
            "推进中的困难问题及有关建议": f9["difficulties"].to_list(),
            "回执编号": f9["submission_id"].to_list(),
        },
        schema={
            "任务编号": pl.Int64,
            "牵头单位": pl.String,
            "完成状态": pl.String,
            "工作推进落实情况": pl.String,
            "推进中的困难问题及有关建议": pl.String,
            "回执编号": pl.String,
        },
    )
    comp = data.compliance
    compliance_sheet = pl.DataFrame(
        {
            "报表": [f"{c} {n}" for c, n in zip(comp["form_code"], comp["form_name"], strict=True)],
            "单位": comp["unit_name"].to_list(),
            "应报时间": [local(x, tz).strftime("%Y-%m-%d %H:%M") for x in comp["due_at"].to_list()],
            "报送时间": [
                None if x is None else local(x, tz).strftime("%Y-%m-%d %H:%M")
                for x in comp["received_at"].to_list()
            ],
            "情况": [
                "按时" if ok else ("已说明" if ex else "退回" if (rt and r is None) else "未报" if r is None else "逾期")
                for ok, r, ex, rt in zip(
                    comp["on_time"],
                    comp["received_at"],
                    comp["excused"] if "excused" in comp.columns else [False] * comp.height,
                    comp["returned"] if "returned" in comp.columns else [False] * comp.height,
                    strict=True,
                )
            ],
        },
        schema={k: pl.String for k in ("报表", "单位", "应报时间", "报送时间", "情况")},
    )
    sheets = [
        Sheet(
            "指标完成情况",
            indicator_sheet,
            title=f"{meta.title}（第{meta.issue_no}期）指标完成情况",
            formats={"实际值": "decimal", "序时进度值": "decimal", "目标值": "decimal"},
        ),
        Sheet("任务推进情况", task_sheet),
        Sheet("牵头单位报告", f9_sheet, widths={"工作推进落实情况": 50, "推进中的困难问题及有关建议": 40}),
        Sheet("报送情况", compliance_sheet),
    ]
    if corrections.height:
        sheets.append(
            Sheet(
                "数据更正",
                corrections.rename(
                    {
                        "received": "接收时间",
                        "unit_name": "单位",
                        "form_name": "报表",
                        "period": "所属周次",
                        "kind": "类型",
                        "submission_id": "回执编号",
                        "replaces": "替代",
                    }
                ),
            )
        )
    return sheets
