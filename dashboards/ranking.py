"""The monthly ranking (工作排名): county and department league tables with score, rank and the change
against last month, the last places marked 排名靠后 as the campaign definition says, and every score
explained line by line (on the page and in the workbook; the PDF prints that annex summed per unit).

Examples
--------
>>> doc = build_ranking(collect_ranking(con, meta), meta)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dashboards import data as d
from dashboards.charts import build_bar_chart
from dashboards.duban import read_duban
from dashboards.edition_meta import EditionMeta
from dashboards.formatting import fmt_change
from dashboards.narrative import base_context, stamp_text
from dashboards.rendering import Document, render_template
from dashboards.tables import (
    bottom_marks,
    build_breakdown_summary_table,
    build_breakdown_table,
    build_ranking_table,
    to_html,
)
from dashboards.workbook import Sheet
from roadsafe.wording import cn_numeral

__all__ = [
    "SCOPES",
    "RankingData",
    "bottom_of",
    "breakdown_by_unit",
    "build_ranking",
    "collect_ranking",
    "ranking_sentence",
]

SCOPES = {"county": "县（市、区）", "department": "市直责任单位"}
_COMPONENTS = {"attainment": "目标完成", "timeliness": "按时报送", "quality": "数据质量"}


@dataclass(frozen=True)
class RankingData:
    """The month's league tables and their explanation, from the frozen snapshot."""

    reference: d.Reference
    ranking: pl.DataFrame
    breakdown: pl.DataFrame
    weights: pl.DataFrame
    coverage: d.Coverage
    duban: tuple[dict, ...] = ()  # 督办单 issued up to the freeze


def collect_ranking(con, meta: EditionMeta) -> RankingData:
    """Read the ranking's data from an open snapshot connection."""
    return RankingData(
        reference=d.read_reference(con),
        ranking=d.read_ranking(con, meta.month),
        breakdown=d.read_ranking_breakdown(con, meta.month),
        weights=d.read_ranking_weights(con),
        coverage=d.read_coverage(con, list(meta.period_nos), meta.cutoff, meta.until),
        duban=tuple(read_duban(con, meta.campaign.code, meta.until)),
    )


def judged_periods_text(reference: d.Reference, meta: EditionMeta) -> str:
    """Which periods the ranking judged, and which of the month's periods it left out because their forms
    fall due after it is issued: ``本期排名评判第8周至第12周的数据；第13周的报表在排名发布后到期，不在本期评判范围内。``"""
    labels = [reference.period(n)["label"] for n in meta.period_nos]
    span = labels[0] if len(labels) == 1 else f"{labels[0]}至{labels[-1]}"
    text = f"本期排名评判{span}的数据"
    left = [n for n in reference.periods_of_month(meta.month) if n not in meta.period_nos]
    if left:
        text += f"；{'、'.join(reference.period(n)['label'] for n in left)}的报表在排名发布后到期，不在本期评判范围内"
    return text + "。"


def bottom_of(table: pl.DataFrame, bottom_marked: int) -> list[bool]:
    """Which rows are 排名靠后: the mart's mark when it gives one, else the last ``bottom_marked`` places."""
    if "is_bottom" in table.columns and table["is_bottom"].null_count() < table.height:
        return [bool(v) for v in table["is_bottom"].to_list()]
    return bottom_marks(table["rank"].to_list(), bottom_marked)


def ranking_sentence(table: pl.DataFrame, scope_name: str, bottom_marked: int) -> str:
    """``县（市、区）中，濂溪区（85.12分）、八里湖新区…位列前三；排名靠后的是…。上升最多的是…``"""
    if table.height == 0:
        return f"本月{scope_name}暂无排名数据。"
    top = table.head(3)
    parts = [
        f"{scope_name}中，"
        + "、".join(f"{r['unit_name']}（{r['score']:.2f}分）" for r in top.iter_rows(named=True))
        + f"位列前{top.height}"
    ]
    marked = table.filter(pl.Series(bottom_of(table, bottom_marked)))
    if marked.height:
        parts.append(
            "排名靠后的是"
            + "、".join(f"{r['unit_name']}（第{r['rank']}名）" for r in marked.iter_rows(named=True))
        )
    moves = table.filter(pl.col("rank_change").is_not_null())
    if moves.height:
        up = moves.sort(["rank_change", "rank"], descending=[True, False]).row(0, named=True)
        down = moves.sort(["rank_change", "rank"]).row(0, named=True)
        if up["rank_change"] > 0:
            parts.append(f"与上月相比上升最多的是{up['unit_name']}（{fmt_change(up['rank_change'])}）")
        if down["rank_change"] < 0:
            parts.append(f"下降最多的是{down['unit_name']}（{fmt_change(down['rank_change'])}）")
    return "；".join(parts) + "。"


def breakdown_by_unit(breakdown: pl.DataFrame, table: pl.DataFrame, components: list[str]) -> pl.DataFrame:
    """The breakdown's points summed per unit, in the breakdown's order: unit_id, unit_name, one column per
    component (the sum of its items' points), total (the sum of all the unit's points), rank (from the
    league table ``table``; null for a unit not in it)."""
    sums = breakdown.group_by("unit_id", "unit_name", maintain_order=True).agg(
        *[pl.col("points").filter(pl.col("component") == c).sum().alias(c) for c in components],
        pl.col("points").sum().alias("total"),
    )
    return sums.join(table.select("unit_id", "rank"), on="unit_id", how="left", maintain_order="left")


def _weights(weights: pl.DataFrame, scope: str) -> dict[str, float]:
    rows = weights.filter(pl.col("scope") == scope)
    return dict(zip(rows["component"].to_list(), rows["weight"].to_list(), strict=True))


