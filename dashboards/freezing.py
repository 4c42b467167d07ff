"""Freezing an edition's snapshot: the marts and reference tables an edition may see, copied from the
published snapshot into the edition's own DuckDB file, so that it renders the same at any later time.

Examples
--------
>>> freeze_snapshot(published, folder / "snapshot.duckdb", SnapshotScope(max_period=5))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from dashboards.data import has_table, scalar

__all__ = ["MART_TABLES", "SnapshotScope", "freeze_snapshot"]

# Marts the reports read (docs/ARCHITECTURE.md, "dbt marts"); a frozen snapshot holds exactly these.
MART_TABLES = (
    "fct_indicator_values",
    "fct_task_status",
    "fct_task_reports",
    "fct_submissions",
    "fct_submission_compliance",
    "rpt_monthly_ranking",
    "rpt_ranking_breakdown",
    "fct_document_submissions",
)

# Marts added after snapshots were first published: an older snapshot without them still freezes.
_OPTIONAL_MARTS = ("fct_document_submissions",)

# Reference tables copied whole into a frozen snapshot (the campaign definition as it stood).
_REF_TABLES = (
    "campaign",
    "units",
    "periods",
    "months",
    "tasks",
    "task_units",
    "forms",
    "indicators",
    "indicator_tasks",
    "expected_submissions",
    "oneoffs",
    "ranking_weights",
    # the office's decisions and enforcement register (roadsafe.office_record), read as of the edition
    "office_returns",
    "office_excuses",
    "office_cases",
    "office_case_actions",
)


@dataclass(frozen=True)
class SnapshotScope:
    """Which rows an edition may see: periods up to ``max_period`` and ranking months up to ``max_month``.

    ``max_month`` is ``None`` for editions that show no ranking.
    """

    max_period: int
    max_month: str | None = None


def freeze_snapshot(published: Path, target: Path, scope: SnapshotScope) -> dict[str, int]:
    """Copy what an edition needs from the published snapshot into its own DuckDB file.

    Parameters
    ----------
    published : Path
        The published read-only warehouse snapshot.
    target : Path
        The edition's ``snapshot.duckdb`` (must not exist yet).
    scope : SnapshotScope
        Rows after the edition's period (or month) are left out, so an edition can never show data
        of a later week.

    Returns
    -------
    dict
        Table name (``schema.table``) → rows copied.
    """
    import duckdb

    if target.exists():
        raise FileExistsError(target)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(target))
    try:
        con.execute("attach $p as pub (read_only)", {"p": str(published)})
        for schema in ("ref", "marts"):
            con.execute(f"create schema {schema}")
        for table in _REF_TABLES:
            if has_table(con, "ref", table, "pub"):
                con.execute(f"create table ref.{table} as select * from pub.ref.{table}")
        period_filter = f"period_no <= {int(scope.max_period)}"
        month_filter = "false" if scope.max_month is None else f"month <= '{_month_literal(scope.max_month)}'"
        filters = {
            "fct_indicator_values": period_filter,
            "fct_task_status": period_filter,
            "fct_task_reports": period_filter,
            # attempts whose week could not be told stay (they are no later week's data)
            "fct_submissions": f"period_no is null or {period_filter}",
            "fct_submission_compliance": period_filter,
            "rpt_monthly_ranking": month_filter,
            "rpt_ranking_breakdown": month_filter,
            # the units' documents due up to the edition's month (or its period's month)
            "fct_document_submissions": "month <= "
            + (
                f"'{_month_literal(scope.max_month)}'"
                if scope.max_month is not None
                else f"(select max(month) from ref.periods where period_no <= {int(scope.max_period)})"
            ),
        }
        for table in MART_TABLES:
            if not has_table(con, "marts", table, "pub"):
                if table in _OPTIONAL_MARTS:  # a snapshot built before the mart existed: shown as none
                    continue
                raise LookupError(f"已发布的数据快照中缺少 marts.{table}：请先运行 roadsafe build。")
            con.execute(
                f"create table marts.{table} as select * from pub.marts.{table} where {filters[table]}"
            )
        if has_table(con, "ops", "duban", "pub"):  # the 督办单 issued so far (dashboards.duban)
            con.execute("create schema ops; create table ops.duban as select * from pub.ops.duban")
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall():
            counts[f"{schema}.{table}"] = scalar(con, f"select count(*) from {schema}.{table}")
        con.execute("detach pub")
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


def _month_literal(month: str) -> str:
    dt.date.fromisoformat(f"{month}-01")  # raises on anything that is not YYYY-MM
    return month
