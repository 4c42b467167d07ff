"""A closed month's ranking as it was issued, for the leaders' page: the rule itself lives in
:mod:`dashboards.closed_months` (one place for the site, the portal, the exports and this page)."""

from __future__ import annotations

import polars as pl

from dashboards.closed_months import MonthRanking, month_ranking

__all__ = ["IssuedRanking", "ranking_as_issued"]

IssuedRanking = MonthRanking


def ranking_as_issued(settings, con, live: pl.DataFrame, month: str | None) -> IssuedRanking:
    """The month's ranking from its issued edition when there is one, else the live one (said so in ``note``);
    ``changed`` holds the units whose live score or rank differs from the issued figures."""
    return month_ranking(settings, con, month, live=live)