def _tie_rule(weights: pl.DataFrame) -> str:
    ties = weights.filter(pl.col("tie_break_order").is_not_null()).sort("tie_break_order")
    names = list(dict.fromkeys(_COMPONENTS.get(c, c) for c in ties["component"].to_list()))
    if not names:
        return "得分相同的并列。"
    return "总得分相同时，依次比较" + "、".join(names) + "得分，仍相同的并列。"


def build_ranking(data: RankingData, meta: EditionMeta) -> Document:
    """Lay out the monthly ranking."""
    bottom = meta.campaign.bottom_marked
    parts = []
    sheets = []
    for i, (scope, scope_name) in enumerate(SCOPES.items(), start=1):
        table = data.ranking.filter(pl.col("scope") == scope).sort(["rank", "unit_name"])
        weights = _weights(data.weights, scope)
        chart = ""
        if table.height:
            chart = build_bar_chart(
                table,
                category="unit_name",
                value="score",
                title=f"{scope_name}总得分",
                chart_id=f"score-{scope}",
                fmt=".1f",
                width=380,
            )
        breakdown = data.breakdown.filter(pl.col("scope") == scope)
        order = {u: k for k, u in enumerate(table["unit_id"].to_list())}
        components = {c: k for k, c in enumerate(weights)}
        breakdown = (
            breakdown.with_columns(
                pl.col("unit_id").replace_strict(order, default=len(order)).alias("_order"),
                pl.col("component").replace_strict(components, default=len(components)).alias("_component"),
            )
            .sort(["_order", "_component", "item"])
            .drop("_order", "_component")
        )
        summed = list(components) + [
            c for c in breakdown["component"].unique(maintain_order=True).to_list() if c not in components
        ]
        parts.append(
            {
                "numeral": cn_numeral(i),
                "scope_name": scope_name,
                "sentence": ranking_sentence(table, scope_name, bottom),
                "table": to_html(
                    build_ranking_table(table, table_id=f"rank-{scope}", marked=bottom_of(table, bottom))
                )
                if table.height
                else "",
                "chart": chart,
                "breakdown": to_html(build_breakdown_table(breakdown, table_id=f"breakdown-{scope}"))
                if breakdown.height
                else "",
                # the printed copy's annex: the same points summed per unit (the items are in the workbook)
                "breakdown_summary": to_html(
                    build_breakdown_summary_table(
                        breakdown_by_unit(breakdown, table, summed),
                        table_id=f"breakdown-sum-{scope}",
                        components=summed,
                    )
                )
                if breakdown.height
                else "",
                "weights": "、".join(f"{_COMPONENTS.get(c, c)}{w:g}分" for c, w in weights.items()),
            }
        )
        marks = bottom_of(table, bottom)
        sheets.append(
            Sheet(
                f"{scope_name}排名",
                pl.DataFrame(
                    {
                        "排名": table["rank"].to_list(),
                        "单位": table["unit_name"].to_list(),
                        "总得分": table["score"].to_list(),
                        "目标完成": table["attainment"].to_list(),
                        "按时报送": table["timeliness"].to_list(),
                        "数据质量": table["quality"].to_list(),
                        "上月排名": table["prev_rank"].to_list(),
                        "变化": [fmt_change(v) for v in table["rank_change"].to_list()],
                        "备注": ["排名靠后" if m else None for m in marks],
                    },
                    schema_overrides={"备注": pl.String, "上月排名": pl.Int64},
                ),
                title=f"{meta.title}（第{meta.issue_no}期）{scope_name}",
                formats={
                    "总得分": "decimal",
                    "目标完成": "decimal",
                    "按时报送": "decimal",
                    "数据质量": "decimal",
                },
            )
        )
    if data.breakdown.height:
        b = data.breakdown
        sheets.append(
            Sheet(
                "得分明细",
                pl.DataFrame(
                    {
                        "类别": [SCOPES.get(s, s) for s in b["scope"].to_list()],
                        "单位": b["unit_name"].to_list(),
                        "得分项": [_COMPONENTS.get(c, c) for c in b["component"].to_list()],
                        "细项": b["item"].to_list(),
                        "得分": b["points"].to_list(),
                        "满分": b["max_points"].to_list(),
                        "说明": b["detail"].to_list(),
                    }
                ),
                formats={"得分": "decimal", "满分": "decimal"},
            )
        )
    marked_units = []
    for scope in SCOPES:
        table = data.ranking.filter(pl.col("scope") == scope).sort("rank")
        marks = bottom_of(table, bottom)
        marked_units += [u for u, m in zip(table["unit_name"].to_list(), marks, strict=True) if m]
    stamp = stamp_text(data.coverage, meta.campaign.timezone, "本月")
    context = dict(
        **base_context(meta),
        stamp=stamp,
        judged_text=judged_periods_text(data.reference, meta),
        parts=parts,
        tie_rule=_tie_rule(data.weights),
        marked_units="、".join(marked_units),
        bottom_marked=bottom,
        n_parts=len(parts),
        numerals={k: cn_numeral(len(parts) + k) for k in (1, 2, 3)},
        duban=data.duban,
    )
    html = render_template("ranking.html.j2", **context, printed=False)
    summary = "\n".join([f"{meta.title}（第{meta.issue_no}期）", stamp] + [p["sentence"] for p in parts])
    return Document(
        stem="ranking",
        title=f"{meta.title}（第{meta.issue_no}期）",
        html=html,
        sheets=sheets,
        summary=summary,
        pdf_html=render_template("ranking.html.j2", **context, printed=True),
    )
