"""One truth per month: the figures of a month as every reader must show them.

A month is *closed* once its 工作排名 edition is issued (``reports/monthly_ranking/<YYYY-MM>/`` holds its
``edition.json`` and frozen ``snapshot.duckdb``; a draft awaiting sign-off is not issued). The figures of a
closed month (scores, components, ranks) are the edition's frozen ones (its latest 更正's, when the office
issued one), wherever they are shown: the static site, the leaders' page, the portal and the
exports. Files received after the issue (late or corrected) still count in timeliness and in the figures of
later months, but they never rewrite a closed month: where the live snapshot now scores a unit differently,
the issued figure stays and the later one is shown beside it as such (:data:`LATER_NOTE`), and the next
edition carries the change. A month whose ranking is not issued yet is read from the live published snapshot.

:func:`month_ranking` is the one place that decides this; :func:`ranking_history` applies it month by month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dashboards import data as d
from dashboards.editions import Edition, edition_dir, monthly_ref, open_edition
from dashboards.formatting import issue_label
from roadsafe.warehouse import open_snapshot

__all__ = [
    "LATER_NOTE",
    "MARK",
    "MonthRanking",
    "issued_edition",
    "later_text",
    "month_ranking",
    "ranking_history",
]

KIND = "monthly_ranking"
_SNAPSHOT = "snapshot.duckdb"
LATER_NOTE = "此后补报，变动见下期"
MARK = "*"  # beside the name of a unit whose data changed after the issue
NOT_ISSUED = "本月排名尚未印发，以下为按最新数据计算的结果。"
# A score moves "differently" when it changes in the second decimal (the figures are printed with two).
_SCORE_EPS = 0.005


@dataclass(frozen=True)
class MonthRanking:
    """The figures of one month.

    ``ranking`` has the columns of :func:`dashboards.data.read_ranking` plus ``changed_since`` (the unit's
    data changed after the issue), ``later_score`` and ``later_rank`` (its live figures then, else null).
    ``issue_no`` is the 期号 of the issued edition (None while the month is open)."""

    month: str | None
    ranking: pl.DataFrame
    issue_no: int | None
    note: str
    changed: set[str] = field(default_factory=set)

    @property
    def issued(self) -> bool:
        return self.issue_no is not None


def issued_edition(settings, month: str) -> Edition | None:
    """The month's issued 工作排名 edition, or None while it is not issued."""
    folder = edition_dir(settings, KIND, monthly_ref(month))
    if not ((folder / "edition.json").is_file() and (folder / "snapshot.duckdb").is_file()):
        return None
    return open_edition(folder)


def _of_record(settings, edition: Edition, month: str) -> tuple[Path, int]:
    """The snapshot that holds the month's figures of record: the latest 更正 of its edition when there is
    one (a wrong edition is put right only that way), else the edition's own; and the correction's number."""
    from dashboards.correction import list_corrections

    corrections = [
        c for c in list_corrections(settings, KIND, monthly_ref(month)) if (c.folder / _SNAPSHOT).is_file()
    ]
    if corrections:
        return corrections[-1].folder / _SNAPSHOT, len(corrections)
    return edition.snapshot, 0


def _no_later(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(False).alias("changed_since"),
        pl.lit(None, dtype=pl.Float64).alias("later_score"),
        pl.lit(None, dtype=pl.Int64).alias("later_rank"),
    )


def month_ranking(settings, con, month: str | None, live: pl.DataFrame | None = None) -> MonthRanking:
    """The figures of ``month``: its issued edition's when issued, else the live ones (``note`` says which).

    ``con`` is a connection to the live published snapshot; ``live`` its ranking of the month when the
    caller has already read it."""
    if live is not None and "changed_since" in live.columns:
        live = None  # figures already resolved by this module (the site's): compare with the live marts
    if month is None:
        return MonthRanking(None, _no_later(live if live is not None else pl.DataFrame()), None, "")
    if live is None:
        live = d.read_ranking(con, month)
    edition = issued_edition(settings, month)
    if edition is None:
        return MonthRanking(month, _no_later(live), None, NOT_ISSUED if live.height else "")
    snapshot, corrected = _of_record(settings, edition, month)
    ed_con = open_snapshot(snapshot)
    try:
        issued = d.read_ranking(ed_con, month)
    finally:
        ed_con.close()
    joined = issued.join(
        live.select(
            "scope", "unit_id", pl.col("score").alias("live_score"), pl.col("rank").alias("live_rank")
        ),
        on=["scope", "unit_id"],
        how="left",
    )
    moved = (
        pl.col("live_score").is_null()
        | ((pl.col("live_score") - pl.col("score")).abs() >= _SCORE_EPS)
        | (pl.col("live_rank") != pl.col("rank"))
    )
    changed = set(joined.filter(moved)["unit_id"].to_list())
    ranking = joined.with_columns(
        moved.fill_null(False).alias("changed_since"),
        pl.when(moved).then(pl.col("live_score")).otherwise(None).cast(pl.Float64).alias("later_score"),
        pl.when(moved).then(pl.col("live_rank")).otherwise(None).cast(pl.Int64).alias("later_rank"),
    ).drop("live_score", "live_rank")
    note = f"按已印发的排名（{issue_label(edition.meta.issue_no)}）列示。"
    if corrected:
        note = f"按已印发的排名（{issue_label(edition.meta.issue_no)}）及其第{corrected}次更正列示。"
    if changed:
        note += f"印发后有 {len(changed)} 个单位的数据更正，标“{MARK}”者{LATER_NOTE}（现得分或名次与印发时不同）。"
    return MonthRanking(month, ranking, edition.meta.issue_no, note, changed)


def ranking_history(settings, con, months: list[str]) -> pl.DataFrame:
    """:func:`month_ranking` of every month in ``months`` in one frame, with a ``month`` column."""
    frames = [month_ranking(settings, con, m).ranking.with_columns(pl.lit(m).alias("month")) for m in months]
    frames = [f for f in frames if f.height]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def later_text(row: dict) -> str:
    """The words beside an issued figure whose data changed since (``此后补报，变动见下期（现为…）``), for a
    row of :attr:`MonthRanking.ranking`; empty for an unchanged one."""
    if not row.get("changed_since"):
        return ""
    later_score, later_rank = row.get("later_score"), row.get("later_rank")
    if later_score is None:
        return f"{LATER_NOTE}（现已不在排名中）"
    return f"{LATER_NOTE}（现为{later_score:.2f}分、第{later_rank}名）"
