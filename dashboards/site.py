"""The static dashboard site under ``$ROADSAFE_HOME/site/``, built from the published snapshot.

Pages (all self-contained: inline CSS and SVG, no scripts, no network)::

    index.html               the editions issued, the current ranking, every task's current status
    tasks/task-04.html       one task: definition, status week by week, its indicators' trend charts,
                             the lead units' latest words
    units/<unit_id>.html     one unit: its tasks, its own indicators with a trend chart, what it
                             submitted week by week, its rank month by month
    editions/<kind>/<ref>/   copies of every rendered edition (HTML, PDF, XLSX)

Submitted free text is escaped everywhere (Jinja autoescape, great-tables), and a Content-Security-Policy
forbids scripts. :func:`serve` serves the folder read-only on 127.0.0.1.

Examples
--------
>>> from roadsafe.settings import Settings
>>> build_site(Settings.from_env())  # doctest: +SKIP
PosixPath('var/site/index.html')
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboards import data as d
from dashboards.charts import build_trend_chart
from dashboards.closed_months import MARK, later_text, month_ranking, ranking_history
from dashboards.edition_meta import KINDS
from dashboards.editions import STEMS, list_editions
from dashboards.formatting import fmt_change, fmt_deadline, fmt_target, fmt_value, issue_label
from dashboards.rendering import CSP, css, template_env
from dashboards.tables import build_ranking_table, colour_status, gov_table_style, to_html
from roadsafe.warehouse import open_snapshot
from roadsafe.wording import cn_date, cn_month, local

__all__ = ["SiteData", "build_site", "collect_site", "current_period", "make_handler", "serve"]

_KIND_NAMES = {
    "weekly_bulletin": "工作通报",
    "dispatch_list": "工作调度单",
    "monthly_ranking": "工作排名",
    "monthly_summary": "工作小结",
    "half_year_summary": "半年工作总结",
    "yearly_assessment": "年度考核",
    "final_assessment": "总结评估",
}


@dataclass(frozen=True)
class SiteData:
    """What the site shows, read from the published snapshot."""

    reference: d.Reference
    period_no: int
    values: pl.DataFrame
    tasks: pl.DataFrame
    compliance: pl.DataFrame
    ranking_month: str | None
    ranking: pl.DataFrame
    ranking_history: pl.DataFrame
    ranking_note: str
    lead_reports: pl.DataFrame
    timezone: str
    campaign_name: str


def current_period(reference: d.Reference, as_of: dt.datetime) -> int:
    """The latest period whose forms were due by ``as_of`` (the first period before that)."""
    due = [
        no
        for no, at in zip(
            reference.periods["period_no"].to_list(), reference.periods["due_at"].to_list(), strict=True
        )
        if at <= as_of
    ]
    return max(due) if due else int(reference.periods["period_no"].min())


def collect_site(con, as_of: dt.datetime, settings=None) -> SiteData:
    """Read the site's data from the published snapshot.

    With ``settings``, the ranking of every closed month is its issued edition's
    (:mod:`dashboards.closed_months`); without, the live snapshot's."""
    ref = d.read_reference(con)
    n = current_period(ref, as_of)
    due_months = d.read_ranking_months(con, as_of)
    month = due_months[-1] if due_months else None
    if settings is not None:
        latest = month_ranking(settings, con, month)
        ranking, note = latest.ranking, latest.note
        history = ranking_history(settings, con, due_months)
    else:
        ranking, note = d.read_ranking(con, month) if month else pl.DataFrame(), ""
        history = (
            pl.concat([d.read_ranking(con, m).with_columns(pl.lit(m).alias("month")) for m in due_months])
            if due_months
            else pl.DataFrame()
        )
    tz, name = d.read_campaign_words(con)
    return SiteData(
        reference=ref,
        period_no=n,
        values=d.read_indicator_values(con, upto=n),
        tasks=d.read_task_status(con, upto=n),
        compliance=d.read_compliance(con, period_nos=list(range(1, n + 1)), as_of=as_of),
        ranking_month=month,
        ranking=ranking,
        ranking_history=history,
        ranking_note=note,
        lead_reports=d.read_lead_reports(con, n),
        timezone=tz,
        campaign_name=name,
    )


