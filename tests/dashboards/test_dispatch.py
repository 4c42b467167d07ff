"""The dispatch list (工作调度单): one page per unit with what is behind, missing and due next week."""

from __future__ import annotations

import duckdb
import polars as pl
from dash_helpers import check_snapshot, fetch, html_text, pdf_text, squash

from dashboards.dispatch import collect_dispatch, dispatch_items


def _items(edition, unit_id):
    con = duckdb.connect(str(edition.snapshot), read_only=True)
    try:
        data = collect_dispatch(con, edition.meta)
    finally:
        con.close()
    return dispatch_items(data, edition.meta, unit_id)


def test_every_responsible_unit_has_a_page(weekly5, campaign):
    edition = weekly5["dispatch_list"]
    html = edition.outputs()["html"].read_text(encoding="utf-8")
    for unit_id in campaign.responsible_units:
        name = campaign.units[unit_id].name
        assert f'<h2 class="unit-name">{name}</h2>' in html, name


def test_missing_forms_and_lagging_indicators_of_a_county(weekly5, marts):
    edition = weekly5["dispatch_list"]
    items = _items(edition, "duchang")
    missing = items.filter(pl.col("category") == "缺报报表")
    assert missing["item"].to_list() == ["F4 道路交通隐患排查整治台账（第5周）"]
    assert missing["deadline"].to_list() == ["5月12日12时"]
    lagging = items.filter(pl.col("category") == "指标滞后")
    expected = [
        r[0]
        for r in fetch(
            marts,
            """
        select indicator_name from marts.fct_indicator_values
        where unit_id = 'duchang' and period_no = 5 and status in ('滞后', '逾期未完成', '数据缺报')
        order by indicator_code
    """,
        )
    ]
    assert [i.split("：")[0] for i in lagging["item"].to_list()] == expected


def test_tasks_and_next_week_of_a_department(weekly5, marts):
    edition = weekly5["dispatch_list"]
    items = _items(edition, "xuanchuan")
    behind = items.filter(pl.col("category") == "牵头任务")
    expected = [
        r[0]
        for r in fetch(
            marts,
            """
        select s.task_no from marts.fct_task_status s join ref.task_units tu using (task_no)
        where tu.unit_id = 'xuanchuan' and tu.role = 'lead' and s.period_no = 5
          and s.status in ('滞后', '逾期未完成', '数据缺报', '未启动')
        order by 1
    """,
        )
    ]
    assert [int(i.split()[0].removeprefix("任务")) for i in behind["item"].to_list()] == expected
    upcoming = items.filter(pl.col("category") == "下周到期")
    assert "F9 重点工作推进情况表（第6周）" in upcoming["item"].to_list()
    assert set(upcoming.filter(pl.col("item").str.starts_with("F9"))["deadline"].to_list()) == {"5月19日12时"}
    # 市委宣传部 sent no F9 in week 5: it is listed as missing
    assert (
        "F9 重点工作推进情况表（第5周）" in items.filter(pl.col("category") == "缺报报表")["item"].to_list()
    )


def test_pdf_has_one_page_per_unit_plus_overview(weekly5, campaign):
    from pypdf import PdfReader

    edition = weekly5["dispatch_list"]
    pages = len(PdfReader(edition.outputs()["pdf"]).pages)
    assert pages >= len(campaign.responsible_units) + 1
    text = squash(pdf_text(edition.outputs()["pdf"]))
    assert "九江市道路交通安全专项整治工作调度单" in text and "第5期" in text


def test_overview_names_units_to_follow_up(weekly5):
    page = html_text(weekly5["dispatch_list"].outputs()["html"].read_text(encoding="utf-8"))
    assert "本期需重点督办的单位：" in page
    assert "都昌县" in page and "市委宣传部" in page


def test_html_snapshot(weekly5):
    check_snapshot(
        "dispatch-week-05.html", weekly5["dispatch_list"].outputs()["html"].read_text(encoding="utf-8")
    )
