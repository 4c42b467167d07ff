"""Every read of the warehouse that reports, editions and the site make: the one place that knows SQL.

Renderers never see SQL or table names: they get polars frames with the stable column names documented
on each function, and small dataclasses. When a mart changes, only this module changes.

Two kinds of database are read with the same queries:

- the **published snapshot** (``$ROADSAFE_HOME/published/warehouse.duckdb``, read-only), by the site;
- an edition's **frozen snapshot** (``reports/<kind>/<ref>/snapshot.duckdb``), made by
  :func:`dashboards.freezing.freeze_snapshot`, by every report renderer. It keeps the schema and table names (``ref.*``,
  ``marts.*``) but only the rows the edition may see (periods up to the edition's period).

Both are opened for reading with :func:`roadsafe.warehouse.open_snapshot` only; the one other connection
made is :func:`dashboards.freezing.freeze_snapshot` writing an edition's own snapshot (it attaches the
published one read-only to copy from).

Reports read the marts (and the campaign definition in ``ref``), never ``raw``: the lead units' task
reports come from ``marts.fct_task_reports``, submission attempts (the correction log) from
``marts.fct_submissions``, so the same queries run on both kinds of database.

Examples
--------
>>> from roadsafe.warehouse import open_snapshot
>>> con = open_snapshot(Path("var/published/warehouse.duckdb"))  # doctest: +SKIP
>>> ref = read_reference(con)  # doctest: +SKIP
>>> read_indicator_values(con, period_no=5).filter(pl.col("unit_id") == ref.city_id)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

__all__ = [
    "ALL_COUNTIES",
    "Coverage",
    "Reference",
    "condense_lead_reports",
    "has_table",
    "read_campaign_words",
    "read_compliance",
    "read_corrections",
    "read_coverage",
    "read_expected_between",
    "read_indicator_values",
    "read_lead_reports",
    "read_ranking",
    "read_ranking_breakdown",
    "read_ranking_months",
    "read_ranking_weights",
    "read_reference",
    "read_task_status",
    "scalar",
]

def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> pl.DataFrame:
    return con.sql(sql, params=params or None).pl()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> Any:
    rows = con.execute(sql, params or {}).fetchall()
    return rows[0][0] if rows else None


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None) -> bool:
    sql = "select count(*) from information_schema.tables where table_schema = $s and table_name = $t"
    params: dict[str, Any] = {"s": schema, "t": table}
    if catalog:
        sql += " and table_catalog = $c"
        params["c"] = catalog
    return scalar(con, sql, params) > 0


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = $s and table_name = $t",
        {"s": schema, "t": table},
    ).fetchall()
    return {r[0] for r in rows}


# --------------------------------------------------------------------------- reference

ALL_COUNTIES = "各县（市、区）"


def _lead_names_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A CTE ``leads(task_no, lead_ids, lead_names)``: lead units per task in unit order, with every county
    written once as 各县（市、区） (as the plan writes it) instead of fifteen names."""
    return f"""
        leads as (
            select tu.task_no,
                   list(tu.unit_id order by u.sort_order) as lead_ids,
                   case when count(*) filter (where u.kind = 'county')
                             = (select count(*) from ref.units where kind = 'county')
                        then concat_ws('、', '{ALL_COUNTIES}',
                                       string_agg(u.name, '、' order by u.sort_order)
                                           filter (where u.kind <> 'county'))
                        else string_agg(u.name, '、' order by u.sort_order) end as lead_names
            from ref.task_units tu join ref.units u using (unit_id)
            where tu.role = 'lead'
            group by tu.task_no
        )"""


