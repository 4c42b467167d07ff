"""The dispatch list (工作调度单): for each responsible unit, what is behind or overdue, which forms are
missing, and what falls due in the coming week. It is what the office sends each unit, so every unit
gets its own page; the first page is the overview.

Examples
--------
>>> doc = build_dispatch(collect_dispatch(con, meta), meta)  # doctest: +SKIP
>>> doc.stem
'dispatch'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from dashboards import data as d
from dashboards.edition_meta import EditionMeta
from dashboards.formatting import fmt_deadline
from dashboards.narrative import BAD_STATUSES, base_context, stamp_text, value_pair
from dashboards.rendering import Document, render_template
from dashboards.tables import build_dispatch_overview_table, build_dispatch_table, to_html
from dashboards.workbook import Sheet
from roadsafe.wording import cn_date, cn_moment, local

__all__ = ["DispatchData", "UnitDispatch", "build_dispatch", "collect_dispatch", "dispatch_items"]

LOOKAHEAD = dt.timedelta(days=7)


@dataclass(frozen=True)
class DispatchData:
    """What the dispatch list needs, read from the frozen snapshot."""

    reference: d.Reference
    tasks: pl.DataFrame  # task status in week N
    values: pl.DataFrame  # indicator values in week N (every unit)
    compliance: pl.DataFrame  # weeks 1..N, as of the edition
    upcoming: pl.DataFrame  # forms and one-offs due in the coming week
    coverage: d.Coverage
    cases: pl.DataFrame = field(default_factory=pl.DataFrame)  # 督办案件 open at the edition's time


def collect_dispatch(con, meta: EditionMeta) -> DispatchData:
    """Read the dispatch list's data from an open snapshot connection."""
    n = meta.period_no
    return DispatchData(
        reference=d.read_reference(con),
        tasks=d.read_task_status(con, period_no=n),
        values=d.read_indicator_values(con, period_no=n),
        compliance=d.read_compliance(con, period_nos=list(range(1, n + 1)), as_of=meta.until),
        upcoming=d.read_expected_between(con, meta.issue_at, meta.issue_at + LOOKAHEAD),
        coverage=d.read_coverage(con, [n], meta.cutoff, meta.until),
        cases=d.read_open_cases(con, meta.until),
    )


@dataclass(frozen=True)
class UnitDispatch:
    """One unit's page: its items by category."""

    unit_id: str
    unit_name: str
    items: pl.DataFrame  # category, item, deadline, situation
    behind: int
    missing: int
    upcoming: int
    co: int = 0  # co-responsible tasks not yet done


_EMPTY = {"category": pl.String, "item": pl.String, "deadline": pl.String, "situation": pl.String}


