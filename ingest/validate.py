"""Checking a submission: the file as a whole, then every cell and row of the normalised table, in SQL.

File checks: the submitter must submit this form, the period must belong to the campaign, required columns
must be there, there must be data rows. Cell and row checks run over the typed table
(:func:`ingest.normalise.normalise_table`): values that did not parse, required cells, ranges (negative
counts, absurd values above 10^9, rates outside 0..1, dates before 2000), the form's row rules (``le``,
``not_before``, ``requires``, ``only_when``), one row per record key, the units a submitter may report on
(a county only its own rows; F9 only the tasks the unit leads), and cumulative columns that fall below the
previous accepted period (an error or a warning as the form says).

Each check lists at most :data:`MAX_PER_CHECK` rows; the registry counts them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest import messages as M
from ingest.messages import ERROR, WARNING, Message, Place
from ingest.normalise import problem_column, sql_str
from ingest.schema import first, form_table
from roadsafe.campaign import Campaign, Period
from roadsafe.campaign.model import FormDef, RowRule, Unit
from roadsafe.wording import campaign_tz

__all__ = ["MAX_MESSAGES", "MAX_PER_CHECK", "Findings", "TableContext", "check_table", "submitter_problem"]

MAX_PER_CHECK = 100
MAX_MESSAGES = 500
ABSURD = 1_000_000_000
EARLIEST_DATE = dt.date(2000, 1, 1)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Findings:
    """Messages found, with the true counts (lists are capped)."""

    messages: list[tuple[tuple, Message]] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0

    def add(self, order: tuple, message: Message, count: int = 1) -> None:
        self.messages.append((order, message))
        if message.severity == ERROR:
            self.errors += count
        else:
            self.warnings += count

    def count_more(self, severity: str, n: int) -> None:
        if severity == ERROR:
            self.errors += n
        else:
            self.warnings += n

    def sorted(self, place: Place, limit: int = MAX_MESSAGES) -> list[Message]:
        """The messages in reading order (file problems, then by row and column), capped at ``limit``;
        a last message says how many more there are."""
        out = [m for _, m in sorted(self.messages, key=lambda x: x[0])][:limit]
        total = self.errors + self.warnings
        if total > len(out):
            severity = ERROR if self.errors else WARNING
            out.append(place.file_message(M.more_problems(total - len(out)), severity))
        return out


@dataclass
class TableContext:
    """Everything the table checks need."""

    campaign: Campaign
    form: FormDef
    place: Place
    headers: dict[str, str]  # key → header as written in the file
    present: list[str]  # form column keys found in the file
    submitter: Unit
    period: Period | None
    received_at: dt.datetime
    norm: str  # the normalised temp table
    src: str  # the reader's VARCHAR temp table

    def header(self, key: str) -> str:
        return self.headers.get(key) or self.form.column(key).header

    def position(self, key: str) -> int:
        return self.form.column_keys.index(key)


# --------------------------------------------------------------------------- file checks


def submitter_problem(campaign: Campaign, form: FormDef, unit: Unit) -> str | None:
    """Why ``unit`` may not submit ``form`` (a message body), or None."""
    if campaign.may_submit(form.code, unit.id):
        return None
    if form.grain == "task" and not campaign.tasks_led_by(unit.id):
        return M.no_task_led(unit.name, form.name)
    names = []
    for ref in form.submitters:
        if ref == "counties":
            names.append(campaign.units_def.all_counties_alias)
        elif ref == "task_leads":
            names.append("各任务牵头单位")
        else:
            names.append(campaign.units[ref].name)
    return M.not_a_submitter(unit.name, form.name, M.join_cn(names))


# --------------------------------------------------------------------------- table checks


@dataclass
class _Check:
    """A check waiting to run: its rows are listed only when its gate (an aggregate over the normalised table
    ``n``, by default the count of rows matching ``where``) is not zero."""

    where: str
    raw_keys: list[str]
    severity: str
    key: str
    body: Callable
    check_no: int
    extra: str = ""
    join: str = ""
    gate: str = ""


class _Checker:
    """Runs the checks. Most files break no rule, and each query costs about a millisecond however small
    the table, so the checks are collected first and one query counts the rows of every check; only the
    checks with rows are then listed (:meth:`rows`), in the order they were collected."""

    def __init__(self, con, ctx: TableContext):
        self.con = con
        self.ctx = ctx
        self.found = Findings()
        self.checks: list[_Check] = []
        self._labels: dict[int, dict[str, str | None]] | None = None

    def check(
        self,
        where: str,
        raw_keys: list[str],
        severity: str,
        key: str,
        body: Callable,
        check_no: int,
        *,
        extra: str = "",
        join: str = "",
        gate: str = "",
    ) -> None:
        """Collect a check: the rows matching ``where``, reported with ``body`` (see :meth:`report`)."""
        self.checks.append(_Check(where, raw_keys, severity, key, body, check_no, extra, join, gate))

    def run_checks(self) -> None:
        """Count the rows of every collected check in one query, then list and report those with rows."""
        checks, self.checks = self.checks, []
        if not checks:
            return
        gates = [c.gate or f"count(*) filter (where {c.where})" for c in checks]
        counts = first(self.con.execute(f"select {', '.join(gates)} from {self.ctx.norm} n"))
        for check, count in zip(checks, counts or [0] * len(checks), strict=True):
            if not count:
                continue
            rows, total = self.rows(check.where, check.raw_keys, check.extra, check.join)
            self.report(rows, total, check.severity, check.key, check.body, check.check_no)

    # rows of the normalised table matching `where`, with raw text of `raw_keys`
    def rows(self, where: str, raw_keys: list[str], extra: str = "", join: str = "") -> tuple[list, int]:
        ctx = self.ctx
        raws = [f"s.{_q(k)}" if k in ctx.present else "null::varchar" for k in raw_keys]
        select = ", ".join(["n.source_row", *raws] + ([extra] if extra else []))
        sql = (
            f"select {select}, count(*) over () as _total from {ctx.norm} n {join} "
            f"join {ctx.src} s on s.source_row = n.source_row where {where} "
            f"order by n.source_row limit {MAX_PER_CHECK}"
        )
        rows = self.con.execute(sql).fetchall()
        total = rows[0][-1] if rows else 0
        return [r[:-1] for r in rows], total

    def report(self, rows: list, total: int, severity: str, key: str, body, check_no: int) -> None:
        ctx = self.ctx
        header = ctx.header(key)
        pos = ctx.position(key)
        for row in rows:
            source_row, raw = row[0], row[1]
            text = body(row)
            label = M.row_label(ctx.form, self.label_cells(source_row), column=key)
            self.found.add(
                (1, source_row, pos, check_no), ctx.place.cell(source_row, header, raw, text, severity, label)
            )
        self.found.count_more(severity, total - len(rows))

    def label_cells(self, source_row: int) -> dict[str, str | None]:
        """The cells, as written, that name the row in messages (read once, when the first row is reported)."""
        if self._labels is None:
            keys = [k for k in M.label_columns(self.ctx.form) if k in self.ctx.present]
            select = ", ".join(["source_row", *(_q(k) for k in keys)])
            self._labels = {
                row[0]: dict(zip(keys, row[1:], strict=True))
                for row in self.con.execute(f"select {select} from {self.ctx.src}").fetchall()
            }
        return self._labels.get(source_row, {})

    # ------------------------------------------------------------------ the checks

    def problems(self) -> None:
        ctx = self.ctx
        county_example = ctx.campaign.counties[0].name if ctx.campaign.counties else "浔阳区"
        for col in ctx.form.columns:
            if col.key not in ctx.present or col.type == "text":
                continue

            def body(row, col=col):
                raw, code = row[1], row[2]
                if code == "unknown_unit":
                    unit = ctx.campaign.resolve_unit(raw)
                    if unit is not None and unit.kind != "county":
                        return M.cell_problem("not_county", col, raw, unit_name=unit.name)
                    return M.cell_problem(code, col, raw, example=county_example)
                return M.cell_problem(code, col, raw)

            self.check(
                f"n.{_q(problem_column(col.key))} is not null",
                [col.key],
                ERROR,
                col.key,
                body,
                0,
                extra=f"n.{_q(problem_column(col.key))}",
            )

    def required(self) -> None:
        ctx = self.ctx
        for col in ctx.form.columns:
            required = col.required or col.key == ctx.form.key_column
            if not required or col.key not in ctx.present:
                continue
            where = f"n.{_q(col.key)} is null"
            if col.type != "text":
                where += f" and n.{_q(problem_column(col.key))} is null"
            self.check(
                where,
                [col.key],
                ERROR,
                col.key,
                lambda row, col=col: M.cell_problem("required", col, row[1]),
                1,
            )

    def ranges(self) -> None:
        ctx = self.ctx
        received_day = ctx.received_at.astimezone(campaign_tz(ctx.campaign)).date().isoformat()
        for col in ctx.form.columns:
            if col.key not in ctx.present:
                continue
            k = f"n.{_q(col.key)}"
            checks: list[tuple[str, str, str]] = []
            if col.type == "integer":
                checks = [(f"{k} < 0", "negative", ERROR), (f"{k} > {ABSURD}", "absurd", ERROR)]
            elif col.type == "rate":
                checks = [(f"({k} < 0 or {k} > 1)", "rate_range", ERROR)]
            elif col.type == "date":
                checks = [(f"{k} < date '{EARLIEST_DATE}'", "date_too_early", ERROR)]
                checks.append((f"{k} > date '{received_day}'", "date_after_received", WARNING))
            for where, code, severity in checks:
                self.check(
                    where,
                    [col.key],
                    severity,
                    col.key,
                    lambda row, col=col, code=code: M.cell_problem(code, col, row[1], received=received_day),
                    2,
                )

    def rules(self) -> None:
        ctx = self.ctx
        for i, rule in enumerate(ctx.form.rules):
            self._rule(rule, 10 + i)

    def _when(self, rule: RowRule) -> tuple[str, str]:
        """(SQL condition, Chinese text) of a rule's ``when``."""
        conds, texts = [], []
        for key, value in (rule.when or {}).items():
            conds.append(f"n.{_q(key)} = {sql_str(value)}")
            texts.append(f"“{self.ctx.header(key)}”为“{value}”")
        return " and ".join(conds) or "true", "且".join(texts)

    def _rule(self, rule: RowRule, check_no: int) -> None:
        ctx = self.ctx
        present = set(ctx.present)
        if rule.le or rule.not_before:
            left, right = rule.le or rule.not_before
            if left not in present or right not in present:
                return
            op = ">" if rule.le else "<"
            make = M.rule_le if rule.le else M.rule_not_before
            self.check(
                f"n.{_q(left)} {op} n.{_q(right)}",
                [left, right],
                ERROR,
                left,
                lambda row: make(ctx.header(left), _shown(row[3]), ctx.header(right), _shown(row[4])),
                check_no,
                extra=f"n.{_q(left)}, n.{_q(right)}",
            )
        elif rule.requires:
            key = rule.requires
            if any(k not in present for k in (rule.when or {})):
                return
            cond, text = self._when(rule)
            where = f"{cond} and n.{_q(key)} is null"
            if key in present and ctx.form.column(key).type != "text":
                where += f" and n.{_q(problem_column(key))} is null"
            self.check(where, [key], ERROR, key, lambda row: M.rule_requires(text, ctx.header(key)), check_no)
        elif rule.only_when:
            key = rule.only_when
            if key not in present or any(k not in present for k in (rule.when or {})):
                return
            cond, text = self._when(rule)
            when_keys = list(rule.when or {})
            all_known = " and ".join(f"n.{_q(k)} is not null" for k in when_keys) or "true"

            def body(row):
                actual = "且".join(
                    f"“{ctx.header(k)}”为“{M.describe_value(row[2 + j])}”" for j, k in enumerate(when_keys)
                )
                return M.rule_only_when(text, actual, ctx.header(key), row[1])

            self.check(
                f"n.{_q(key)} is not null and {all_known} and not ({cond})",
                [key, *when_keys],
                ERROR,
                key,
                body,
                check_no,
            )

    def duplicates(self) -> None:
        ctx = self.ctx
        form = ctx.form
        key = form.key_column
        if key not in ctx.present:
            return
        repeated = (
            f"select _record_key from {ctx.norm} where _record_key is not null group by 1 having count(*) > 1"
        )
        what = {"county": "县区", "task": "任务"}.get(form.grain, ctx.header(key))
        dups = (
            f"(select source_row, min(source_row) over (partition by _record_key) as _first from {ctx.norm} "
            f"where _record_key in ({repeated}))"
        )
        self.check(
            "d.source_row <> d._first",
            [key],
            ERROR,
            key,
            lambda row: M.cell_problem(
                "duplicate_key", form.column(key), row[1], first_row=row[2], what=what
            ),
            3,
            extra="d._first",
            join=f"join {dups} d on d.source_row = n.source_row",
            gate=f"(select count(*) from ({repeated}))",
        )

    def responsibility(self) -> None:
        ctx = self.ctx
        campaign, form, unit = ctx.campaign, ctx.form, ctx.submitter
        if form.grain == "task":
            self._tasks()
            return
        county = form.county_column
        if county is None or county not in ctx.present:
            return
        allowed = [c.id for c in campaign.counties if campaign.may_report_on(unit.id, c.id)]
        if len(allowed) == len(campaign.counties):
            return
        allowed_sql = "(" + ", ".join(sql_str(a) for a in allowed) + ")" if allowed else "(null)"
        col = form.column(county)
        self.check(
            f"n._subject is not null and n._subject not in {allowed_sql}",
            [county],
            ERROR,
            county,
            lambda row: M.cell_problem("not_own_county", col, row[1], unit_name=unit.name),
            4,
        )

    def _tasks(self) -> None:
        ctx = self.ctx
        campaign, form, unit = ctx.campaign, ctx.form, ctx.submitter
        key = next((c.key for c in form.columns if c.type == "task"), None)
        if key is None or key not in ctx.present:
            return
        col = form.column(key)
        all_tasks = sorted(t.no for t in campaign.tasks)
        led = campaign.tasks_led_by(unit.id)
        k = f"try_cast(n.{_q(key)} as integer)"
        self.check(
            f"{k} is not null and {k} not in ({', '.join(map(str, all_tasks)) or 'null'})",
            [key],
            ERROR,
            key,
            lambda row: M.cell_problem("unknown_task", col, row[1], first=all_tasks[0], last=all_tasks[-1]),
            4,
        )
        others = [t for t in all_tasks if t not in led]
        if others:
            self.check(
                f"{k} in ({', '.join(map(str, others))})",
                [key],
                ERROR,
                key,
                lambda row: M.cell_problem("task_not_led", col, row[2], unit_name=unit.name, led=led),
                4,
                extra=f"n.{_q(key)}",
            )

    def monotone(self) -> None:
        ctx = self.ctx
        if ctx.period is None:
            return
        cols = [c for c in ctx.form.columns if c.monotone and c.key in ctx.present]
        if not cols:
            return
        # One query first: the rows below the highest earlier figure of their record, per column. A row
        # below the latest earlier figure (the check) is among them, so the columns without any need no
        # listing query; most files have none.
        highest = ", ".join(f"max(f.{_q(c.key)}) as {_q(c.key)}" for c in cols)
        below = ", ".join(f"count(*) filter (where n.{_q(c.key)} < p.{_q(c.key)})" for c in cols)
        counts = first(
            self.con.execute(
                f"select {below} from {ctx.norm} n join ("
                f"select f.record_key, {highest} "
                f"from {form_table(ctx.form.code)} f join raw.submissions s on s.submission_id = f.submission_id "
                f"where s.form_code = {sql_str(ctx.form.code)} "
                f"and s.status = 'accepted' and s.superseded_by is null and s.period_no < {int(ctx.period.no)} "
                f"group by f.record_key) p on p.record_key = n._record_key"
            )
        )
        for col, count in zip(cols, counts or [0] * len(cols), strict=True):
            if count:
                self._monotone(col)

    def _monotone(self, col) -> None:
        ctx = self.ctx
        assert ctx.period is not None
        table = form_table(ctx.form.code)
        prev = f"""
            select f.record_key, f.{_q(col.key)} as v, s.period_no, s.submission_id,
                   row_number() over (
                       partition by f.record_key
                       order by s.period_no desc, s.received_at desc, s.submission_id desc
                   ) as rn
            from {table} f join raw.submissions s on s.submission_id = f.submission_id
            where s.form_code = {sql_str(ctx.form.code)}
              and s.status = 'accepted' and s.superseded_by is null
              and s.period_no < {int(ctx.period.no)} and f.{_q(col.key)} is not null
        """
        where = f"n.{_q(col.key)} < p.v"
        sql = (
            f"select n.source_row, s.{_q(col.key)}, p.v, p.period_no, p.submission_id, count(*) over () "
            f"from {ctx.norm} n join ({prev}) p on p.record_key = n._record_key and p.rn = 1 "
            f"join {ctx.src} s on s.source_row = n.source_row where {where} "
            f"order by n.source_row limit {MAX_PER_CHECK}"
        )
        rows = self.con.execute(sql).fetchall()
        total = rows[0][-1] if rows else 0
        severity = ERROR if col.monotone == "error" else WARNING
        self.report(
            [r[:-1] for r in rows],
            total,
            severity,
            col.key,
            lambda row, col=col, severity=severity: M.cell_problem(
                "monotone",
                col,
                row[1],
                previous=row[2],
                period_label=ctx.campaign.period(row[3]).label if row[3] else "",
                submission_id=row[4],
                error=severity == ERROR,
            ),
            5,
        )


def _shown(value) -> str:
    """A typed value as a message shows it: 31500, 0.95, 2022-04-15."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_table(con, ctx: TableContext) -> Findings:
    """Run every cell and row check over the normalised table."""
    checker = _Checker(con, ctx)
    checker.problems()
    checker.required()
    checker.ranges()
    checker.rules()
    checker.duplicates()
    checker.responsibility()
    checker.run_checks()
    checker.monotone()
    return checker.found