@dataclass(frozen=True)
class Reference:
    """The campaign definition as the snapshot holds it (``ref.*``), as frames.

    Attributes
    ----------
    units : unit_id, name, kind, sort_order
    periods : period_no, label, start_date, end_date, due_at, month
    tasks : task_no, section_no, section_title, title, summary, deadline, is_milestone,
        lead_ids (list), lead_names (顿号-joined)
    indicators : indicator_code, name, kind, direction, deadline, deadline_rule, is_goal, task_nos (list)
    forms : form_code, name
    task_units : task_no, unit_id, role (``lead``/``co``)
    """

    units: pl.DataFrame
    periods: pl.DataFrame
    tasks: pl.DataFrame
    indicators: pl.DataFrame
    forms: pl.DataFrame
    city_id: str
    task_units: pl.DataFrame = field(default_factory=pl.DataFrame)
    bottom_marked: int | None = None

    def unit_name(self, unit_id: str | None) -> str:
        if unit_id is None:
            return ""
        hit = self.units.filter(pl.col("unit_id") == unit_id)
        return hit["name"][0] if hit.height else unit_id

    def names_of(self, unit_ids: list[str]) -> str:
        """Unit names joined with 、 in unit order; every county at once reads 各县（市、区）."""
        wanted = set(unit_ids)
        rows = self.units.filter(pl.col("unit_id").is_in(list(wanted))).sort("sort_order")
        counties = set(self.units.filter(pl.col("kind") == "county")["unit_id"].to_list())
        names = []
        if counties and counties <= wanted:
            names.append(ALL_COUNTIES)
            rows = rows.filter(pl.col("kind") != "county")
        names += rows["name"].to_list()
        return "、".join(names)

    def unit_kind(self, unit_id: str) -> str | None:
        hit = self.units.filter(pl.col("unit_id") == unit_id)
        return hit["kind"][0] if hit.height else None

    def unit_order(self) -> dict[str, int]:
        return dict(zip(self.units["unit_id"].to_list(), self.units["sort_order"].to_list(), strict=True))

    def period(self, period_no: int) -> dict:
        rows = self.periods.filter(pl.col("period_no") == period_no).to_dicts()
        if not rows:
            raise KeyError(f"数据快照中没有第{period_no}周")
        return rows[0]

    def periods_of_month(self, month: str) -> list[int]:
        return self.periods.filter(pl.col("month") == month)["period_no"].sort().to_list()

    def form_name(self, form_code: str) -> str:
        hit = self.forms.filter(pl.col("form_code") == form_code)
        return hit["name"][0] if hit.height else form_code


def read_reference(con: duckdb.DuckDBPyConnection) -> Reference:
    """The ``ref.*`` tables an edition needs, joined into readable frames."""
    units = _frame(con, "select unit_id, name, kind, sort_order from ref.units order by sort_order, unit_id")
    city_id = scalar(con, "select city_unit_id from ref.campaign")
    bottom = None
    if "ranking_bottom_marked" in _columns(con, "ref", "campaign"):
        bottom = scalar(con, "select ranking_bottom_marked from ref.campaign")
    periods = _frame(
        con,
        "select period_no, label, start_date, end_date, due_at, month from ref.periods order by period_no",
    )
    tasks = _frame(
        con,
        f"""
        with {_lead_names_sql(con)}
        select t.task_no, t.section_no, t.section_title, t.title, t.summary, t.deadline, t.is_milestone,
               coalesce(l.lead_ids, []) as lead_ids, coalesce(l.lead_names, '') as lead_names
        from ref.tasks t
        left join leads l using (task_no)
        order by t.task_no
        """,
    )
    indicators = _frame(
        con,
        """
        select i.indicator_code, i.name, i.kind, i.direction, i.deadline, i.deadline_rule, i.is_goal,
               coalesce(list(it.task_no order by it.task_no) filter (where it.task_no is not null), [])
                   as task_nos
        from ref.indicators i
        left join ref.indicator_tasks it using (indicator_code)
        group by all
        order by i.indicator_code
        """,
    )
    forms = _frame(con, "select form_code, name from ref.forms order by form_code")
    task_units = _frame(
        con,
        """
        select tu.task_no, tu.unit_id, tu.role from ref.task_units tu join ref.units u using (unit_id)
        order by tu.task_no, tu.role desc, u.sort_order
        """,
    )
    return Reference(
        units=units,
        periods=periods,
        tasks=tasks,
        indicators=indicators,
        forms=forms,
        city_id=city_id,
        task_units=task_units,
        bottom_marked=bottom,
    )


# --------------------------------------------------------------------------- indicators and tasks

