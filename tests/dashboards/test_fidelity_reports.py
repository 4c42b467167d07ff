"""Fidelity to the plan in the reports: targets the plan does not give read （暂定）, the ranking says which
periods it judged, and co-responsible units find their tasks and what they owe in the dispatch list."""

from __future__ import annotations

import duckdb
import polars as pl
from dash_helpers import fetch, html_text

from dashboards import data as d
from dashboards.dispatch import collect_dispatch, dispatch_items
from dashboards.formatting import fmt_target


def test_a_target_the_plan_does_not_give_reads_provisional(marts):
    assert fmt_target(0.95, "rate", "up", True) == "≥95.0%（暂定）"
    assert fmt_target(0.95, "rate", "up", False) == "≥95.0%"
    values = d.read_indicator_values(marts, period_no=5)
    goal = {
        r["unit_id"]: r["target_is_assumption"]
        for r in values.filter(pl.col("indicator_code") == "I13").to_dicts()
    }
    assert goal["jiujiang"] is False and goal["xunyang"] is True  # the plan's city-wide 50%; counties: office
    assert not values.filter(pl.col("indicator_code") == "I09")["target_is_assumption"].any()


def test_the_ranking_says_which_periods_it_judged(monthly05, campaign):
    page = html_text(monthly05["monthly_ranking"].outputs()["html"].read_text(encoding="utf-8"))
    assert "本期排名评判第4周至第7周的数据" in page  # May: weeks 4-7, all due before 05-31 18:00


def test_co_responsible_units_see_their_tasks_and_what_they_owe(weekly5, marts, campaign):
    edition = weekly5["dispatch_list"]
    con = duckdb.connect(str(edition.snapshot), read_only=True)
    try:
        data = collect_dispatch(con, edition.meta)
    finally:
        con.close()
    items = dispatch_items(data, edition.meta, "zhujian")  # 市住建局: co-responsible only
    co = items.filter(pl.col("category") == "协办任务")
    open_co = [
        r[0]
        for r in fetch(
            marts,
            """
        select s.task_no from marts.fct_task_status s join ref.task_units tu using (task_no)
        where tu.unit_id = 'zhujian' and tu.role = 'co' and s.period_no = 5 and s.status <> '已完成'
        order by 1
    """,
        )
    ]
    assert open_co and [int(i.split()[0].removeprefix("任务")) for i in co["item"].to_list()] == open_co
    assert all("（牵头单位：" in i for i in co["item"].to_list())
    page = html_text(edition.outputs()["html"].read_text(encoding="utf-8"))
    assert f"作为协作单位参与的未完成任务{len(open_co)}项：请{campaign.frame.co_duty}" in page
