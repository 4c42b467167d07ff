"""Charts as inline SVG: altair specs rendered offline by vl-convert, Chinese text in Noto Sans CJK SC.

SVG rather than a ``<script>`` embed: the pages must open with no network, WeasyPrint draws SVG into the
PDF, and the same bytes come out every time.

Examples
--------
>>> import polars as pl
>>> history = pl.DataFrame({"period_no": [1, 2], "label": ["第1周", "第2周"], "actual": [0.3, 0.5],
...                         "expected": [0.35, 0.45], "target": [0.95, 0.95]})
>>> svg = build_trend_chart(history, title="重点车辆检验率", kind="rate", chart_id="i02")
>>> svg.startswith("<svg") and "Noto Sans CJK SC" in svg
True
"""

from __future__ import annotations

import re

import polars as pl

__all__ = ["CHART_FONT", "build_bar_chart", "build_trend_chart", "svg_from_spec"]

CHART_FONT = "Noto Sans CJK SC"
_ACTUAL = "#c00000"
_EXPECTED = "#1f4e9a"
_TARGET = "#7a7a7a"


def svg_from_spec(spec: dict, chart_id: str) -> str:
    """Render a Vega-Lite spec to SVG; ids inside are prefixed with ``chart_id`` so several charts can
    share one page."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec)
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{chart_id}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{chart_id}-{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{chart_id}-{m.group(1)}"', svg)
    # Let the page size the chart: keep the aspect ratio through viewBox.
    return svg.replace('class="marks"', 'class="marks chart"', 1)


def _configure(chart):
    return (
        chart.configure(font=CHART_FONT)
        .configure_view(stroke="#cccccc")
        .configure_axis(labelFontSize=10, titleFontSize=10, grid=True, gridColor="#eeeeee")
        .configure_legend(labelFontSize=10, titleFontSize=10, orient="bottom")
        .configure_title(fontSize=12, anchor="start")
    )


def build_trend_chart(
    history: pl.DataFrame, *, title: str, kind: str, chart_id: str, width: int = 300, height: int = 150
) -> str:
    """Weekly progress against the 序时进度 line (and the target) for one indicator and scope.

    Parameters
    ----------
    history : pl.DataFrame
        One row per period: ``period_no``, ``label`` (第N周), ``actual``, ``expected``, ``target``.
    kind : {"rate", "count"}
        Rates are drawn on a percentage axis.
    """
    import altair as alt

    rows = []
    for rec in history.sort("period_no").iter_rows(named=True):
        rows.append({"周": rec["label"], "序": rec["period_no"], "系列": "实际完成", "值": rec["actual"]})
        if rec.get("expected") is not None:
            rows.append(
                {"周": rec["label"], "序": rec["period_no"], "系列": "序时进度", "值": rec["expected"]}
            )
    data = alt.Data(values=rows)
    fmt = ".0%" if kind == "rate" else ",.0f"
    x = alt.X("周:N", sort=alt.SortField("序"), title=None, axis=alt.Axis(labelAngle=0))
    y = alt.Y("值:Q", title=None, axis=alt.Axis(format=fmt, tickCount=5))
    colour = alt.Color(
        "系列:N",
        title=None,
        scale=alt.Scale(domain=["实际完成", "序时进度"], range=[_ACTUAL, _EXPECTED]),
    )
    dash = alt.StrokeDash(
        "系列:N", title=None, scale=alt.Scale(domain=["实际完成", "序时进度"], range=[[1, 0], [5, 3]])
    )
    lines = (
        alt.Chart(data).mark_line(point=True, strokeWidth=2).encode(x=x, y=y, color=colour, strokeDash=dash)
    )
    layers = [lines]
    targets = [t for t in history["target"].to_list() if t is not None] if "target" in history.columns else []
    if targets:
        rule = (
            alt.Chart(alt.Data(values=[{"目标": targets[-1]}]))
            .mark_rule(color=_TARGET, strokeDash=[2, 2])
            .encode(y="目标:Q")
        )
        layers.append(rule)
    chart = alt.layer(*layers).properties(title=title, width=width, height=height)
    return svg_from_spec(_configure(chart).to_dict(validate=False), chart_id)


def build_bar_chart(
    frame: pl.DataFrame,
    *,
    category: str,
    value: str,
    title: str,
    chart_id: str,
    fmt: str = ",.1f",
    width: int = 420,
    height: int | None = None,
) -> str:
    """Horizontal bars (e.g. ranking scores), in the frame's row order."""
    import altair as alt

    values = [{"类": r[category], "值": r[value], "序": i} for i, r in enumerate(frame.iter_rows(named=True))]
    bars = (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color=_EXPECTED)
        .encode(
            y=alt.Y("类:N", sort=alt.SortField("序"), title=None),
            x=alt.X("值:Q", title=None, axis=alt.Axis(format=fmt)),
        )
    )
    text = bars.mark_text(align="left", dx=3, fontSize=9, color="#333333").encode(
        text=alt.Text("值:Q", format=fmt)
    )
    chart = alt.layer(bars, text).properties(
        title=title, width=width, height=height or 16 * max(len(values), 1)
    )
    return svg_from_spec(_configure(chart).to_dict(validate=False), chart_id)