_INDICATOR_SELECT = """
select v.indicator_code, i.name as indicator_name, i.kind, i.direction, i.is_goal,
       v.unit_id, u.name as unit_name, u.kind as unit_kind, u.sort_order as unit_order,
       v.period_no, v.numerator, v.denominator, v.actual, v.target, v.target_is_assumption, v.deadline,
       v.baseline, v.expected, v.gap, v.status
from marts.fct_indicator_values v
join ref.indicators i using (indicator_code)
join ref.units u using (unit_id)
"""


def _period_filter(alias: str, period_no: int | None, upto: int | None) -> tuple[list[str], dict]:
    """Where-clauses and parameters for ``period_no`` (only this period) and ``upto`` (periods 1..upto)."""
    where, params = [], {}
    if period_no is not None:
        where.append(f"{alias}.period_no = $p")
        params["p"] = period_no
    if upto is not None:
        where.append(f"{alias}.period_no <= $u")
        params["u"] = upto
    return where, params


def read_indicator_values(
    con: duckdb.DuckDBPyConnection, *, period_no: int | None = None, upto: int | None = None
) -> pl.DataFrame:
    """Indicator values with names.

    Columns: indicator_code, indicator_name, kind (``rate``/``count``), direction, is_goal, unit_id,
    unit_name, unit_kind, unit_order, period_no, numerator, denominator, actual, target,
    target_is_assumption (the office's target, not the plan's: shown （暂定）), deadline, baseline,
    expected (序时进度), gap, status.

    Parameters
    ----------
    period_no : int, optional
        Only this period.
    upto : int, optional
        Periods ``1..upto`` (for trends).
    """
    where, params = _period_filter("v", period_no, upto)
    sql = _INDICATOR_SELECT + (" where " + " and ".join(where) if where else "")
    sql += " order by v.indicator_code, u.sort_order, v.unit_id, v.period_no"
    return _frame(con, sql, params)


def read_task_status(
    con: duckdb.DuckDBPyConnection, *, period_no: int | None = None, upto: int | None = None
) -> pl.DataFrame:
    """Task status per period, with the task's definition.

    Columns: task_no, section_no, section_title, title, deadline, is_milestone, lead_names, period_no,
    status, status_basis (``indicators``/``task_reports``), lead_report_status (the mart's
    ``单位：状态；…``), lead_status (the same condensed: ``推进中``, or ``已完成14个、未报送1个``),
    progress, difficulties (the leads' words, attributed: ``单位：…；单位：…``).
    """
    cols = _columns(con, "marts", "fct_task_status")

    def col(name: str, *alternatives: str) -> str:
        for candidate in (name, *alternatives):
            if candidate in cols:
                return f"s.{candidate}"
        return "null"

    where, params = _period_filter("s", period_no, upto)
    sql = f"""
        with {_lead_names_sql(con)}
        select t.task_no, t.section_no, t.section_title, t.title, t.deadline, t.is_milestone,
               coalesce(l.lead_names, '') as lead_names, s.period_no, s.status,
               {col("status_basis")}::varchar as status_basis,
               {col("lead_report_status")}::varchar as lead_report_status,
               {col("progress_text", "progress")}::varchar as progress,
               {col("difficulties")}::varchar as difficulties
        from marts.fct_task_status s
        join ref.tasks t using (task_no)
        left join leads l using (task_no)
        {"where " + " and ".join(where) if where else ""}
        order by t.task_no, s.period_no
    """
    frame = _frame(con, sql, params)
    condensed = [condense_lead_reports(text) for text in frame["lead_report_status"].to_list()]
    return frame.with_columns(pl.Series("lead_status", condensed, dtype=pl.String))