def dispatch_items(data: DispatchData, meta: EditionMeta, unit_id: str) -> pl.DataFrame:
    """The items of one unit: category (督办案件 / 滞后事项 / 协办事项 / 指标滞后 / 缺报报表 / 逾期报送 /
    下周到期), item, deadline and situation. Open cases of the office's register come first, until 销号."""
    ref, tz = data.reference, meta.campaign.timezone
    rows: list[dict] = []
    roles = ref.task_units.filter(pl.col("unit_id") == unit_id)
    lead_tasks = roles.filter(pl.col("role") == "lead")["task_no"].to_list()
    co_tasks = roles.filter(pl.col("role") == "co")["task_no"].to_list()
    bad = list(BAD_STATUSES) + ["未启动"]
    rows += _case_items(data, tz, unit_id)
    for task in data.tasks.sort("task_no").iter_rows(named=True):
        if task["task_no"] in lead_tasks and task["status"] in bad:
            category, item = "牵头任务", f"任务{task['task_no']} {task['title']}"
        elif task["task_no"] in co_tasks and task["status"] != "已完成":
            # a co-responsible unit owes its part of the work and of the progress text until the task is done
            category = "协办任务"
            item = f"任务{task['task_no']} {task['title']}（牵头单位：{task['lead_names']}）"
        else:
            continue
        rows.append(
            {
                "category": category,
                "item": item,
                "deadline": fmt_deadline(task["deadline"]),
                "situation": task["status"],
            }
        )
    own = data.values.filter((pl.col("unit_id") == unit_id) & pl.col("status").is_in(list(BAD_STATUSES)))
    rules = dict(
        zip(
            ref.indicators["indicator_code"].to_list(), ref.indicators["deadline_rule"].to_list(), strict=True
        )
    )
    for v in own.sort("indicator_code").iter_rows(named=True):
        text = v["indicator_name"] + (
            "" if v["status"] == "数据缺报" else "：" + value_pair(v["actual"], v["expected"], v["kind"])
        )
        rows.append(
            {
                "category": "指标滞后",
                "item": text,
                "deadline": fmt_deadline(v["deadline"], rules.get(v["indicator_code"])),
                "situation": v["status"],
            }
        )
    labels = dict(zip(ref.periods["period_no"].to_list(), ref.periods["label"].to_list(), strict=True))
    mine = data.compliance.filter(pl.col("unit_id") == unit_id).sort(["period_no", "form_code"])
    for c in mine.filter(pl.col("received_at").is_null()).iter_rows(named=True):
        rows.append(
            {
                "category": "缺报报表",
                "item": f"{c['form_code']} {c['form_name']}（{labels[c['period_no']]}）",
                "deadline": cn_moment(local(c["due_at"], tz)),
                "situation": "未报",
            }
        )
    late_now = mine.filter(
        (pl.col("period_no") == meta.period_no) & pl.col("received_at").is_not_null() & ~pl.col("on_time")
    )
    for c in late_now.iter_rows(named=True):
        rows.append(
            {
                "category": "逾期报送",
                "item": f"{c['form_code']} {c['form_name']}（{labels[c['period_no']]}）",
                "deadline": cn_moment(local(c["due_at"], tz)),
                "situation": f"{cn_moment(local(c['received_at'], tz))}报送",
            }
        )
    upcoming = data.upcoming.filter(pl.col("unit_id") == unit_id)
    for u in upcoming.iter_rows(named=True):
        what = (
            f"{u['code']} {u['name']}（{labels.get(u['period_no'], '')}）"
            if u["kind"] == "form"
            else u["name"]
        )
        rows.append(
            {
                "category": "下周到期",
                "item": what,
                "deadline": cn_moment(local(u["due_at"], tz)),
                "situation": "待报送",
            }
        )
    window_end = (meta.issue_at + LOOKAHEAD).astimezone(dt.UTC).date()
    window_start = meta.issue_at.astimezone(dt.UTC).date()
    for task in data.tasks.filter(pl.col("task_no").is_in(lead_tasks)).iter_rows(named=True):
        deadline = task["deadline"]
        if deadline and window_start <= deadline <= window_end and task["status"] != "已完成":
            rows.append(
                {
                    "category": "下周到期",
                    "item": f"任务{task['task_no']} {task['title']}（完成时限）",
                    "deadline": fmt_deadline(deadline),
                    "situation": task["status"] or "—",
                }
            )
    return pl.DataFrame(rows, schema=_EMPTY) if rows else pl.DataFrame(schema=_EMPTY)


def _case_items(data: DispatchData, tz: str, unit_id: str) -> list[dict]:
    """The unit's open 督办案件: what, since when, the latest action."""
    if not data.cases.height:
        return []
    rows = []
    for c in data.cases.filter(pl.col("unit_id") == unit_id).iter_rows(named=True):
        task = f"（任务{c['task_no']}）" if c["task_no"] is not None else ""
        situation = "办理中，未销号"
        if c["actions"]:
            situation = f"已采取措施{c['actions']}项，最近：{cn_date(c['last_action_on'])}{c['last_action']}；未销号"
        rows.append(
            {
                "category": "督办案件",
                "item": f"{c['kind_name']}：{c['title']}{task}（案件{c['case_id']}）",
                "deadline": f"{cn_moment(local(c['opened_at'], tz))}立案",
                "situation": situation,
            }
        )
    return rows


