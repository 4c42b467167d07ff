"""Turning cell text into typed values, vectorised in DuckDB SQL.

A file's data rows arrive as a temporary table of VARCHAR cells (``source_row`` plus one column per matched
form column, see :meth:`ingest.readers.ParsedTable.load_into`). :func:`normalise_table` turns it into a typed
temporary table in one ``CREATE TABLE … AS SELECT``: every form column becomes its typed value, and a
``_p_<key>`` column holds a *problem code* wherever a cell is neither a readable value nor a way of writing
"unknown". Nothing that does not parse becomes a silent NULL: either the value, or NULL for unknown
(blank, ``—``, ``-``, ``–``, ``/``, ``无``, ``空``), or a problem code.

The same SQL expressions back :func:`normalise_value`, the one-cell function the property tests call, so
there is exactly one implementation of each rule.

What is accepted, by column type (after folding full-width characters to ASCII and dropping white space):

* ``integer``: ``1234``, ``1,234``, ``１２３４``, ``3.15万`` (= 31500), ``1.2亿``, ``12.0``; a fraction
  that is not a whole number is refused (``not_integer``).
* ``rate``: ``95%`` or ``0.95`` (both 0.95); ``95`` without ``%`` is ambiguous and refused
  (``rate_ambiguous``).
* ``date``: ``2022-04-15``, ``2022/4/15``, ``2022.4.15``, ``2022年4月15日``, ``20220415``, ``4月15日``
  (year of the reporting period), an Excel serial number such as ``44666``, and any of these followed by
  a time.
* ``enum``: one of the column's values exactly (after folding); anything else is refused.
* ``yesno``: 是/否, Y/N, YES/NO, √/×, 有/无 → ``是``/``否``.
* ``county``: a county unit by name, alias, code or id, with or without 江西省/九江市 and 人民政府/管委会
  (the same table as :meth:`roadsafe.campaign.Campaign.resolve_unit`, restricted to counties).
* ``task``: ``3``, ``03``, ``第3项``, ``任务3`` → ``"3"``.
* ``text``: trimmed; a cell of only dashes or blank is unknown.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from roadsafe.campaign import Campaign, normalise_name
from roadsafe.campaign.model import ColumnDef, FormDef

__all__ = [
    "ALIAS_TABLE",
    "PREPARED_MAX_ROWS",
    "PROBLEMS",
    "Normalised",
    "create_alias_table",
    "county_alias_rows",
    "normalise_table",
    "normalise_value",
    "problem_column",
    "sql_str",
]

ALIAS_TABLE = "_ingest_unit_aliases"

# Problem codes a cell can get from the normaliser (messages.py turns them into Chinese).
PROBLEMS = (
    "unreadable",  # integer/rate: not a number
    "not_integer",  # integer: 12.5
    "too_large",  # integer: more digits than any real count
    "rate_ambiguous",  # rate: 95 without %
    "bad_date",
    "not_allowed",  # enum
    "not_yesno",
    "unknown_unit",  # county
    "bad_task",
)

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold to ASCII, as NFKC does.
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + " "
_WS = r"\s\x{3000}\x{00A0}\x{FEFF}\x{200B}"
_COMMON_WIDE = list(zip("０１２３４５６７８９，．％－／：＋", "0123456789,.%-/:+", strict=True))
# Cells that need folding: full-width characters or any white space.
_NEEDS_FOLD = r"[！-～" + _WS + "]"
# "Unknown": blank, only dashes/slashes, 无, 空, 暂无, N/A (checked on the folded, upper-cased text).
_DASHES = r"[-—–―‐−~/\\]*"
_UNKNOWN = _DASHES + r"|无|空|暂无|N/?A"
# A number as offices type it: sign, digits (optionally grouped by thousands), fraction, then 万/亿/%.
# At most 15 integer digits either way (longer is too_large): with 亿 applied, 24 digits still fit DECIMAL(38,10),
# where 1,000,000,000,000,000,000亿 overflowed the multiplication and failed the whole file.
_NUMBER = (
    r"^([+-]?(?:[0-9]{1,3}(?:,[0-9]{3}){1,4}(?:\.[0-9]+)?|[0-9]{1,15}(?:\.[0-9]*)?|\.[0-9]+))(万|亿|%)?$"
)
_TOO_MANY_DIGITS = r"[+-]?[0-9,]{16,}(?:\.[0-9]*)?(?:万|亿|%)?"
_TIME_SUFFIX = r"(?:[ T" + _WS + r"]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)$"
_YMD = r"^([0-9]{4})[年./-]([0-9]{1,2})[月./-]([0-9]{1,2})[日号]?$"
_MD = r"^([0-9]{1,2})月([0-9]{1,2})[日号]?$"
_YES = ("是", "Y", "YES", "√", "✓", "✔", "有", "☑")
_NO = ("否", "N", "NO", "×", "✗", "✘", "无", "☒")
_TASK = r"^(?:第|任务)?0*([0-9]{1,4})(?:项|号|条)?[.、]?$"
# Excel serial day numbers accepted in date columns: 1954-10-03 .. 2119-01-10.
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000


def sql_str(text: str) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def _sql_list(values) -> str:
    return "(" + ", ".join(sql_str(v) for v in values) + ")"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------- building blocks


def _let(value: str, name: str, body: str) -> str:
    """``body`` with ``name`` bound to ``value``, computed once per row: keeps the SQL (and DuckDB's bound
    expression tree) linear instead of repeating ``value`` wherever it is used."""
    return f"list_transform([{value}], lambda {name}: {body})[1]"


# While a statement for :class:`_Prepared` is written: every fold goes inside a lambda (see :func:`_fold`).
_compact: contextvars.ContextVar[bool] = contextvars.ContextVar("_compact", default=False)


def _fold(r: str) -> str:
    """Full-width → ASCII and all white space removed; cheap when there is nothing to fold.

    The common full-width characters of numbers and dates go through ``replace`` (several times faster than
    ``translate`` in DuckDB); ``translate`` handles the rest only when some are left.

    For a prepared statement (see :class:`_Prepared`) the same expression is wrapped in a lambda: DuckDB walks
    a statement's whole expression tree (the folds are three quarters of it) every time it runs one, but not
    into lambda bodies, which it sets up only for the rows that reach them. That halves the cost of running a
    statement over a small file, and costs a little per row, so a large file gets the plain expression.
    """
    if _compact.get():
        return _let(r, "_x", _fold_sql("_x"))
    return _fold_sql(r)


def _fold_sql(r: str) -> str:
    common = r
    for wide, narrow in _COMMON_WIDE:
        common = f"replace({common}, '{wide}', '{narrow}')"
    rest = _let(
        common,
        "_w",
        f"case when regexp_matches(_w, '[！-～]') "
        f"then translate(_w, {sql_str(_FULL)}, {sql_str(_HALF)}) else _w end",
    )
    return (
        f"(case when not regexp_matches({r}, '{_NEEDS_FOLD}') then {r} "
        f"when regexp_matches({r}, '[！-～]') then regexp_replace({rest}, '[{_WS}]+', '', 'g') "
        f"else regexp_replace({r}, '[{_WS}]+', '', 'g') end)"
    )


def _is_unknown(r: str, words: bool = True) -> str:
    """Blank or dashes; with ``words`` also 无/空/暂无/N/A (a text column keeps those as its answer)."""
    pattern = _UNKNOWN if words else _DASHES
    return f"({r} is null or regexp_full_match(upper({_fold(r)}), {sql_str(pattern)}))"


def _number(r: str, body: str) -> str:
    """``body`` over ``_f`` (the folded text), ``_p.u`` (its suffix: ``万``, ``亿``, ``%`` or '') and ``_p.d``
    (its DECIMAL(38,10) value with the suffix applied, or NULL when it is no number). One regex match."""
    decimal = (
        "try_cast(replace(_m.n, ',', '') as decimal(38,10)) * "
        "(case _m.u when '万' then 10000 when '亿' then 100000000 when '%' then 0.01 else 1 end)"
    )
    parts = f"regexp_extract(_f, {sql_str(_NUMBER)}, ['n', 'u'])"
    inner = _let(parts, "_m", f"{{'u': _m.u, 'd': {decimal}}}")
    return _let(_fold(r), "_f", _let(inner, "_p", body))


# --------------------------------------------------------------------------- values per type


def _integer_value(r: str) -> str:
    slow = _number(
        r,
        "case when _p.u <> '%' and _p.d = trunc(_p.d) and abs(_p.d) < 1e18 then cast(_p.d as bigint) end",
    )
    return (
        f"(case when {r} is null then null when regexp_full_match({r}, '[0-9]{{1,15}}') "
        f"then cast({r} as bigint) else {slow} end)"
    )


def _integer_problem(r: str) -> str:
    return _number(
        r,
        f"case when regexp_full_match(_f, {sql_str(_TOO_MANY_DIGITS)}) then 'too_large' "
        f"when _p.u = '%' then 'unreadable' "
        f"when _p.d is not null and _p.d <> trunc(_p.d) then 'not_integer' "
        f"when _p.d is not null then 'too_large' else 'unreadable' end",
    )


def _rate_value(r: str) -> str:
    slow = _number(r, "case when _p.u = '%' or (_p.u = '' and _p.d <= 1) then cast(_p.d as double) end")
    return (
        f"(case when {r} is null then null "
        f"when regexp_full_match({r}, '0(\\.[0-9]{{1,12}})?|1(\\.0{{1,12}})?') "
        f"then cast({r} as double) else {slow} end)"
    )


def _rate_problem(r: str) -> str:
    return _number(
        r,
        "case when _p.d is not null and _p.u = '' and _p.d > 1 then 'rate_ambiguous' else 'unreadable' end",
    )


def _date_value(r: str, year: int) -> str:
    # The time part goes first (it is separated by white space, which folding removes).
    f = "_f"
    iso = f"regexp_replace({f}, {sql_str(_YMD)}, '\\1-\\2-\\3')"
    md = f"regexp_replace({f}, {sql_str(_MD)}, '{int(year):04d}-\\1-\\2')"
    serial = _let(
        f"try_cast({f} as decimal(12,2))",
        "_n",
        f"case when _n between {_SERIAL_MIN} and {_SERIAL_MAX} and _n = trunc(_n) "
        f"then date '1899-12-30' + cast(_n as integer) end",
    )
    body = (
        f"case when regexp_full_match({f}, '[0-9]{{5}}(\\.0+)?') then {serial} "
        f"when regexp_full_match({f}, '(19|20)[0-9]{{6}}') then cast(try_strptime({f}, '%Y%m%d') as date) "
        f"when regexp_matches({f}, {sql_str(_YMD)}) then try_cast({iso} as date) "
        f"when regexp_matches({f}, {sql_str(_MD)}) then try_cast({md} as date) end"
    )
    slow = _let(_fold(f"regexp_replace({r}, {sql_str(_TIME_SUFFIX)}, '')"), f, body)
    return (
        f"(case when {r} is null then null "
        f"else coalesce(case when strlen({r}) = 10 then try_cast({r} as date) end, {slow}) end)"
    )


def _enum_value(r: str, values: list[str]) -> str:
    folded_values = {normalise_name(v): v for v in values}
    mapping = " ".join(f"when {sql_str(k)} then {sql_str(v)}" for k, v in folded_values.items())
    slow = _let(_fold(r), "_f", f"case _f {mapping} end")
    return f"(case when {r} in {_sql_list(values)} then {r} else {slow} end)"


def _yesno_value(r: str) -> str:
    body = f"case when _f in {_sql_list(_YES)} then '是' when _f in {_sql_list(_NO)} then '否' end"
    return f"(case when {r} in ('是', '否') then {r} else {_let(f'upper({_fold(r)})', '_f', body)} end)"


def _task_value(r: str) -> str:
    slow = f"nullif(regexp_extract({_fold(r)}, {sql_str(_TASK)}, 1), '')"
    return (
        f"(case when regexp_full_match({r}, '[1-9][0-9]{{0,3}}') then {r} "
        f"else cast(nullif(try_cast({slow} as integer), 0) as varchar) end)"
    )


_EDGE_WS = (" ", "\t", "\n", "\r", "\u3000", "\u00a0", "\ufeff", "\u200b")
_DASH_START = ("-", "—", "–", "―", "‐", "−", "－", "/", "／", "\\", "＼", "~", "～")


def _text_value(r: str) -> str:
    suspect = (
        f"({r} = '' or left({r}, 1) in {_sql_list(_EDGE_WS + _DASH_START)} "
        f"or right({r}, 1) in {_sql_list(_EDGE_WS)})"
    )
    trimmed = f"regexp_replace({r}, '^[{_WS}]+|[{_WS}]+$', '', 'g')"
    return (
        f"(case when {r} is null then null when not {suspect} then {r} "
        f"when {_is_unknown(r, words=False)} then null else nullif({trimmed}, '') end)"
    )


def value_sql(col: ColumnDef, r: str, *, year: int, alias: str | None = None) -> str:
    """SQL for the typed value of column ``col`` whose cell text is the SQL expression ``r``.

    ``alias`` is the SQL of the unit id looked up in the alias table for a county column (see
    :func:`normalise_table`).
    """
    if col.type == "integer":
        return _integer_value(r)
    if col.type == "rate":
        return _rate_value(r)
    if col.type == "date":
        return _date_value(r, year)
    if col.type == "enum":
        return _enum_value(r, list(col.values or []))
    if col.type == "yesno":
        return _yesno_value(r)
    if col.type == "task":
        return _task_value(r)
    if col.type == "county":
        if alias is None:
            raise ValueError("a county column needs the alias join")
        return alias
    return _text_value(r)


def problem_sql(col: ColumnDef, r: str, value: str) -> str:
    """SQL for the problem code of a cell: NULL when ``value`` is set or the text means unknown."""
    reason = {
        "integer": _integer_problem(r),
        "rate": _rate_problem(r),
        "date": "'bad_date'",
        "enum": "'not_allowed'",
        "yesno": "'not_yesno'",
        "county": "'unknown_unit'",
        "task": "'bad_task'",
    }.get(col.type)
    if reason is None:  # text: NULL only when unknown
        return "null::varchar"
    return f"(case when {value} is not null or {_is_unknown(r)} then null else {reason} end)"


def problem_column(key: str) -> str:
    """Name of the problem-code column of a form column in the normalised table."""
    return f"_p_{key}"


# --------------------------------------------------------------------------- unit aliases

_PREFIXES = ("", "江西省")
_SUFFIXES = ("", "人民政府", "管理委员会", "管委会", "政府")


_ALIAS_ROWS: dict[int, tuple[Campaign, list[tuple[str, str]], tuple[tuple[str, str], ...]]] = {}


def county_alias_rows(campaign: Campaign) -> list[tuple[str, str]]:
    """(folded alias, county unit id) for every spelling :meth:`Campaign.resolve_unit` maps to a county.

    Built from each county's id, name, code and aliases, with and without 江西省/the city prefix and the
    government suffixes; every row is checked against ``resolve_unit`` so both agree.
    """
    cached = _ALIAS_ROWS.get(id(campaign))
    if cached is not None and cached[0] is campaign:
        return cached[1]
    city = normalise_name(campaign.city.name)
    prefixes = [*_PREFIXES, city, _PREFIXES[1] + city]
    rows: dict[str, str] = {}
    for unit in campaign.counties:
        for name in (unit.id, unit.name, unit.code, *unit.aliases):
            if not name:
                continue
            base = normalise_name(name)
            for prefix in prefixes:
                for suffix in _SUFFIXES:
                    text = prefix + base + suffix
                    resolved = campaign.resolve_unit(text)
                    if resolved is not None and resolved.id == unit.id:
                        rows.setdefault(text, unit.id)
    out = sorted(rows.items())
    _ALIAS_ROWS[id(campaign)] = (campaign, out, tuple(out))
    return out


def _alias_key(campaign: Campaign) -> tuple[tuple[str, str], ...]:
    county_alias_rows(campaign)
    return _ALIAS_ROWS[id(campaign)][2]


def create_alias_table(con, campaign: Campaign, name: str = ALIAS_TABLE, *, temporary: bool = True) -> str:
    """(Re)create the (temporary) county alias table on ``con``; returns its name."""
    kind = "temp table" if temporary else "table"
    con.execute(f"create or replace {kind} {name} (alias varchar primary key, unit_id varchar not null)")
    rows = county_alias_rows(campaign)
    con.execute(
        f"insert into {name} select unnest(?::varchar[]), unnest(?::varchar[])",
        [[a for a, _ in rows], [u for _, u in rows]],
    )
    return name


# --------------------------------------------------------------------------- a whole table


def _select_sql(
    form: FormDef,
    source: str,
    present: list[str],
    *,
    year: int,
    submitter_id: str | None,
    alias_table: str = ALIAS_TABLE,
    submitter_sql: str | None = None,
    compact: bool = False,
) -> str:
    """``SELECT`` that normalises ``source`` (the reader's VARCHAR table) into typed columns.

    Columns of the form that are not in ``present`` become NULL. The result has ``source_row``, one typed
    column per form column, ``_p_<key>`` problem codes (present columns that are not text), ``_subject``
    (the county of the row, or the submitter for task grain) and ``_record_key``. ``submitter_sql`` (SQL,
    e.g. a statement parameter) replaces the literal ``submitter_id`` for task grain. ``compact`` writes
    the same rules for a prepared statement (see :func:`_fold`).
    """
    token = _compact.set(compact)
    try:
        return _select_sql_text(
            form,
            source,
            present,
            year=year,
            submitter_id=submitter_id,
            alias_table=alias_table,
            submitter_sql=submitter_sql,
        )
    finally:
        _compact.reset(token)


def _select_sql_text(
    form: FormDef,
    source: str,
    present: list[str],
    *,
    year: int,
    submitter_id: str | None,
    alias_table: str,
    submitter_sql: str | None,
) -> str:
    from ingest.schema import sql_type

    inner: list[str] = ["s.source_row"]
    outer: list[str] = ["source_row"]
    joins: list[str] = []
    for i, col in enumerate(form.columns):
        key = _ident(col.key)
        if col.key not in present:
            inner.append(f"null::{sql_type(col)} as {key}")
            outer.append(key)
            continue
        r = f"s.{key}"
        alias = None
        if col.type == "county":
            # Exact spelling first; only the cells that miss are folded and looked up again.
            alias = f"_a{i}"
            joins.append(f"left join {alias_table} {alias} on {alias}.alias = {r}")
            joins.append(
                f"left join {alias_table} _b{i} on _b{i}.alias = "
                f"(case when {alias}.unit_id is null then {_fold(r)} end)"
            )
            alias = f"coalesce({alias}.unit_id, _b{i}.unit_id)"
        inner.append(f"{value_sql(col, r, year=year, alias=alias)} as {key}")
        outer.append(key)
        if col.type != "text":  # a text cell is a value or unknown, never a problem
            raw = _ident("_r_" + col.key)
            inner.append(f"{r} as {raw}")
            outer.append(f"{problem_sql(col, raw, key)} as {_ident(problem_column(col.key))}")

    county = form.county_column
    key_col = form.column(form.key_column)
    if form.grain == "task" and submitter_sql is not None:
        subject = submitter_sql
    elif form.grain == "task":
        subject = sql_str(submitter_id) if submitter_id else "null::varchar"
    else:
        subject = _ident(county) if county else "null::varchar"
    if key_col.type in ("county", "task", "integer", "date", "rate"):
        record_key = f"cast({_ident(key_col.key)} as varchar)"
    else:  # a ledger's own id, trimmed; folded unless plain ASCII (ＸＹ－００１ and XY-001: one record)
        k = _ident(key_col.key)
        record_key = f"(case when strlen({k}) = length({k}) then {k} else {_fold(k)} end)"
    outer.append(f"{subject} as _subject")
    outer.append(f"{record_key} as _record_key")
    return f"select {', '.join(outer)} from (select {', '.join(inner)} from {source} s {' '.join(joins)})"


def normalise_table(
    con,
    campaign: Campaign,
    form: FormDef,
    source: str,
    target: str,
    present: list[str],
    *,
    year: int,
    submitter_id: str | None,
) -> None:
    """Create the temporary table ``target`` with the typed values of ``source`` (see :func:`_select_sql`).

    ``source`` needs ``source_row INTEGER`` and a VARCHAR column per key of ``present``. A table of up to
    :data:`PREPARED_MAX_ROWS` rows goes through a statement planned once per thread (see :class:`_Prepared`),
    a larger one through the same SQL planned here; both give the same table.
    """
    if _normalise_prepared(
        con, campaign, form, source, target, present, year=year, submitter_id=submitter_id
    ):
        return
    create_alias_table(con, campaign)
    sql = _select_sql(form, source, present, year=year, submitter_id=submitter_id)
    con.execute(f"create or replace temp table {target} as {sql}")


# --------------------------------------------------------------------------- planned once per thread

# Planning the normalising SELECT (parsing and binding a few thousand expression nodes: every rule of every
# column) takes 30-60 ms; running it over a file of a few hundred rows takes a fraction of that. So files up
# to this many rows are normalised by statements prepared once per thread and the typed rows copied back;
# a larger file runs the same SQL planned on the caller's connection, where planning is a small share.
PREPARED_MAX_ROWS = 20_000
_MAX_STATEMENTS = 32
_STRING_TYPES = ("string", "large_string", "string_view")


@dataclass
class _Statement:
    db: str  # the attached database holding its input table ``cells`` and the alias table
    with_param: bool  # takes the submitter (task grain) as parameter $1
    live: bool = True


class _Prepared:
    """The normalising statements of one thread, each prepared once, in a private in-memory DuckDB.

    One statement per form (and year): it takes every column of the form, the ones missing from a file as
    NULL, and the caller's table is then cut back to the columns :func:`_select_sql` gives for the file's
    columns (a value depends only on its own cell, so the columns present come out the same).

    DuckDB binds a prepared statement again whenever a catalog it reads has changed (any DDL there), and
    binding is the cost to avoid. So each statement reads only its own attached in-memory database (its
    input table and a copy of the county alias table): preparing the next statement, or registering an
    input, leaves it alone. The statements are prepared with the optimizer off: prepared with it on, a
    statement costs nearly as much to execute as to plan (DuckDB 2.0), and at this size it has nothing to
    reorder (a scan, two lookups in the small alias table and a projection).
    """

    def __init__(self) -> None:
        import duckdb

        self.pid = os.getpid()
        self.con = duckdb.connect()
        self.con.execute("set enable_optimizer = false")
        self.by_sql: OrderedDict[tuple, _Statement] = OrderedDict()
        self.by_id: dict[tuple, tuple[FormDef, Campaign, _Statement]] = {}
        self.serial = 0

    def statement(self, campaign: Campaign, form: FormDef, year: int) -> _Statement:
        """The statement normalising every column of ``form``; prepared on first use."""
        ident = (id(form), id(campaign), year)
        hit = self.by_id.get(ident)
        if hit is not None and hit[0] is form and hit[1] is campaign and hit[2].live:
            return hit[2]
        param = "$1::varchar" if form.grain == "task" else None
        keys = form.column_keys
        shape = _select_sql(
            form,
            "_in",
            keys,
            year=year,
            submitter_id=None,
            alias_table="_aliases",
            submitter_sql=param,
            compact=True,
        )
        key = (shape, _alias_key(campaign))
        found = self.by_sql.get(key)
        if found is None:
            found = self._prepare(campaign, form, year, param)
            self.by_sql[key] = found
            while len(self.by_sql) > _MAX_STATEMENTS:
                _, old = self.by_sql.popitem(last=False)
                old.live = False
                self.con.execute(f"deallocate prepare {old.db}_q")
                self.con.execute(f"detach database if exists {old.db}")
        self.by_sql.move_to_end(key)
        if len(self.by_id) > 4 * _MAX_STATEMENTS:
            self.by_id.clear()
        self.by_id[ident] = (form, campaign, found)  # holds form and campaign: their ids stay theirs
        return found

    def _prepare(self, campaign: Campaign, form: FormDef, year: int, param: str | None) -> _Statement:
        self.serial += 1
        db = f"_norm{self.serial}"
        con = self.con
        con.execute(f"attach ':memory:' as {db}")
        try:
            cells = "".join(f", {_ident(k)} varchar" for k in form.column_keys)
            con.execute(f"create table {db}.cells (source_row integer{cells})")
            create_alias_table(con, campaign, f"{db}.aliases", temporary=False)
            sql = _select_sql(
                form,
                f"{db}.cells",
                form.column_keys,
                year=year,
                submitter_id=None,
                alias_table=f"{db}.aliases",
                submitter_sql=param,
                compact=True,
            )
            con.execute(f"prepare {db}_q as {sql}")
        except BaseException:
            con.execute(f"detach database if exists {db}")
            raise
        return _Statement(db, param is not None)

    def run(self, statement: _Statement, cells, submitter_id: str | None):
        """Normalise ``cells`` (an Arrow table shaped as the statement's input); returns an Arrow table."""
        con, db = self.con, statement.db
        view = f"_cells_{uuid.uuid4().hex}"
        con.register(view, cells)
        try:
            con.execute(f"insert into {db}.cells select * from {view}")
        finally:
            con.unregister(view)
        try:
            args = ""
            if statement.with_param:
                args = f"({sql_str(submitter_id) if submitter_id else 'null'}::varchar)"
            return con.sql(f"execute {db}_q{args}").to_arrow_table()
        finally:
            con.execute(f"delete from {db}.cells")


_local = threading.local()


def _prepared() -> _Prepared:
    state = getattr(_local, "prepared", None)
    if state is None or state.pid != os.getpid():  # a forked child gets its own DuckDB
        state = _local.prepared = _Prepared()
    return state


def _arrow_type(col: ColumnDef):
    import pyarrow as pa

    from ingest.schema import sql_type

    return {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "DATE": pa.date32()}.get(sql_type(col), pa.string())


def _normalise_arrow(
    campaign: Campaign, form: FormDef, cells, present: list[str], *, year: int, submitter_id: str | None
):
    """What :func:`_select_sql` makes of ``cells`` (an Arrow table: ``source_row`` int32 and a string
    column per key of ``present``), as an Arrow table, through the prepared statement of ``form``."""
    import pyarrow as pa

    n = cells.num_rows
    here = set(present) & set(cells.column_names)
    names = ["source_row", *form.column_keys]
    columns = [cells.column("source_row")]
    columns += [cells.column(k) if k in here else pa.nulls(n, pa.string()) for k in form.column_keys]
    state = _prepared()
    try:
        typed = state.run(state.statement(campaign, form, year), pa.table(columns, names=names), submitter_id)
    except BaseException:
        _local.prepared = None  # start afresh next time, whatever state this DuckDB is left in
        with contextlib.suppress(Exception):
            state.con.close()
        raise
    # Cut back to the columns the file has, as _select_sql(present) gives them.
    out_names, out = ["source_row"], [typed.column("source_row")]
    for col in form.columns:
        out_names.append(col.key)
        if col.key not in present:
            out.append(pa.nulls(n, _arrow_type(col)))
            continue
        out.append(typed.column(col.key))
        if col.type != "text":
            out_names.append(problem_column(col.key))
            out.append(typed.column(problem_column(col.key)))
    county = form.county_column
    if form.grain == "task" or (county is not None and county in present):
        out.append(typed.column("_subject"))
    else:
        out.append(pa.nulls(n, pa.string()))
    out.append(typed.column("_record_key") if form.key_column in present else pa.nulls(n, pa.string()))
    return pa.table(out, names=[*out_names, "_subject", "_record_key"])


def _normalise_prepared(
    con,
    campaign: Campaign,
    form: FormDef,
    source: str,
    target: str,
    present: list[str],
    *,
    year: int,
    submitter_id: str | None,
) -> bool:
    """:func:`normalise_table` through a prepared statement; False (nothing done) when ``source`` is larger
    than :data:`PREPARED_MAX_ROWS` or not shaped as the reader makes it."""
    import pyarrow as pa

    keys = [k for k in form.column_keys if k in present]
    cols = ", ".join(["source_row", *(_ident(k) for k in keys)])
    cells = con.sql(f"select {cols} from {source} limit {PREPARED_MAX_ROWS + 1}").to_arrow_table()
    if cells.num_rows > PREPARED_MAX_ROWS:
        return False
    types = cells.schema.types
    if types[0] != pa.int32() or any(str(t) not in _STRING_TYPES for t in types[1:]):
        return False
    typed = _normalise_arrow(campaign, form, cells, keys, year=year, submitter_id=submitter_id)
    view = f"_typed_{uuid.uuid4().hex}"
    con.register(view, typed)
    try:
        con.execute(f"create or replace temp table {target} as select * from {view} order by source_row")
    finally:
        con.unregister(view)
    return True


# --------------------------------------------------------------------------- one value


@dataclass(frozen=True)
class Normalised:
    """One cell after normalising: ``value`` (typed, None for unknown) or a ``problem`` code."""

    value: Any
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def normalise_value(
    text: str | None, col: ColumnDef, campaign: Campaign, year: int | None = None
) -> Normalised:
    """Normalise one cell through the same SQL as :func:`normalise_table`.

    Examples
    --------
    >>> from roadsafe.campaign import load_campaign
    >>> c = load_campaign("jiujiang-2022")
    >>> col = c.forms["F1"].column("inspected")
    >>> normalise_value("3.15万", col, c, 2022)
    Normalised(value=31500, problem=None)
    >>> normalise_value("—", col, c, 2022)
    Normalised(value=None, problem=None)
    >>> normalise_value("abc", col, c, 2022).problem
    'unreadable'
    """
    import pyarrow as pa

    year = year or campaign.frame.start.year
    form = FormDef(name="one", submitters=[], grain="record", key_column=col.key, columns=[col])
    cells = pa.table({"source_row": pa.array([1], pa.int32()), col.key: pa.array([text], pa.string())})
    typed = _normalise_arrow(campaign, form, cells, [col.key], year=year, submitter_id=None)
    value = typed.column(col.key)[0].as_py()
    problem = None if col.type == "text" else typed.column(problem_column(col.key))[0].as_py()
    if isinstance(value, dt.datetime):
        value = value.date()
    return Normalised(value, problem)
