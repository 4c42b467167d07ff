"""A unit's page in the leaders' view (``units/<unit_id>.html``): where it stands first (its ranking score
and change, its tasks against 序时进度, its timeliness, what is still open), then its indicators' trend,
then the history: rank month by month, reports week by week with the files, its own progress words."""

from __future__ import annotations

import polars as pl

from dashboards.formatting import fmt_change
from dashboards.leaders.figures import deadline_words, indicator_block, today_of
from dashboards.leaders.front import STATUS_ORDER, moved_by
from dashboards.leaders.render import render_page
from dashboards.leaders.snapshot import LeadersData, origins
from roadsafe.wording import cn_date, cn_month, local

__all__ = ["render_unit", "unit_content"]

_KINDS = {"county": "县（市、区）", "department": "市直部门"}
_ROLES = {"lead": "牵头", "co": "协作"}
CHARTS = 3  # indicators drawn with their trend; the others are listed with their latest value


def _ranking(lead: LeadersData, unit_id: str) -> dict | None:
    site, issued = lead.site, lead.issued
    if site.ranking_month is None or issued.ranking.height == 0:
        return None
    mine = issued.ranking.filter(pl.col("unit_id") == unit_id)
    if mine.height == 0:
        return None
    r = mine.row(0, named=True)
    scope = issued.ranking.filter(pl.col("scope") == r["scope"])
    history = site.ranking_history
    months = sorted(history["month"].unique().to_list()) if history.height else []
    previous = history.filter(pl.col("month") == months[-2]) if len(months) > 1 else pl.DataFrame()
    return {
        "month": cn_month(site.ranking_month),
        "score": f"{r['score']:.2f}",
        "rank": r["rank"],
        "of": scope.height,
        "change": fmt_change(r["rank_change"]),
        "moved_by": moved_by(scope, previous, unit_id),
        "bottom": bool(r["is_bottom"]),
        "parts": [
            (name, "—" if r[key] is None else f"{r[key]:.2f}")
            for key, name in (("attainment", "目标完成"), ("timeliness", "报送及时"), ("quality", "数据质量"))
        ],
        "note": issued.note,
        "changed": unit_id in issued.changed,
    }


def _ranks(lead: LeadersData, unit_id: str) -> list[dict]:
    history = lead.site.ranking_history
    if history.height == 0:
        return []
    rows = history.filter(pl.col("unit_id") == unit_id).sort("month", descending=True)
    return [
        {
            "month": cn_month(r["month"]),
            "score": f"{r['score']:.2f}",
            "rank": r["rank"],
            "change": fmt_change(r["rank_change"]),
        }
        for r in rows.iter_rows(named=True)
    ]


def _tasks(lead: LeadersData, unit_id: str) -> list[dict]:
    site = lead.site
    ref, n = site.reference, site.period_no
    roles = ref.task_units.filter(pl.col("unit_id") == unit_id)
    now = site.tasks.filter(pl.col("period_no") == n).join(roles.select("task_no", "role"), on="task_no")
    today = today_of(lead)
    return [
        {
            "task_no": t["task_no"],
            "title": t["title"],
            "role": _ROLES.get(t["role"], ""),
            "status": t["status"],
            "deadline": deadline_words(t["deadline"], today, t["status"] == "已完成"),
        }
        for t in now.sort(["role", "task_no"], descending=[True, False]).iter_rows(named=True)
    ]