def _render(name: str, **context) -> str:
    from markupsafe import Markup

    from dashboards.tables import house_css

    return (
        template_env()
        .get_template(name)
        .render(css=Markup(css("site.css") + "\n" + house_css()), csp=CSP, **context)
    )


def _status_table(
    frame: pl.DataFrame, columns: dict[str, str], table_id: str, status_col: str = "状态"
) -> str:
    """A small GT table from a frame whose columns are renamed by ``columns`` (all shown as text)."""
    from great_tables import GT

    display = frame.select([pl.col(k).cast(pl.String).fill_null("—").alias(v) for k, v in columns.items()])
    gt = GT(display, id=table_id).pipe(gov_table_style)
    return to_html(colour_status(gt, display, status_col))


def _editions_table(settings) -> list[dict]:
    rows = []
    for e in list_editions(settings):
        if not e.is_rendered():
            continue
        base = f"editions/{e.meta.kind}/{e.meta.ref}/{STEMS[e.meta.kind]}"
        rows.append(
            {
                "kind": _KIND_NAMES.get(e.meta.kind, e.meta.kind),
                "issue": issue_label(e.meta.issue_no),
                "label": e.meta.label,
                "date": cn_date(local(e.meta.issue_at, e.meta.campaign.timezone)),
                "html": f"{base}.html",
                "pdf": f"{base}.pdf",
                "xlsx": f"{base}.xlsx",
            }
        )
    return rows


def _trend(values: pl.DataFrame, ref: d.Reference, code: str, unit_id: str, chart_id: str) -> str:
    rows = values.filter((pl.col("indicator_code") == code) & (pl.col("unit_id") == unit_id)).sort(
        "period_no"
    )
    if rows.height == 0 or rows["actual"].null_count() == rows.height:
        return ""
    rows = rows.join(ref.periods.select("period_no", "label"), on="period_no", how="left")
    first = rows.row(0, named=True)
    return build_trend_chart(
        rows,
        title=f"{first['indicator_name']}（{first['unit_name']}）",
        kind=first["kind"],
        chart_id=chart_id,
        width=340,
        height=140,
    )


def _task_page(data: SiteData, task: dict) -> str:
    ref, n = data.reference, data.period_no
    history = data.tasks.filter(pl.col("task_no") == task["task_no"]).sort("period_no")
    history = history.join(ref.periods.select("period_no", "label"), on="period_no", how="left")
    codes = ref.indicators.filter(pl.col("task_nos").list.contains(task["task_no"]))[
        "indicator_code"
    ].to_list()
    charts = []
    for code in codes:
        scopes = data.values.filter((pl.col("indicator_code") == code) & (pl.col("period_no") == n))
        wide = scopes.filter(pl.col("unit_kind").is_in(["city", "group"])).sort("unit_order")
        unit_id = wide["unit_id"][0] if wide.height else (scopes["unit_id"][0] if scopes.height else None)
        if unit_id:
            svg = _trend(data.values, ref, code, unit_id, f"t{task['task_no']}-{code.lower()}")
            if svg:
                charts.append(svg)
    now = history.filter(pl.col("period_no") == n)
    current = now.row(0, named=True) if now.height else {}
    roles = ref.task_units.filter(pl.col("task_no") == task["task_no"])
    words = data.lead_reports.filter(pl.col("task_no") == task["task_no"])
    return _render(
        "site_task.html.j2",
        title=f"任务{task['task_no']} {task['title']}",
        root="../",
        task=task,
        deadline=fmt_deadline(task["deadline"]),
        leads=ref.names_of(roles.filter(pl.col("role") == "lead")["unit_id"].to_list()),
        co=ref.names_of(roles.filter(pl.col("role") == "co")["unit_id"].to_list()),
        lead_links=[(u, ref.unit_name(u)) for u in roles["unit_id"].to_list()],
        current=current,
        history=_status_table(
            history,
            {"label": "周次", "status": "状态", "lead_status": "牵头单位报告"},
            f"task-{task['task_no']}-history",
        ),
        charts=charts,
        words=list(words.iter_rows(named=True)),
        label=ref.period(n)["label"],
    )


