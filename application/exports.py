"""CSV-ready rows from the published snapshot: indicator values as of a date, and the monthly ranking
(a closed month as issued).

Both read ``$ROADSAFE_HOME/published/warehouse.duckdb`` read-only (never the live warehouse, which a build
or an ingest may hold); a closed month's ranking comes from its issued edition's frozen snapshot
(:mod:`dashboards.closed_months`). Numbers are written the way the office reads them: rates as fractions (0.95),
counts as plain numbers, unknown as an empty cell.

Examples
--------
>>> rows = export_indicators(Settings.from_env(), date(2022, 5, 10))  # doctest: +SKIP
>>> rows[0]  # doctest: +SKIP
{'indicator': 'I01', 'unit': '九江市', 'week': 4, 'actual': 0.0625, 'target': 0.5,
 'expected': 0.5, 'status': '滞后'}
"""

from __future__ import annotations

import datetime as dt
import re

from roadsafe.warehouse import open_snapshot

__all__ = ["INDICATOR_COLUMNS", "RANKING_COLUMNS", "export_indicators", "export_ranking"]

INDICATOR_COLUMNS = ["indicator", "unit", "week", "actual", "target", "expected", "status"]
RANKING_COLUMNS = ["rank", "unit", "score", "rank_change", "note"]

_RATE_DIGITS = 4
_COUNT_DIGITS = 2


def _number(value: float | None, kind: str) -> float | int | None:
    """0.95 for rates (4 decimals), 1234 for whole counts, 1234.57 otherwise; None stays None."""
    if value is None:
        return None
    if kind == "rate":
        return round(float(value), _RATE_DIGITS)
    rounded = round(float(value), _COUNT_DIGITS)
    return int(rounded) if rounded == int(rounded) else rounded


def export_indicators(settings, as_of: dt.date) -> list[dict]:
    """Every (indicator, unit) at the latest period that ended on or before ``as_of``.

    Parameters
    ----------
    settings : roadsafe.settings.Settings
    as_of : date

    Returns
    -------
    list of dict
        Keys :data:`INDICATOR_COLUMNS`: indicator code, the unit's canonical name (九江市 for the city,
        the group's name such as 中心城区), week number, actual / target / expected, status. Ordered by
        indicator, then unit (city, counties, groups in units.yml order). Empty before the first period ends.
    """
    con = open_snapshot(settings.published)
    try:
        rows = con.execute(
            """
            select indicator_code, unit_name, period_no, actual, target, expected, status, indicator_kind
            from marts.fct_indicator_values
            where period_end_date <= ?
            qualify row_number() over (partition by indicator_code, unit_id order by period_no desc) = 1
            order by indicator_code, unit_sort_order
            """,
            [as_of],
        ).fetchall()
    finally:
        con.close()
    return [
        {
            "indicator": code,
            "unit": unit,
            "week": int(period_no),
            "actual": _number(actual, kind),
            "target": _number(target, kind),
            "expected": _number(expected, kind),
            "status": status,
        }
        for code, unit, period_no, actual, target, expected, status, kind in rows
    ]


def export_ranking(settings, month: str, scope: str) -> list[dict]:
    """The league table of ``month`` (``YYYY-MM``) for ``scope`` (``county`` or ``department``).

    Returns
    -------
    list of dict
        Keys :data:`RANKING_COLUMNS`: rank (shared on ties), the unit's name, score (0-100, 2 decimals),
        rank change against the previous month (positive = moved up; empty in the first month), note. A
        closed month (its 工作排名 issued) gives the issued figures, and ``note`` says 此后补报，变动见下期
        with the later figure for a unit whose data changed since (:mod:`dashboards.closed_months`).
        Ordered by rank, then the units.yml order.

    Raises
    ------
    ValueError
        For a malformed month or an unknown scope (Chinese message).
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(month)):
        raise ValueError(f"月份“{month}”格式不对，应写成 YYYY-MM（例如 2022-05）。")
    if scope not in ("county", "department"):
        raise ValueError(f"排名范围“{scope}”不存在，应为 county（县区）或 department（市直部门）。")
    import polars as pl

    from dashboards.closed_months import later_text, month_ranking

    con = open_snapshot(settings.published)
    try:
        figures = month_ranking(settings, con, month)
        order = dict(con.execute("select unit_id, sort_order from ref.units").fetchall())
    finally:
        con.close()
    table = figures.ranking
    if table.height == 0:
        return []
    rows = sorted(
        table.filter(pl.col("scope") == scope).iter_rows(named=True),
        key=lambda r: (r["rank"], order.get(r["unit_id"], 0)),
    )
    return [
        {
            "rank": int(r["rank"]),
            "unit": r["unit_name"],
            "score": _number(r["score"], "count"),
            "rank_change": None if r["rank_change"] is None else int(r["rank_change"]),
            "note": later_text(r),
        }
        for r in rows
    ]
