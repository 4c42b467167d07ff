"""Comparing two warehouses table by table, with the generated ids normalised."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from application.backup.results import Comparison, TableDiff

# --------------------------------------------------------------------------- comparing two warehouses

_ID = re.compile(r"\bS\d{6}\b")
_EXAMPLES = 2


class _Normaliser:
    """Makes values of the two warehouses comparable: submission ids mapped to their receipt (only when the
    numbering differs), floats to 12 significant digits (sums may differ in the last bit with the order of
    a parallel aggregate), NaN to one token, structs to sorted pairs, and — when ids were mapped — lists
    sorted (lists of ``submission_id:sheet:row`` are ordered by id)."""

    def __init__(self, ids: dict[str, str] | None):
        self.ids = ids

    def _sub(self, match: re.Match) -> str:
        return self.ids.get(match.group(0), match.group(0))

    def __call__(self, value):
        if isinstance(value, str):
            return _ID.sub(self._sub, value) if self.ids else value
        if isinstance(value, float):
            if value != value:
                return "NaN"
            return float(f"{value:.12g}")
        if isinstance(value, list | tuple):
            items = tuple(self(v) for v in value)
            return tuple(sorted(items, key=repr)) if self.ids else items
        if isinstance(value, dict):
            return tuple(sorted((str(k), self(v)) for k, v in value.items()))
        return value


def _tables(con, schemas: tuple[str, ...]) -> set[str]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in "
        f"({', '.join('?' for _ in schemas)})",
        list(schemas),
    ).fetchall()
    return {f"{s}.{t}" for s, t in rows if "__dbt_" not in t}


def _columns(con, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, name],
        ).fetchall()
    ]


def _id_map(con) -> dict[str, str]:
    if not _has_table(con, "raw", "submissions"):
        return {}
    return {
        sid: receipt
        for sid, receipt in con.execute(
            "select submission_id, receipt_id from raw.submissions where receipt_id is not null"
        ).fetchall()
    }


def compare_warehouses(reference: Path, rebuilt: Path, *, campaign_code: str | None = None) -> Comparison:
    """Compare the registry, every ``ref`` and every ``marts`` table of two warehouse files row for row (as
    multisets; column order aside)."""
    import duckdb

    a = duckdb.connect(str(reference), read_only=True)
    b = duckdb.connect(str(rebuilt), read_only=True)
    try:
        ids_a, ids_b = _id_map(a), _id_map(b)
        common = {r for r in ids_a.values()} & {r for r in ids_b.values()}
        by_receipt_b = {r: sid for sid, r in ids_b.items()}
        renumbered = sum(1 for sid, r in ids_a.items() if r in common and by_receipt_b[r] != sid)
        if renumbered:
            norm_a = _Normaliser({sid: f"<{r}>" for sid, r in ids_a.items()})
            norm_b = _Normaliser({sid: f"<{r}>" for sid, r in ids_b.items()})
        else:
            norm_a = norm_b = _Normaliser(None)
        wanted = ("raw.submissions", "raw.submission_messages")
        names = sorted(
            (_tables(a, ("marts", "ref")) | _tables(b, ("marts", "ref")))
            | {t for t in wanted if t in _tables(a, ("raw",)) | _tables(b, ("raw",))}
        )
        diffs = []
        for table in names:
            diffs.append(_compare_table(a, b, table, norm_a, norm_b))
        return Comparison(diffs, renumbered, _stale_marts(a, campaign_code))
    finally:
        a.close()
        b.close()


def _stale_marts(con, campaign_code: str | None) -> int:
    """How many submissions of the campaign the reference's marts do not show yet (loaded after its last
    build)."""
    if not (_has_table(con, "marts", "fct_submissions") and _has_table(con, "raw", "submissions")):
        return 0
    sql = "select count(*) from raw.submissions" + (" where campaign_code = ?" if campaign_code else "")
    raw = con.execute(sql, [campaign_code] if campaign_code else []).fetchall()[0][0]
    built = con.execute("select count(*) from marts.fct_submissions").fetchall()[0][0]
    return max(0, raw - built)


def _compare_table(a, b, table: str, norm_a: _Normaliser, norm_b: _Normaliser) -> TableDiff:
    cols_a, cols_b = _columns(a, table), _columns(b, table)
    if not cols_a or not cols_b:
        where = "原数据仓库" if not cols_a else "重建结果"
        rows = _count(a, table) if cols_a else 0
        return TableDiff(table, rows, problem=f"{where}中没有这张表")
    if set(cols_a) != set(cols_b):
        only_a, only_b = sorted(set(cols_a) - set(cols_b)), sorted(set(cols_b) - set(cols_a))
        return TableDiff(
            table,
            _count(a, table),
            problem=f"列不同（仅原表有：{', '.join(only_a) or '无'}；仅重建表有：{', '.join(only_b) or '无'}）",
        )
    cols = sorted(cols_a)
    select = f"select {', '.join(_quote(c) for c in cols)} from {table}"
    rows_a = Counter(tuple(norm_a(v) for v in row) for row in a.execute(select).fetchall())
    rows_b = Counter(tuple(norm_b(v) for v in row) for row in b.execute(select).fetchall())
    only_a, only_b = rows_a - rows_b, rows_b - rows_a
    diff = TableDiff(
        table,
        sum(rows_a.values()),
        only_reference=sum(only_a.values()),
        only_rebuilt=sum(only_b.values()),
    )
    for label, rows in (("仅原数据仓库有", only_a), ("仅重建结果有", only_b)):
        for row in list(rows)[:_EXAMPLES]:
            text = ", ".join(f"{c}={v}" for c, v in zip(cols, row, strict=True))
            diff.examples.append(f"{label}：{text[:240]}")
    return diff


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count(con, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


def _has_table(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchall()
    )