def _unit_page(data: SiteData, unit: dict) -> str:
    ref, n, tz = data.reference, data.period_no, data.timezone
    unit_id = unit["unit_id"]
    roles = ref.task_units.filter(pl.col("unit_id") == unit_id)
    tasks = data.tasks.filter(
        (pl.col("period_no") == n) & pl.col("task_no").is_in(roles["task_no"].to_list())
    )
    tasks = (
        tasks.join(roles.select("task_no", "role"), on="task_no")
        .with_columns(
            pl.col("role").replace_strict({"lead": "牵头", "co": "协作"}, default="").alias("role_name"),
            pl.col("deadline").map_elements(fmt_deadline, return_dtype=pl.String).alias("deadline_text"),
        )
        .sort("task_no")
    )
    own = data.values.filter((pl.col("unit_id") == unit_id) & (pl.col("period_no") == n)).sort(
        "indicator_code"
    )
    own = own.with_columns(
        pl.struct("actual", "kind")
        .map_elements(lambda r: fmt_value(r["actual"], r["kind"]), return_dtype=pl.String)
        .alias("actual_text"),
        pl.struct("expected", "kind")
        .map_elements(lambda r: fmt_value(r["expected"], r["kind"]), return_dtype=pl.String)
        .alias("expected_text"),
        pl.struct("target", "kind", "direction", "target_is_assumption")
        .map_elements(
            lambda r: fmt_target(r["target"], r["kind"], r["direction"], r["target_is_assumption"]),
            return_dtype=pl.String,
        )
        .alias("target_text"),
    )
    charts = []
    # Two trend charts at most per unit: its first indicators with a fixed deadline.
    with_deadline = own.filter((pl.col("direction") != "none") & pl.col("deadline").is_not_null())
    for code in with_deadline["indicator_code"].to_list()[:2]:
        svg = _trend(data.values, ref, code, unit_id, f"u-{unit_id}-{code.lower()}")
        if svg:
            charts.append(svg)
    comp = data.compliance.filter(pl.col("unit_id") == unit_id)
    per_period = (
        comp.group_by("period_no")
        .agg(
            pl.len().alias("expected"),
            pl.col("on_time").fill_null(False).sum().alias("on_time"),
            pl.col("received_at").is_null().sum().alias("missing"),
        )
        .with_columns((pl.col("expected") - pl.col("on_time") - pl.col("missing")).alias("late"))
        .join(ref.periods.select("period_no", "label"), on="period_no")
        .sort("period_no")
    )
    missing = comp.filter(pl.col("received_at").is_null()).sort(["period_no", "form_code"])
    missing = missing.join(ref.periods.select("period_no", "label"), on="period_no").with_columns(
        pl.col("due_at")
        .map_elements(lambda v: local(v, tz).strftime("%m-%d %H:%M"), return_dtype=pl.String)
        .alias("due_text")
    )
    ranks = (
        data.ranking_history.filter(pl.col("unit_id") == unit_id).sort("month")
        if data.ranking_history.height
        else pl.DataFrame()
    )
    if ranks.height:
        ranks = ranks.with_columns(
            pl.col("month").map_elements(cn_month, return_dtype=pl.String).alias("month_text"),
            pl.col("rank_change")
            .map_elements(fmt_change, return_dtype=pl.String, skip_nulls=False)
            .alias("change"),
            pl.col("score").map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String).alias("score_text"),
            _later_column(ranks),
        )
    return _render(
        "site_unit.html.j2",
        title=unit["name"],
        root="../",
        unit=unit,
        label=ref.period(n)["label"],
        tasks=_status_table(
            tasks,
            {
                "task_no": "序号",
                "title": "任务",
                "role_name": "职责",
                "deadline_text": "完成时限",
                "status": "状态",
            },
            f"unit-{unit_id}-tasks",
        )
        if tasks.height
        else "",
        indicators=_status_table(
            own,
            {
                "indicator_name": "指标",
                "target_text": "目标",
                "actual_text": "实际完成",
                "expected_text": "序时进度",
                "status": "状态",
            },
            f"unit-{unit_id}-ind",
        )
        if own.height
        else "",
        charts=charts,
        submissions=_status_table(
            per_period,
            {"label": "周次", "expected": "应报", "on_time": "按时", "late": "逾期", "missing": "未报"},
            f"unit-{unit_id}-subs",
        )
        if per_period.height
        else "",
        missing=_status_table(
            missing,
            {"label": "周次", "form_code": "报表", "form_name": "名称", "due_text": "应报时间"},
            f"unit-{unit_id}-missing",
        )
        if missing.height
        else "",
        ranks=_status_table(
            ranks,
            {"month_text": "月份", "score_text": "得分", "rank": "排名", "change": "变化", "later": "备注"},
            f"unit-{unit_id}-ranks",
        )
        if ranks.height
        else "",
    )


