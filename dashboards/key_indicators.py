"""The key indicators' trend charts, shared by the weekly bulletin and the monthly summary: the weekly
history of each key indicator at its aggregate scope, drawn against 序时进度.

Examples
--------
>>> charts = key_indicator_charts(values, reference, ["A1"], chart_prefix="trend", period="第3周")  # doctest: +SKIP
"""

from __future__ import annotations

import polars as pl

from dashboards import data as d
from dashboards.charts import build_trend_chart

__all__ = ["key_indicator_charts", "key_indicator_history"]


def key_indicator_history(
    values: pl.DataFrame, reference: d.Reference, code: str
) -> tuple[pl.DataFrame, dict]:
    """Weekly history of one key indicator at its aggregate scope (city or group), with period labels."""
    rows = values.filter((pl.col("indicator_code") == code) & pl.col("unit_kind").is_in(["city", "group"]))
    if rows.height == 0:
        return rows, {}
    unit_id = rows.sort("unit_order")["unit_id"][0]
    rows = rows.filter(pl.col("unit_id") == unit_id).sort("period_no")
    labels = reference.periods.select("period_no", "label")
    rows = rows.join(labels, on="period_no", how="left")
    first = rows.row(0, named=True)
    return rows, {"name": first["indicator_name"], "kind": first["kind"], "unit_name": first["unit_name"]}


def key_indicator_charts(
    values: pl.DataFrame, reference: d.Reference, codes, *, chart_prefix: str, period: str
) -> list[dict]:
    """One ``{"svg", "caption"}`` per key indicator that has a history; ``period`` ends each caption."""
    charts = []
    for code in codes:
        history, info = key_indicator_history(values, reference, code)
        if history.height:
            charts.append(
                {
                    "svg": build_trend_chart(
                        history,
                        title=f"{info['name']}（{info['unit_name']}）",
                        kind=info["kind"],
                        chart_id=f"{chart_prefix}-{code.lower()}",
                    ),
                    "caption": f"{info['name']}：实际完成与序时进度（{period}）",
                }
            )
    return charts
