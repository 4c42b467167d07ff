"""The monthly ranking (工作排名) and summary (工作小结) on the fixture warehouse."""

from __future__ import annotations

from dash_helpers import check_snapshot, copy_out, fetch, html_text, pdf_text, squash

from dashboards.formatting import fmt_change, fmt_value


def test_league_tables_equal_the_ranking_mart(monthly05, marts):
    edition = monthly05["monthly_ranking"]
    text = squash(pdf_text(edition.outputs()["pdf"]))
    page = html_text(edition.outputs()["html"].read_text(encoding="utf-8"))
    rows = fetch(
        marts,
        """
        select scope, unit_name, score, rank, rank_change, attainment_points, timeliness_points,
               quality_points
        from marts.rpt_monthly_ranking where month = '2022-05' order by scope, rank, unit_sort_order
    """,
    )
    assert len(rows) == 15 + 10  # 15 county units; the departments with duties
    for _scope, unit, score, rank, change, a, t, q in rows:
        # the whole row, in order, in the page; each figure in the PDF (whose text order breaks at pages)
        row = f"{rank}{unit}{score:.2f}{a:.2f}{t:.2f}{q:.2f}"
        assert row in page, row
        for figure in (unit, f"{score:.2f}", f"{a:.2f}", f"{t:.2f}", f"{q:.2f}", fmt_change(change)):
            assert figure in text, (unit, figure)
    assert "九江市道路交通安全专项整治工作排名" in text and "第2期" in text and "2022年5月31日" in text


def test_bottom_places_are_marked_as_the_mart_says(monthly05, marts):
    edition = monthly05["monthly_ranking"]
    page = html_text(edition.outputs()["html"].read_text(encoding="utf-8"))
    for scope in ("county", "department"):
        marked = [
            r[0]
            for r in fetch(
                marts,
                """
            select unit_name from marts.rpt_monthly_ranking
            where month = '2022-05' and scope = $s and is_bottom order by rank, unit_sort_order
        """,
                {"s": scope},
            )
        ]
        assert len(marked) >= 3
        sentence = "排名靠后的是" + "、".join(
            f"{u}（第{r}名）"
            for u, r in fetch(
                marts,
                """
                select unit_name, rank from marts.rpt_monthly_ranking
                where month = '2022-05' and scope = $s and is_bottom order by rank, unit_sort_order
            """,
                {"s": scope},
            )
        )
        assert sentence in page, sentence
    assert page.count("排名靠后") >= 6


def test_every_score_is_explained(monthly05, marts):
    edition = monthly05["monthly_ranking"]
    page = html_text(edition.outputs()["html"].read_text(encoding="utf-8"))
    for label, points in fetch(
        marts,
        """
        select item_label, points from marts.rpt_ranking_breakdown
        where month = '2022-05' and unit_id = 'xunyang' order by component, item
    """,
    ):
        assert squash(label) in page and f"{points:.2f}" in page


def test_summary_month_end_figures(monthly05, marts):
    edition = monthly05["monthly_summary"]
    text = squash(pdf_text(edition.outputs()["pdf"]))
    assert "2022年5月全市道路交通安全专项整治工作小结" in text
    for name, kind, previous, actual in fetch(
        marts,
        """
        select v.indicator_name, v.indicator_kind, p.actual, v.actual
        from marts.fct_indicator_values v
        join marts.fct_indicator_values p on p.indicator_code = v.indicator_code and p.unit_id = v.unit_id
             and p.period_no = 3
        where v.period_no = 7 and v.unit_kind in ('city', 'group') and v.direction <> 'none'
    """,
    ):
        assert fmt_value(previous, kind) in text, name
        assert fmt_value(actual, kind) in text, name
    page = html_text(edition.outputs()["html"].read_text(encoding="utf-8"))
    assert "第4周至第7周" in page
    assert "本月应报报表" in page
    copy_out(edition.outputs()["pdf"], "summary-2022-05.pdf")
    copy_out(monthly05["monthly_ranking"].outputs()["pdf"], "ranking-2022-05.pdf")


def test_html_snapshots(monthly05):
    check_snapshot(
        "ranking-2022-05.html", monthly05["monthly_ranking"].outputs()["html"].read_text(encoding="utf-8")
    )
    check_snapshot(
        "summary-2022-05.html", monthly05["monthly_summary"].outputs()["html"].read_text(encoding="utf-8")
    )