def _changed(table: pl.DataFrame) -> pl.Expr:
    return pl.col("changed_since").fill_null(False) if "changed_since" in table.columns else pl.lit(False)


def _marked_names(table: pl.DataFrame) -> pl.DataFrame:
    """The issued table with :data:`~dashboards.closed_months.MARK` after a unit whose data changed since."""
    return table.with_columns(
        pl.when(_changed(table))
        .then(pl.col("unit_name") + MARK)
        .otherwise(pl.col("unit_name"))
        .alias("unit_name")
    )


def _later_column(ranks: pl.DataFrame) -> pl.Expr:
    """备注 of a month's row on a unit page: the later figure of a closed month whose data changed since."""
    if "changed_since" not in ranks.columns:
        return pl.lit("").alias("later")
    return (
        pl.struct("changed_since", "later_score", "later_rank")
        .map_elements(later_text, return_dtype=pl.String)
        .alias("later")
    )


def _later_notes(table: pl.DataFrame) -> str:
    """One line per marked unit under a closed month's table: its issued and later figures."""
    from markupsafe import escape

    lines = [
        f"<li>{escape(r['unit_name'])}{MARK}：印发时{r['score']:.2f}分、第{r['rank']}名，{escape(later_text(r))}</li>"
        for r in table.filter(_changed(table)).iter_rows(named=True)
    ]
    return f'<ul class="later-notes">{"".join(lines)}</ul>' if lines else ""