def _timeliness(lead: LeadersData, unit_id: str) -> dict:
    site = lead.site
    ref, n, tz = site.reference, site.period_no, site.timezone
    comp = site.compliance.filter(pl.col("unit_id") == unit_id)
    comp = comp.join(lead.accepted, on=["form_code", "unit_id", "period_no"], how="left")
    labels = dict(ref.periods.select("period_no", "label").iter_rows())
    weeks = []
    for no in sorted(set(comp["period_no"].to_list()), reverse=True):
        rows = comp.filter(pl.col("period_no") == no).sort("form_code")
        files = []
        for r in rows.iter_rows(named=True):
            state = "未报" if r["received_at"] is None else ("按时" if r["on_time"] else "逾期")
            sid = r["submission_id"]
            where = (
                f"{lead.files.get(sid, '（文件名缺失）')}（报送编号 {sid}）"
                if r["received_at"] and sid
                else ""
            )
            files.append({"form": f"{r['form_code']} {r['form_name']}", "state": state, "file": where})
        weeks.append(
            {
                "label": labels.get(no, ""),
                "expected": rows.height,
                "on_time": sum(f["state"] == "按时" for f in files),
                "late": sum(f["state"] == "逾期" for f in files),
                "missing": sum(f["state"] == "未报" for f in files),
                "files": files,
            }
        )
    total = comp.height
    on_time = int(comp["on_time"].fill_null(False).sum())
    missing = comp.filter(pl.col("received_at").is_null()).sort(["period_no", "form_code"])
    return {
        "this_week": weeks[0] if weeks else None,
        "weeks": weeks,
        "total": total,
        "on_time": on_time,
        "rate": f"{on_time / total * 100:.1f}%" if total else "—",
        "missing": [
            {
                "label": labels.get(r["period_no"], ""),
                "form": f"{r['form_code']} {r['form_name']}",
                "due": cn_date(local(r["due_at"], tz)),
            }
            for r in missing.iter_rows(named=True)
        ],
        "period": labels.get(n, ""),
    }


def _words(lead: LeadersData, unit_id: str) -> list[dict]:
    if lead.reports.height == 0:
        return []
    rows = lead.reports.filter((pl.col("unit_id") == unit_id) & pl.col("reported_this_period"))
    labels = dict(lead.site.reference.periods.select("period_no", "label").iter_rows())
    return [
        {
            "label": labels.get(r["period_no"], ""),
            "task_no": r["task_no"],
            "status": r["report_status"] or "—",
            "progress": r["progress"],
            "difficulties": r["difficulties"],
            "origins": [o.text() for o in origins(r["source_rows"], lead.files)],
        }
        for r in rows.sort(["period_no", "task_no"], descending=[True, False]).iter_rows(named=True)
    ]


def unit_content(lead: LeadersData, unit_id: str) -> dict | None:
    """Everything the unit page shows, or None for a unit that is not a county or department."""
    site = lead.site
    ref, n = site.reference, site.period_no
    found = ref.units.filter((pl.col("unit_id") == unit_id) & pl.col("kind").is_in(list(_KINDS)))
    if found.height == 0:
        return None
    unit = found.row(0, named=True)
    tasks = _tasks(lead, unit_id)
    counts = [(s, sum(t["status"] == s for t in tasks)) for s in STATUS_ORDER]
    own = site.values.filter((pl.col("unit_id") == unit_id) & (pl.col("period_no") == n)).sort(
        "indicator_code"
    )
    blocks = [b for c in own["indicator_code"].to_list() if (b := indicator_block(lead, c, unit_id))]
    charted = [b for b in blocks if b["expected"] != "—"][:CHARTS]
    duban = [
        {
            **b,
            "issued_text": cn_date(local(b["issued_at"], site.timezone)),
            "deadline_text": cn_date(b["deadline"]),
        }
        for b in lead.duban_all
        if b["unit_name"] == unit["name"]
    ]
    return {
        "unit": unit,
        "kind": _KINDS[unit["kind"]],
        "label": ref.period(n)["label"],
        "ranking": _ranking(lead, unit_id),
        "ranks": _ranks(lead, unit_id),
        "tasks": tasks,
        "counts": counts,
        "lead_count": sum(t["role"] == "牵头" for t in tasks),
        "timeliness": _timeliness(lead, unit_id),
        "duban": duban,
        "blocks": blocks,
        "charted": charted,
        "words": _words(lead, unit_id),
    }


def render_unit(lead: LeadersData, unit_id: str, *, portal: bool = False) -> str | None:
    content = unit_content(lead, unit_id)
    if content is None:
        return None
    return render_page(
        "leaders_unit.html.j2",
        title=content["unit"]["name"],
        root="../",
        portal=portal,
        campaign_name=lead.site.campaign_name,
        data_time=lead.data_time,
        c=content,
    )