def condense_lead_reports(text: str | None) -> str | None:
    """The mart's ``市公安局：推进中；市交通运输局：已完成（第4周）`` in a table cell's words.

    >>> condense_lead_reports("市公安局：推进中")
    '推进中'
    >>> condense_lead_reports("浔阳区：已完成；濂溪区：已完成；柴桑区：未报送")
    '已完成2个、未报送1个'
    """
    if not text:
        return None
    statuses = []
    for part in text.split("；"):
        _unit, _sep, status = part.partition("：")
        statuses.append((status or part).strip())
    if len(statuses) == 1:
        return statuses[0]
    counts: dict[str, int] = {}
    for status in statuses:
        key = status.split("（")[0]
        counts[key] = counts.get(key, 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    return "、".join(f"{k}{v}个" for k, v in counts.items())


def read_unit_documents(con: duckdb.DuckDBPyConnection, occurrence: str) -> pl.DataFrame:
    """The units' written documents of one occurrence (``YYYY-MM`` for the monthly 小结), one row per
    responsible unit, received or not (``marts.fct_document_submissions``).

    Columns: unit_id, unit_name, name (the document), due_at, received, on_time, minutes_late,
    received_at (the first accepted), title, page_count, excerpt (of the current file; null when no text).
    """
    schema = {
        "unit_id": pl.String, "unit_name": pl.String, "name": pl.String,
        "due_at": pl.Datetime("us", "UTC"), "received": pl.Boolean, "on_time": pl.Boolean,
        "minutes_late": pl.Int64, "received_at": pl.Datetime("us", "UTC"), "title": pl.String,
        "page_count": pl.Int64, "excerpt": pl.String,
    }  # fmt: skip
    if not has_table(con, "marts", "fct_document_submissions"):
        return pl.DataFrame(schema=schema)
    frame = _frame(
        con,
        """
        select x.unit_id, u.name as unit_name, x.oneoff_name as name, x.due_at, x.received, x.on_time,
               x.minutes_late::bigint as minutes_late, x.first_received_at as received_at, x.title,
               x.page_count::bigint as page_count, x.excerpt
        from marts.fct_document_submissions x join ref.units u using (unit_id)
        where x.occurrence = $o
        order by u.sort_order, x.unit_id
        """,
        {"o": occurrence},
    )
    return frame.cast(schema) if frame.height else pl.DataFrame(schema=schema)


def read_lead_reports(con: duckdb.DuckDBPyConnection, period_no: int) -> pl.DataFrame:
    """The lead units' own task-report (F9) words for a period, one row per (task, lead unit) that
    reported for that very period (older reports carried forward are left out).

    Columns: task_no, unit_id, unit_name, status, progress, difficulties, submission_id.
    Read from ``marts.fct_task_reports`` (the current file of each lead unit); text as loaded.
    """
    if not has_table(con, "marts", "fct_task_reports"):
        return pl.DataFrame(
            schema={
                "task_no": pl.Int64,
                "unit_id": pl.String,
                "unit_name": pl.String,
                "status": pl.String,
                "progress": pl.String,
                "difficulties": pl.String,
                "submission_id": pl.String,
            }
        )
    return _frame(
        con,
        """
        select r.task_no::bigint as task_no, r.unit_id, u.name as unit_name,
               r.report_status::varchar as status, r.progress::varchar as progress,
               r.difficulties::varchar as difficulties, r.submission_id::varchar as submission_id
        from marts.fct_task_reports r
        join ref.units u on u.unit_id = r.unit_id
        where r.period_no = $p and r.reported_this_period
        order by 1, u.sort_order, r.unit_id
        """,
        {"p": period_no},
    )


# --------------------------------------------------------------------------- submissions


def read_compliance(
    con: duckdb.DuckDBPyConnection, *, period_nos: list[int] | None = None, as_of: dt.datetime | None = None
) -> pl.DataFrame:
    """Expected submissions and what arrived, per (form, unit, period).

    Columns: form_code, form_name, unit_id, unit_name, unit_kind, unit_order, period_no, due_at,
    received_at (first accepted submission, null when none), minutes_late, status
    (``按时``/``逾期``/``未报``/...), on_time (bool), submitted (bool), returned / excused (bool: the
    office's 退回 / 情况说明, decided by ``as_of``) with return_reason / excuse_reason.

    Parameters
    ----------
    as_of : datetime, optional
        Count only what had arrived by then: a submission received later reads as not received (an
        edition shows the state at its own time, even when its snapshot was copied later).
    """
    cols = _columns(con, "marts", "fct_submission_compliance")
    received = next((c for c in ("first_received_at", "received_at", "first_accepted_at") if c in cols), None)
    received_sql = f"c.{received}" if received else "null::timestamptz"
    if received and as_of is not None:
        received_sql = (
            f"(case when {received_sql} <= '{as_of.astimezone(dt.UTC).isoformat()}'::timestamptz "
            f"then {received_sql} end)"
        )
    late_sql = "c.minutes_late" if "minutes_late" in cols else "null::integer"
    decided = {}  # the office's 退回 / 已说明 (absent from snapshots built before them), as of the edition
    for flag, at, why in (("returned", "returned_at", "return_reason"), ("excused", "excused_at", "excuse_reason")):
        cut = "" if as_of is None else f" and c.{at} <= '{as_of.astimezone(dt.UTC).isoformat()}'::timestamptz"
        decided[flag] = f"coalesce(c.{flag}{cut}, false)" if flag in cols else "false"
        decided[why] = f"(case when {decided[flag]} then c.{why} end)" if flag in cols else "null::varchar"
    status_sql = "c.status" if "status" in cols else "null::varchar"
    where = ""
    if period_nos is not None:
        where = (
            "where c.period_no in (" + ",".join(str(int(p)) for p in period_nos) + ")"
            if period_nos
            else ("where false")
        )
    return _frame(
        con,
        f"""
        select c.form_code, f.name as form_name, c.unit_id, u.name as unit_name, u.kind as unit_kind,
               u.sort_order as unit_order, c.period_no, c.due_at,
               {received_sql} as received_at, {late_sql} as minutes_late, {status_sql}::varchar as status,
               ({received_sql} is not null and {received_sql} <= c.due_at) as on_time,
               ({received_sql} is not null) as submitted,
               {decided["returned"]} as returned, {decided["return_reason"]}::varchar as return_reason,
               {decided["excused"]} as excused, {decided["excuse_reason"]}::varchar as excuse_reason
        from marts.fct_submission_compliance c
        join ref.forms f using (form_code)
        join ref.units u using (unit_id)
        {where}
        order by c.period_no, c.form_code, u.sort_order, c.unit_id
        """,
    )


def _utc(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC")


def _utc_lit(moment: dt.datetime) -> pl.Expr:
    return pl.lit(moment.astimezone(dt.UTC)).dt.convert_time_zone("UTC")


@dataclass(frozen=True)
class Coverage:
    """The stamp of data coverage: ``截至5月12日12时，应报42份，已报39份``.

    ``expected`` counts submissions due by ``cutoff``; ``received`` those of them that arrived by
    ``cutoff``; ``late_after`` those that arrived after ``cutoff`` but by ``until`` (补报).
    """

    cutoff: dt.datetime
    expected: int
    received: int
    late_after: int
    until: dt.datetime


def read_coverage(
    con: duckdb.DuckDBPyConnection, period_nos: list[int], cutoff: dt.datetime, until: dt.datetime
) -> Coverage:
    """Count the coverage stamp from :func:`read_compliance` for ``period_nos``."""
    frame = read_compliance(con, period_nos=period_nos).with_columns(_utc("due_at"), _utc("received_at"))
    cut, end = _utc_lit(cutoff), _utc_lit(until)
    due = frame.filter(pl.col("due_at") <= cut)
    received = due.filter(pl.col("received_at").is_not_null() & (pl.col("received_at") <= cut)).height
    late = due.filter(
        pl.col("received_at").is_not_null() & (pl.col("received_at") > cut) & (pl.col("received_at") <= end)
    ).height
    return Coverage(cutoff=cutoff, expected=due.height, received=received, late_after=late, until=until)


def read_corrections(
    con: duckdb.DuckDBPyConnection, since: dt.datetime, until: dt.datetime, max_period: int
) -> pl.DataFrame:
    """Submissions for periods ``<= max_period`` that arrived in ``(since, until]``: late arrivals (补报)
    and resubmissions that replaced an earlier one (更正).

    Columns: submission_id, form_code, form_name, unit_id, unit_name, period_no, received_at, status,
    replaces (the submission it superseded, null for a first submission), kind (``补报``/``更正``/``退回``).
    Read from ``marts.fct_submissions``.
    """
    if not has_table(con, "marts", "fct_submissions"):
        return pl.DataFrame()
    return _frame(
        con,
        """
        select s.submission_id, s.form_code, f.name as form_name, s.unit_id, u.name as unit_name,
               s.period_no, s.received_at, s.status, s.replaces,
               case when s.status = 'rejected' then '退回'
                    when s.replaces is not null then '更正'
                    else '补报' end as kind
        from marts.fct_submissions s
        join ref.units u on u.unit_id = s.unit_id
        left join ref.forms f on f.form_code = s.form_code
        where s.received_at > $since and s.received_at <= $until and s.period_no <= $maxp
          and s.status in ('accepted', 'rejected')
        order by s.received_at, s.submission_id
        """,
        {"since": since, "until": until, "maxp": max_period},
    )


def read_expected_between(
    con: duckdb.DuckDBPyConnection, start: dt.datetime, end: dt.datetime
) -> pl.DataFrame:
    """Forms falling due in ``(start, end]`` (from ``ref.expected_submissions``) and one-off submissions.

    Columns: kind (``form``/``oneoff``), code, name, unit_id, period_no (null for one-offs), due_at.
    """
    forms = _frame(
        con,
        """
        select 'form' as kind, e.form_code as code, f.name, e.unit_id, e.period_no, e.due_at
        from ref.expected_submissions e join ref.forms f using (form_code)
        where e.due_at > $a and e.due_at <= $b
        """,
        {"a": start, "b": end},
    )
    if has_table(con, "ref", "oneoffs"):
        oneoffs = _frame(
            con,
            """
            select 'oneoff' as kind, code, name, unit_id, null::integer as period_no, due_at
            from ref.oneoffs where due_at > $a and due_at <= $b
            """,
            {"a": start, "b": end},
        )
        if oneoffs.height:
            forms = pl.concat([forms, oneoffs.cast(forms.schema)], how="vertical")
    return forms.sort(["due_at", "kind", "code", "unit_id"])


# --------------------------------------------------------------------------- ranking


def read_ranking_months(con: duckdb.DuckDBPyConnection, as_of: dt.datetime | None = None) -> list[str]:
    """Months that have a ranking, oldest first; with ``as_of``, only those whose ranking time
    (``ref.months.ranking_at``) has come."""
    if as_of is None:
        rows = con.execute("select distinct month from marts.rpt_monthly_ranking order by 1").fetchall()
    else:
        rows = con.execute(
            """
            select distinct r.month from marts.rpt_monthly_ranking r join ref.months m using (month)
            where m.ranking_at is null or m.ranking_at <= $t order by 1
            """,
            {"t": as_of},
        ).fetchall()
    return [r[0] for r in rows]


def read_ranking(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    """The month's league tables.

    Columns: scope (``county``/``department``), unit_id, unit_name, score, attainment, timeliness,
    quality (the components' points), rank, prev_rank, rank_change (positive = moved up), is_bottom
    (排名靠后, as the mart marks it).
    """
    cols = _columns(con, "marts", "rpt_monthly_ranking")

    def points(name: str) -> str:
        for candidate in (f"{name}_points", name):
            if candidate in cols:
                return f"r.{candidate}::double"
        return "null::double"

    prev_rank = next((f"r.{c}" for c in ("previous_rank", "prev_rank") if c in cols), "p.rank")
    rank_change = "r.rank_change" if "rank_change" in cols else f"({prev_rank} - r.rank)"
    is_bottom = "r.is_bottom" if "is_bottom" in cols else "null::boolean"
    return _frame(
        con,
        f"""
        select r.scope, r.unit_id, u.name as unit_name, r.score::double as score,
               {points("attainment")} as attainment, {points("timeliness")} as timeliness,
               {points("quality")} as quality, r.rank::integer as rank,
               {prev_rank}::integer as prev_rank, {rank_change}::integer as rank_change,
               {is_bottom} as is_bottom
        from marts.rpt_monthly_ranking r
        join ref.units u using (unit_id)
        left join marts.rpt_monthly_ranking p
               on p.scope = r.scope and p.unit_id = r.unit_id
              and p.month = (select max(month) from marts.rpt_monthly_ranking where month < r.month)
        where r.month = $m
        order by r.scope, r.rank, u.sort_order
        """,
        {"m": month},
    )


def read_ranking_breakdown(con: duckdb.DuckDBPyConnection, month: str) -> pl.DataFrame:
    """The points behind each score, line by line.

    Columns: scope, unit_id, unit_name, component, item (readable label), points, max_points, detail.
    """
    cols = _columns(con, "marts", "rpt_ranking_breakdown")
    item = "b.item_label" if "item_label" in cols else "b.item"
    max_points = next((f"b.{c}::double" for c in ("weight", "max_points") if c in cols), "null::double")
    detail = "b.detail::varchar" if "detail" in cols else "null::varchar"
    return _frame(
        con,
        f"""
        select b.scope, b.unit_id, u.name as unit_name, b.component, {item}::varchar as item,
               b.points::double as points, {max_points} as max_points, {detail} as detail
        from marts.rpt_ranking_breakdown b
        join ref.units u using (unit_id)
        where b.month = $m
        order by b.scope, u.sort_order, b.unit_id, b.component, b.item
        """,
        {"m": month},
    )


def read_ranking_weights(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Ranking weights: scope, component, weight, tie_break_order (null when not a tie breaker)."""
    cols = _columns(con, "ref", "ranking_weights")
    order = "tie_break_order" if "tie_break_order" in cols else "null::integer"
    return _frame(
        con,
        f"select scope, component, weight::double as weight, {order} as tie_break_order "
        "from ref.ranking_weights order by scope, weight desc, component",
    )


def read_campaign_words(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(timezone, name) of the campaign in the snapshot."""
    return con.execute("select timezone, name from ref.campaign").fetchall()[0]


# --------------------------------------------------------------------------- the office's decisions


def read_office_decisions(
    con: duckdb.DuckDBPyConnection, since: dt.datetime | None, until: dt.datetime
) -> pl.DataFrame:
    """The office's returns (退回) and excuses (情况说明) decided in ``(since, until]``, oldest first.

    Columns: kind (``退回``/``已说明``), decision_id, form_code, form_name, unit_id, unit_name, unit_order,
    period_no, reason, decided_at. Empty when the snapshot has no ``ref.office_*`` tables.
    """
    if not (has_table(con, "ref", "office_returns") and has_table(con, "ref", "office_excuses")):
        return pl.DataFrame()
    return _frame(
        con,
        """
        with decided as (
            select '退回' as kind, return_id as decision_id, form_code, unit_id, period_no, reason, decided_at
            from ref.office_returns
            union all
            select '已说明', excuse_id, form_code, unit_id, period_no, reason, decided_at from ref.office_excuses
        )
        select d.kind, d.decision_id, d.form_code, f.name as form_name, d.unit_id, u.name as unit_name,
               u.sort_order as unit_order, d.period_no, d.reason, d.decided_at
        from decided d join ref.units u using (unit_id) left join ref.forms f using (form_code)
        where d.decided_at <= $until and ($since is null or d.decided_at > $since)
        order by d.decided_at, d.decision_id
        """,
        {"since": since, "until": until},
    )


def read_open_cases(con: duckdb.DuckDBPyConnection, as_of: dt.datetime) -> pl.DataFrame:
    """Cases of the office's enforcement register (督办案件) open at ``as_of``, with their latest action.

    Columns: case_id, unit_id, task_no, kind_name, title, opened_at, actions (count), last_action,
    last_action_on. Empty when the snapshot has no ``ref.office_cases``.
    """
    if not (has_table(con, "ref", "office_cases") and has_table(con, "ref", "office_case_actions")):
        return pl.DataFrame()
    return _frame(
        con,
        """
        select c.case_id, c.unit_id, c.task_no, c.kind_name, c.title, c.opened_at,
               count(a.action_no) as actions, arg_max(a.action, a.action_no) as last_action,
               max(a.on_date) as last_action_on
        from ref.office_cases c
        left join ref.office_case_actions a on a.case_id = c.case_id and a.decided_at <= $t
        where c.opened_at <= $t and (c.closed_at is null or c.closed_at > $t)
        group by all
        order by c.case_id
        """,
        {"t": as_of},
    )
