"""The ``ref.*`` tables: the campaign definition written into the warehouse for dbt and the readers.

:func:`write_reference` rewrites every table in one transaction, so a build never sees half a
definition. The tables and their grains are the contract in ``docs/ARCHITECTURE.md``; two additive
columns serve the ranking: ``ref.campaign.ranking_bottom_marked`` and
``ref.ranking_weights.tie_break_order`` (position in ``ranking.tie_breakers``, null if not a tie
breaker), and ``ref.oneoffs`` carries ``occurrence`` (``YYYY-MM`` for monthly one-offs, ``YYYY`` for
yearly ones, empty for a fixed date), so its grain is (code, occurrence, unit_id). ``ref.form_columns`` carries each column's
``role`` (``task_status``/``task_progress``/``task_difficulties``/``task_evidence``, null otherwise) and
its enum ``values`` in the order written (for the status column: not started first, done last).

Examples
--------
>>> import duckdb
>>> from roadsafe.campaign import load_campaign
>>> from roadsafe.workcalendar import WorkCalendar
>>> con = duckdb.connect()
>>> counts = write_reference(con, load_campaign("jiujiang-2022"), WorkCalendar.load())
>>> counts["ref.periods"], counts["ref.indicators"]
(13, 14)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from roadsafe.campaign import COUNTIES, Campaign
from roadsafe.workcalendar import WorkCalendar

__all__ = ["OFFICE_TABLES", "REF_TABLES", "reference_rows", "write_office_tables", "write_reference"]

# table -> ((column, DuckDB type), ...) in column order. The first columns form the grain.
REF_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "campaign": (
        ("campaign_code", "varchar"),
        ("name", "varchar"),
        ("document", "varchar"),
        ("city_unit_id", "varchar"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("timezone", "varchar"),
        ("ranking_bottom_marked", "integer"),
        ("goal", "varchar"),
        ("co_duty", "varchar"),
    ),
    "units": (
        ("unit_id", "varchar"),
        ("name", "varchar"),
        ("kind", "varchar"),
        ("code", "varchar"),
        ("sort_order", "integer"),
    ),
    "unit_aliases": (("alias", "varchar"), ("unit_id", "varchar")),
    "group_members": (("group_id", "varchar"), ("unit_id", "varchar")),
    "periods": (
        ("period_no", "integer"),
        ("label", "varchar"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("due_at", "timestamptz"),
        ("month", "varchar"),
    ),
    "months": (
        ("month", "varchar"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("last_working_day", "date"),
        ("ranking_at", "timestamptz"),
    ),
    "tasks": (
        ("task_no", "integer"),
        ("section_no", "integer"),
        ("section_title", "varchar"),
        ("title", "varchar"),
        ("summary", "varchar"),
        ("deadline", "date"),
        ("is_milestone", "boolean"),
    ),
    "task_units": (("task_no", "integer"), ("unit_id", "varchar"), ("role", "varchar")),
    "task_requirements": (
        ("task_no", "integer"),
        ("position", "integer"),
        ("quote", "varchar"),
        ("judged_by", "varchar"),
        ("indicator_codes", "varchar[]"),
        ("inputs", "varchar[]"),
        ("at_least", "integer"),
        ("per", "varchar"),
        ("note", "varchar"),
    ),
    "forms": (("form_code", "varchar"), ("name", "varchar"), ("grain", "varchar"), ("key_column", "varchar")),
    "form_columns": (
        ("form_code", "varchar"),
        ("column_key", "varchar"),
        ("header", "varchar"),
        ("data_type", "varchar"),
        ("measure", "varchar"),
        ("monotone", "varchar"),
        ("position", "integer"),
        ("role", "varchar"),
        ("values", "varchar[]"),
    ),
    "expected_submissions": (
        ("form_code", "varchar"),
        ("unit_id", "varchar"),
        ("period_no", "integer"),
        ("due_at", "timestamptz"),
    ),
    "indicators": (
        ("indicator_code", "varchar"),
        ("name", "varchar"),
        ("kind", "varchar"),
        ("value_rule", "varchar"),
        ("direction", "varchar"),
        ("deadline", "date"),
        ("deadline_rule", "varchar"),
        ("is_goal", "boolean"),
        ("quote", "varchar"),
        ("assumption", "varchar"),
    ),
    "indicator_tasks": (("indicator_code", "varchar"), ("task_no", "integer")),
    "indicator_scopes": (("indicator_code", "varchar"), ("unit_id", "varchar")),
    "indicator_terms": (
        ("indicator_code", "varchar"),
        ("term", "varchar"),
        ("column_key", "varchar"),
        ("form_code", "varchar"),
        ("agg", "varchar"),
        ("window", "varchar"),
    ),
    "indicator_conditions": (
        ("indicator_code", "varchar"),
        ("term", "varchar"),
        ("column_key", "varchar"),
        ("op", "varchar"),
        ("values", "varchar[]"),
    ),
    "indicator_targets": (
        ("indicator_code", "varchar"),
        ("unit_id", "varchar"),
        ("target", "double"),
        ("from_denominator", "boolean"),
        ("is_assumption", "boolean"),
    ),
    "indicator_milestones": (("indicator_code", "varchar"), ("on_date", "date"), ("value", "double")),
    "ranking_weights": (
        ("scope", "varchar"),
        ("component", "varchar"),
        ("weight", "double"),
        ("tie_break_order", "integer"),
    ),
    "oneoffs": (
        ("code", "varchar"),
        ("occurrence", "varchar"),
        ("unit_id", "varchar"),
        ("name", "varchar"),
        ("due_at", "timestamptz"),
    ),
}

# The office's decisions (roadsafe.office_record), loaded by the build after the definition. Grain first.
OFFICE_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "office_returns": (
        ("return_id", "varchar"),
        ("submission_id", "varchar"),
        ("form_code", "varchar"),
        ("unit_id", "varchar"),
        ("period_no", "integer"),
        ("reason", "varchar"),
        ("decided_by", "varchar"),
        ("decided_at", "timestamptz"),
    ),
    "office_excuses": (
        ("excuse_id", "varchar"),
        ("form_code", "varchar"),
        ("unit_id", "varchar"),
        ("period_no", "integer"),
        ("reason", "varchar"),
        ("decided_by", "varchar"),
        ("decided_at", "timestamptz"),
    ),
    "office_cases": (
        ("case_id", "varchar"),
        ("unit_id", "varchar"),
        ("task_no", "integer"),
        ("case_kind", "varchar"),
        ("kind_name", "varchar"),
        ("source", "varchar"),
        ("source_ref", "varchar"),
        ("title", "varchar"),
        ("reason", "varchar"),
        ("opened_by", "varchar"),
        ("opened_at", "timestamptz"),
        ("closed_by", "varchar"),
        ("closed_at", "timestamptz"),
        ("close_note", "varchar"),
        ("evidence_name", "varchar"),
        ("evidence_sha256", "varchar"),
    ),
    "office_case_actions": (
        ("case_id", "varchar"),
        ("action_no", "integer"),
        ("action", "varchar"),
        ("on_date", "date"),
        ("note", "varchar"),
        ("decided_by", "varchar"),
        ("decided_at", "timestamptz"),
    ),
}

_ARROW_TYPES = {
    "varchar": "string",
    "integer": "int32",
    "double": "float64",
    "boolean": "bool_",
    "date": "date32",
}


def _at(campaign: Campaign, day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=ZoneInfo(campaign.frame.timezone))


def _months(campaign: Campaign) -> list[tuple[str, dt.date, dt.date]]:
    """(``YYYY-MM``, first day, last day) of every month the campaign touches, cut at start and end."""
    start, end = campaign.frame.start, campaign.frame.end
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        first = dt.date(year, month, 1)
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        out.append((f"{year}-{month:02d}", max(first, start), min(nxt - dt.timedelta(days=1), end)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def reference_rows(campaign: Campaign, calendar: WorkCalendar) -> dict[str, list[tuple]]:
    """Every ``ref.*`` table's rows (tuples in :data:`REF_TABLES` column order), keyed by table name.

    Raises
    ------
    CalendarYearMissing
        If a due time falls in a year the working-day calendar does not know.
    """
    from roadsafe.schedule import form_due_at, oneoff_due_times

    frame = campaign.frame
    units = list(campaign.units.values())
    rows: dict[str, list[tuple]] = {name: [] for name in REF_TABLES}

    rows["campaign"].append(
        (
            frame.code,
            frame.name,
            frame.document,
            campaign.city.id,
            frame.start,
            frame.end,
            frame.timezone,
            frame.ranking.bottom_marked,
            frame.goal,
            frame.co_duty,
        )
    )
    for order, unit in enumerate(units):
        rows["units"].append((unit.id, unit.name, unit.kind, unit.code, order))
    aliases: dict[str, str] = {}
    for unit in units:
        for alias in (unit.name, *unit.aliases):
            aliases.setdefault(alias, unit.id)
    rows["unit_aliases"] = sorted(aliases.items())
    for group_id, members in campaign.groups.items():
        rows["group_members"] += [(group_id, m) for m in members]

    periods = campaign.periods()
    due = {p.no: form_due_at(campaign, calendar, p) for p in periods}
    rows["periods"] = [(p.no, p.label, p.start, p.end, due[p.no], p.month) for p in periods]

    ranking_rule = frame.reports.get("monthly_ranking")
    for month, first, last in _months(campaign):
        year, mon = int(month[:4]), int(month[5:])
        last_working = calendar.last_working_day_of_month(year, mon)
        ranking_at = (
            _at(campaign, last_working, ranking_rule.time)
            if ranking_rule is not None and ranking_rule.rule == "last_working_day_of_month"
            else None
        )
        rows["months"].append((month, first, last, last_working, ranking_at))

    # a task is judged on its indicators only when one of them has a target; else on its lead units' reports
    indicator_tasks = {
        no for ind in campaign.indicators.values() if ind.direction != "none" for no in ind.tasks
    }
    sections = {s.no: s.title for s in campaign.sections}
    for t in campaign.tasks:
        rows["tasks"].append(
            (
                t.no,
                t.section,
                sections.get(t.section),
                t.title,
                t.summary,
                t.deadline,
                t.no not in indicator_tasks,
            )
        )
        for role, refs in (("lead", t.lead), ("co", t.co)):
            rows["task_units"] += [(t.no, u, role) for u in campaign.expand_units(refs)]
        rows["task_requirements"] += [
            (t.no, pos, r.quote, r.judged_by, r.indicators, r.inputs, r.at_least, r.per, r.note)
            for pos, r in enumerate(t.requirements, start=1)
        ]

    for code, form in campaign.forms.items():
        rows["forms"].append((code, form.name, form.grain, form.key_column))
        for pos, col in enumerate(form.columns, start=1):
            rows["form_columns"].append(
                (code, col.key, col.header, col.type, col.measure, col.monotone, pos, col.role, col.values)
            )
        for unit_id in campaign.form_submitters(code):
            rows["expected_submissions"] += [(code, unit_id, p.no, due[p.no]) for p in periods]

    for code, ind in campaign.indicators.items():
        if ind.deadline == "month_end":
            deadline, rule = None, "month_end"
        elif ind.deadline is None:
            deadline, rule = None, None
        else:
            deadline, rule = ind.deadline, "fixed"
        rows["indicators"].append(
            (
                code,
                ind.name,
                ind.kind,
                ind.value,
                ind.direction,
                deadline,
                rule,
                ind.goal,
                ind.quote,
                ind.assumption,
            )
        )
        rows["indicator_tasks"] += [(code, no) for no in ind.tasks]
        scope_units = []
        for scope in ind.scopes:
            if scope == COUNTIES or scope == "county":
                scope_units += [("county", u.id) for u in campaign.counties]
            elif scope == "city":
                scope_units.append(("city", campaign.city.id))
            else:
                scope_units.append(("group", scope))
        for kind, unit_id in dict.fromkeys(scope_units):
            rows["indicator_scopes"].append((code, unit_id))
            target = ind.target_for(kind, unit_id)
            assumed = ind.target_is_assumption(kind, unit_id)
            if target == "denominator":
                rows["indicator_targets"].append((code, unit_id, None, True, assumed))
            elif target is not None:
                rows["indicator_targets"].append((code, unit_id, float(target), False, assumed))
        for term_name, term in (("numerator", ind.numerator), ("denominator", ind.denominator)):
            if term is None:
                continue
            for column_key in term.columns or [None]:
                rows["indicator_terms"].append(
                    (code, term_name, column_key, term.form, term.agg, term.window)
                )
            for cond in term.where:
                rows["indicator_conditions"].append((code, term_name, cond.column, cond.op, cond.values))
        for m in ind.milestones:
            on = m["on"] if isinstance(m["on"], dt.date) else dt.date.fromisoformat(str(m["on"]))
            rows["indicator_milestones"].append((code, on, float(m["value"])))

    ties = frame.ranking.tie_breakers
    for scope in ("county", "department"):
        for component, weight in getattr(frame.ranking, scope).weights.items():
            order = ties.index(component) + 1 if component in ties else None
            rows["ranking_weights"].append((scope, component, float(weight), order))

    responsible = campaign.responsible_units
    for oneoff in frame.oneoffs:
        for occurrence, due_at in oneoff_due_times(campaign, calendar, oneoff):
            rows["oneoffs"] += [(oneoff.code, occurrence, u, oneoff.name, due_at) for u in responsible]
    return rows


def _arrow_table(table: str, rows: Sequence[tuple]):
    import pyarrow as pa

    fields = []
    for name, sql in {**REF_TABLES, **OFFICE_TABLES}[table]:
        if sql == "timestamptz":
            typ = pa.timestamp("us", tz="UTC")
        elif sql == "varchar[]":
            typ = pa.list_(pa.string())
        else:
            typ = getattr(pa, _ARROW_TYPES[sql])()
        fields.append(pa.field(name, typ))
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    return pa.table(
        [pa.array(list(col), type=f.type) for col, f in zip(columns, fields, strict=True)],
        schema=pa.schema(fields),
    )


def _ddl(table: str, verb: str = "create or replace table") -> str:
    cols = ", ".join(f'"{name}" {sql}' for name, sql in {**REF_TABLES, **OFFICE_TABLES}[table])
    return f"{verb} ref.{table} ({cols})"


def write_reference(
    con, campaign: Campaign, calendar: WorkCalendar, tables: Iterable[str] | None = None
) -> dict[str, int]:
    """Rewrite every ``ref.*`` table from the definition, in one transaction.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A writable connection to the warehouse.
    campaign : Campaign
    calendar : WorkCalendar
    tables : iterable of str, optional
        Only these tables (default: all of :data:`REF_TABLES`).

    Returns
    -------
    dict
        ``{"ref.<table>": row count}``.
    """
    rows = reference_rows(campaign, calendar)  # computed first: a calendar error leaves ref.* untouched
    names = list(tables or REF_TABLES)
    counts = {}
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists ref")
        for name in names:
            con.execute(_ddl(name))
            if rows[name]:
                con.register("_ref_rows", _arrow_table(name, rows[name]))
                try:
                    con.execute(f"insert into ref.{name} select * from _ref_rows")
                finally:
                    con.unregister("_ref_rows")
            counts[f"ref.{name}"] = len(rows[name])
        for name in OFFICE_TABLES:  # dbt always finds them; write_office_tables fills them
            con.execute(_ddl(name, "create table if not exists"))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return counts


def write_office_tables(con, home, campaign_code: str) -> dict[str, int]:
    """Rewrite the ``ref.office_*`` tables from the office's record under ``home`` (one transaction).

    Returns ``{"ref.<table>": row count}``.
    """
    from roadsafe.office_record import OfficeRecord, decision_rows

    rows = decision_rows(OfficeRecord(home).entries(campaign_code))
    counts = {}
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists ref")
        for name, columns in OFFICE_TABLES.items():
            con.execute(_ddl(name))
            tuples = [tuple(r[c] for c, _ in columns) for r in rows[name]]
            if tuples:
                con.register("_ref_rows", _arrow_table(name, tuples))
                try:
                    con.execute(f"insert into ref.{name} select * from _ref_rows")
                finally:
                    con.unregister("_ref_rows")
            counts[f"ref.{name}"] = len(tuples)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return counts