def build_site(settings, *, as_of: dt.datetime | None = None, out: Path | None = None) -> Path:
    """Build the whole site from the published snapshot; returns ``index.html``."""
    out = out or settings.site
    as_of = as_of or dt.datetime.now(dt.UTC)
    con = open_snapshot(settings.published)
    try:
        data = collect_site(con, as_of, settings)
    finally:
        con.close()
    ref, n = data.reference, data.period_no
    staging = out.with_name(out.name + ".building")
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "tasks").mkdir(parents=True)
    (staging / "units").mkdir()

    # copies of the rendered editions
    for e in list_editions(settings):
        if e.is_rendered():
            target = staging / "editions" / e.meta.kind / e.meta.ref
            target.mkdir(parents=True, exist_ok=True)
            for path in e.outputs().values():
                shutil.copy2(path, target / path.name)

    tasks_now = data.tasks.filter(pl.col("period_no") == n).sort("task_no")
    for task in ref.tasks.iter_rows(named=True):
        (staging / "tasks" / f"task-{task['task_no']:02d}.html").write_text(
            _task_page(data, task), encoding="utf-8"
        )
    units = ref.units.filter(pl.col("kind").is_in(["county", "department"]))
    for unit in units.iter_rows(named=True):
        (staging / "units" / f"{unit['unit_id']}.html").write_text(_unit_page(data, unit), encoding="utf-8")

    ranking_tables = []
    if data.ranking.height:
        from dashboards.ranking import SCOPES, bottom_of

        for scope, scope_name in SCOPES.items():
            table = data.ranking.filter(pl.col("scope") == scope).sort("rank")
            if table.height:
                bottom = ref.bottom_marked if ref.bottom_marked is not None else 3
                html = to_html(
                    build_ranking_table(
                        _marked_names(table), table_id=f"site-rank-{scope}", marked=bottom_of(table, bottom)
                    )
                )
                ranking_tables.append({"name": scope_name, "html": html + _later_notes(table)})
    overview = tasks_now.with_columns(
        pl.col("deadline").map_elements(fmt_deadline, return_dtype=pl.String).alias("deadline_text")
    )
    index = _render(
        "site_index.html.j2",
        title=data.campaign_name,
        root="",
        label=ref.period(n)["label"],
        editions=_editions_table(settings),
        kinds=[_KIND_NAMES[k] for k in KINDS],
        ranking_month=cn_month(data.ranking_month) if data.ranking_month else None,
        ranking_tables=ranking_tables,
        ranking_note=data.ranking_note if ranking_tables else "",
        tasks=list(overview.iter_rows(named=True)),
        tasks_table=_status_table(
            overview,
            {
                "task_no": "序号",
                "title": "任务",
                "lead_names": "牵头单位",
                "deadline_text": "完成时限",
                "status": "状态",
            },
            "site-tasks",
        ),
        units=[(u["unit_id"], u["name"], u["kind"]) for u in units.iter_rows(named=True)],
        generated=cn_date(local(as_of, data.timezone)),
    )
    (staging / "index.html").write_text(index, encoding="utf-8")
    from dashboards.leaders.export import write_leaders  # the leaders' pages, for offline reading

    write_leaders(settings, data, staging / "leaders", as_of)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return out / "index.html"


# --------------------------------------------------------------------------- serving


_DOWNLOADS = (".pdf", ".xlsx", ".xls", ".xlsm", ".csv", ".zip")


class _ReadOnlyHandler(http.server.SimpleHTTPRequestHandler):
    """GET and HEAD only, from the site folder; no directory listings; strict headers."""

    def list_directory(self, path):  # noqa: D102 - no listings
        self.send_error(404, "Not Found")
        return None

    def end_headers(self):
        self.send_header("Content-Security-Policy", f"{CSP}; frame-ancestors 'none'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        if self.path.lower().endswith(_DOWNLOADS):  # an edition's PDF or workbook: saved, never kept in caches
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Disposition", "attachment")
        else:
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def make_handler(site: Path):
    """The request handler class serving ``site`` read-only."""
    return functools.partial(_ReadOnlyHandler, directory=str(site))


def serve(settings, *, host: str = "127.0.0.1", port: int = 8000, rebuild: bool = False, ready=None) -> None:
    """Serve the site read-only (build it first when missing). Blocks until interrupted.

    ``ready`` is called with the bound ``(host, port)`` once the server listens (port 0 picks a free one).
    """
    index = settings.site / "index.html"
    if rebuild or not index.is_file():
        build_site(settings)
    server = http.server.ThreadingHTTPServer((host, port), make_handler(settings.site))
    try:
        if ready is not None:
            ready(server.server_address[:2])
        server.serve_forever()
    finally:
        server.server_close()
