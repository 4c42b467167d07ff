"""A task's page in the leaders' view (``tasks/task-04.html``): status first (against 序时进度, how far
behind, the deadline), the trend of its indicators, then the history week by week with the lead units'
own words, each figure with the file and row it came from."""

from __future__ import annotations

import polars as pl

from dashboards.formatting import fmt_value, join_names
from dashboards.leaders.figures import deadline_words, indicator_block, today_of, widest_unit
from dashboards.leaders.render import render_page
from dashboards.leaders.snapshot import LeadersData, origins

__all__ = ["render_task", "task_content", "task_file"]


def task_file(task_no: int) -> str:
    """The page's name, the same in the export and behind the portal."""
    return f"task-{task_no:02d}.html"


def _words(lead: LeadersData, task_no: int) -> list[dict]:
    """The lead units' reports sent for each period (newest first), with the file and row."""
    if lead.reports.height == 0:
        return []
    rows = lead.reports.filter((pl.col("task_no") == task_no) & pl.col("reported_this_period"))
    labels = dict(lead.site.reference.periods.select("period_no", "label").iter_rows())
    return [
        {
            "label": labels.get(r["period_no"], ""),
            "unit_id": r["unit_id"],
            "unit_name": r["unit_name"],
            "status": r["report_status"] or "—",
            "progress": r["progress"],
            "difficulties": r["difficulties"],
            "origins": [o.text() for o in origins(r["source_rows"], lead.files)],
        }
        for r in rows.sort(["period_no", "unit_id"], descending=[True, False]).iter_rows(named=True)
    ]


def task_content(lead: LeadersData, task_no: int) -> dict | None:
    """Everything the task page shows, or None for a task the campaign does not have."""
    site = lead.site
    ref, n = site.reference, site.period_no
    found = ref.tasks.filter(pl.col("task_no") == task_no)
    if found.height == 0:
        return None
    task = found.row(0, named=True)
    history = site.tasks.filter(pl.col("task_no") == task_no).sort("period_no")
    history = history.join(ref.periods.select("period_no", "label"), on="period_no", how="left")
    now = history.filter(pl.col("period_no") == n)
    status = now["status"][0] if now.height else "—"
    roles = ref.task_units.filter(pl.col("task_no") == task_no)
    codes = ref.indicators.filter(pl.col("task_nos").list.contains(task_no))["indicator_code"].to_list()
    blocks = [b for c in codes if (u := widest_unit(lead, c)) and (b := indicator_block(lead, c, u))]
    scopes = []
    for code in codes:  # each unit's latest value of the task's indicators (counties behind stand out)
        rows = site.values.filter(
            (pl.col("indicator_code") == code)
            & (pl.col("period_no") == n)
            & (pl.col("unit_kind") == "county")
        )
        if rows.height > 1:
            kind = rows["kind"][0]
            scopes.append(
                {
                    "name": rows["indicator_name"][0],
                    "rows": [
                        {
                            "unit_id": r["unit_id"],
                            "unit_name": r["unit_name"],
                            "actual": fmt_value(r["actual"], kind),
                            "expected": fmt_value(r["expected"], kind),
                            "status": r["status"],
                        }
                        for r in rows.sort("unit_order").iter_rows(named=True)
                    ],
                }
            )
    weeks = [
        {"label": r["label"], "status": r["status"], "lead_status": r["lead_status"] or "—"}
        for r in reversed(list(history.iter_rows(named=True)))
    ]
    return {
        "task": task,
        "status": status,
        "label": ref.period(n)["label"],
        "deadline": deadline_words(task["deadline"], today_of(lead), status == "已完成"),
        "gap_text": blocks[0]["gap_text"]
        if blocks
        else ("按牵头单位进展报告判定" if task["is_milestone"] else ""),
        "leads": [(u, ref.unit_name(u)) for u in roles.filter(pl.col("role") == "lead")["unit_id"].to_list()],
        "co": [(u, ref.unit_name(u)) for u in roles.filter(pl.col("role") == "co")["unit_id"].to_list()],
        "lead_names": join_names(ref.unit_name(u) for u in roles.filter(pl.col("role") == "lead")["unit_id"]),
        "blocks": blocks,
        "scopes": scopes,
        "weeks": weeks,
        "words": _words(lead, task_no),
    }


def render_task(lead: LeadersData, task_no: int, *, portal: bool = False) -> str | None:
    content = task_content(lead, task_no)
    if content is None:
        return None
    return render_page(
        "leaders_task.html.j2",
        title=f"任务{task_no}",
        root="../",
        portal=portal,
        campaign_name=lead.site.campaign_name,
        data_time=lead.data_time,
        c=content,
    )