def _units(data: DispatchData) -> list[tuple[str, str]]:
    """Responsible units in unit order: every unit with a task or an expected form."""
    ref = data.reference
    ids = set(ref.task_units["unit_id"].to_list()) | set(data.compliance["unit_id"].to_list())
    rows = ref.units.filter(
        pl.col("unit_id").is_in(list(ids)) & pl.col("kind").is_in(["county", "department"])
    )
    # Departments first (they carry most tasks), then the counties, each in units.yml order.
    rows = rows.with_columns((pl.col("kind") == "county").alias("is_county")).sort(
        ["is_county", "sort_order"]
    )
    return list(zip(rows["unit_id"].to_list(), rows["name"].to_list(), strict=True))


def build_dispatch(data: DispatchData, meta: EditionMeta) -> Document:
    """Lay out the dispatch list: overview page, then one page per unit."""
    pages: list[UnitDispatch] = []
    for unit_id, unit_name in _units(data):
        items = dispatch_items(data, meta, unit_id)
        behind = items.filter(
            pl.col("category").is_in(["牵头任务", "指标滞后"])
            | ((pl.col("category") == "协办任务") & pl.col("situation").is_in([*BAD_STATUSES, "未启动"]))
        ).height
        co = items.filter(pl.col("category") == "协办任务").height
        missing = items.filter(pl.col("category") == "缺报报表").height
        upcoming = items.filter(pl.col("category") == "下周到期").height
        pages.append(UnitDispatch(unit_id, unit_name, items, behind, missing, upcoming, co))
    overview = pl.DataFrame(
        {
            "unit_name": [p.unit_name for p in pages],
            "behind": [p.behind for p in pages],
            "missing": [p.missing for p in pages],
            "upcoming": [p.upcoming for p in pages],
            "advice": ["需督办" if (p.behind or p.missing) else "正常" for p in pages],
        }
    )
    overview_gt = build_dispatch_overview_table(overview, table_id="dispatch-overview")
    sections = []
    for i, page in enumerate(pages):
        sections.append(
            {
                "unit_name": page.unit_name,
                "table": to_html(build_dispatch_table(page.items, table_id=f"dispatch-{i:02d}"))
                if page.items.height
                else "",
                "behind": page.behind,
                "missing": page.missing,
                "upcoming": page.upcoming,
                "co": page.co,
            }
        )
    to_follow = [p.unit_name for p in pages if p.behind or p.missing]
    stamp = stamp_text(data.coverage, meta.campaign.timezone)
    html = render_template(
        "dispatch.html.j2",
        **base_context(meta),
        stamp=stamp,
        overview_table=to_html(overview_gt),
        sections=sections,
        to_follow="、".join(to_follow),
        co_duty=meta.campaign.co_duty,
        next_week_end=(meta.issue_at + LOOKAHEAD),
        window_text=f"{cn_moment(local(meta.issue_at, meta.campaign.timezone))}至"
        f"{cn_moment(local(meta.issue_at + LOOKAHEAD, meta.campaign.timezone))}",
    )
    all_items = pl.concat(
        [p.items.with_columns(pl.lit(p.unit_name).alias("unit")) for p in pages if p.items.height]
        or [pl.DataFrame(schema={**_EMPTY, "unit": pl.String})]
    )
    sheets = [
        Sheet(
            "调度汇总",
            pl.DataFrame(
                {
                    "单位": [p.unit_name for p in pages],
                    "滞后逾期事项": [p.behind for p in pages],
                    "缺报报表": [p.missing for p in pages],
                    "下周到期事项": [p.upcoming for p in pages],
                }
            ),
            title=f"{meta.title}（第{meta.issue_no}期）",
        ),
        Sheet(
            "调度清单",
            all_items.select(
                pl.col("unit").alias("单位"),
                pl.col("category").alias("类别"),
                pl.col("item").alias("事项"),
                pl.col("deadline").alias("时限"),
                pl.col("situation").alias("情况"),
            ),
            widths={"事项": 50},
        ),
    ]
    summary = f"{meta.title}（第{meta.issue_no}期）\n{stamp}\n需督办单位：{'、'.join(to_follow) or '无'}"
    return Document(
        stem="dispatch",
        title=f"{meta.title}（第{meta.issue_no}期）",
        html=html,
        sheets=sheets,
        summary=summary,
    )
