"""A closed month's ranking as it was issued: the figures of its frozen 排名 edition, and which units the live
snapshot now scores differently (late corrections), so a leader never sees two numbers for one month."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from dashboards import data as d
from dashboards.editions import edition_dir, monthly_ref, open_edition
from dashboards.formatting import issue_label

__all__ = ["IssuedRanking", "ranking_as_issued"]

_KIND = "monthly_ranking"


@dataclass(frozen=True)
class IssuedRanking:
    ranking: pl.DataFrame
    note: str
    changed: set[str] = field(default_factory=set)


def ranking_as_issued(settings, con, live: pl.DataFrame, month: str | None) -> IssuedRanking:
    """The month's ranking from its issued edition when there is one, else the live one (said so in ``note``).

    ``changed`` holds the units whose live score or rank differs from the issued figures."""
    if month is None:
        return IssuedRanking(live, "")
    folder = edition_dir(settings, _KIND, monthly_ref(month))
    if not ((folder / "edition.json").is_file() and (folder / "snapshot.duckdb").is_file()):
        return IssuedRanking(live, "本月排名尚未印发，以下为按最新数据计算的结果。")
    edition = open_edition(folder)
    ed_con = edition.connect()
    try:
        issued = d.read_ranking(ed_con, month)
    finally:
        ed_con.close()
    joined = issued.join(
        live.select("scope", "unit_id", pl.col("score").alias("live_score"), pl.col("rank").alias("live_rank")),
        on=["scope", "unit_id"],
        how="left",
    )
    changed = set(
        joined.filter(
            pl.col("live_score").is_null()
            | ((pl.col("live_score") - pl.col("score")).abs() >= 0.005)
            | (pl.col("live_rank") != pl.col("rank"))
        )["unit_id"].to_list()
    )
    note = f"按已印发的排名（{issue_label(edition.meta.issue_no)}）列示。"
    if changed:
        note += f"印发后有 {len(changed)} 个单位的数据更正，标“*”者现得分或名次与印发时不同。"
    return IssuedRanking(issued, note, changed)
