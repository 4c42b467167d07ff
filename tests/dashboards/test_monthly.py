"""The monthly ranking (工作排名) and summary (工作小结) on the fixture warehouse."""

from __future__ import annotations

from dash_helpers import FROZEN_AT, check_snapshot, copy_out, fetch, html_text, pdf_text, squash

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


def test_the_printed_annex_sums_the_items_per_unit(monthly05, marts):
    """The PDF prints the score annex one line per unit (each component's points summed over its items, and
    their sum, which is the score); the items themselves stay on the page and in the workbook."""
    edition = monthly05["monthly_ranking"]
    text = squash(pdf_text(edition.outputs()["pdf"]))
    page = html_text(edition.outputs()["html"].read_text(encoding="utf-8"))
    sums = fetch(
        marts,
        """
        select r.rank, u.name, sum(b.points) filter (where b.component = 'attainment'),
               sum(b.points) filter (where b.component = 'timeliness'),
               sum(b.points) filter (where b.component = 'quality'), sum(b.points), r.score
        from marts.rpt_ranking_breakdown b join ref.units u using (unit_id)
        join marts.rpt_monthly_ranking r using (month, scope, unit_id)
        where b.month = '2022-05'
        group by r.scope, r.rank, u.name, u.sort_order, r.score order by r.scope, r.rank, u.sort_order
    """,
    )
    assert len(sums) == 15 + 10
    for rank, unit, a, t, q, total, score in sums:
        assert f"{total:.2f}" == f"{score:.2f}"  # the items add up to the score
        assert f"{rank}{unit}{a:.2f}{t:.2f}{q:.2f}{total:.2f}" in text, unit
    assert "附表：县（市、区）得分汇总" in text and "附表：市直责任单位得分汇总" in text
    assert "逐项得分明细见随本期排名印发的电子表格（“得分明细”工作表）及网页版" in text
    # the items: on the page, not in the PDF
    items = fetch(
        marts,
        "select detail from marts.rpt_ranking_breakdown where month = '2022-05' and unit_id = 'xunyang'",
    )
    assert items and all(squash(d) in page for (d,) in items)
    assert "得分明细" in page and "附表：县（市、区）得分明细" not in text
    assert not any(squash(d) in text for (d,) in items)
    from openpyxl import load_workbook

    book = load_workbook(edition.outputs()["xlsx"], read_only=True)
    rows = list(book["得分明细"].iter_rows(values_only=True))
    count = fetch(marts, "select count(*) from marts.rpt_ranking_breakdown where month = '2022-05'")[0][0]
    assert sum(1 for r in rows if r and r[4] is not None and not isinstance(r[4], str)) == count


def test_the_office_review_reaches_the_printed_copy(monthly05, tmp_path):
    """The ranking prints a different page from the web page; the 按语 and a reworded paragraph reach both."""
    from dashboards.editions import build_document
    from dashboards.rendering import write_document
    from dashboards.review import apply_review, paragraphs

    raw = build_document(monthly05["monthly_ranking"], review=False)
    assert raw.pdf_html is not None and raw.pdf_html != raw.html
    keys = [(p.key, p.text) for p in paragraphs(raw.html)]
    assert keys == [(p.key, p.text) for p in paragraphs(raw.pdf_html)]  # the same editable paragraphs
    key, original = next((k, t) for k, t in keys if t.startswith("总得分由"))
    reworded = original.replace("总得分由", "总得分包括", 1).replace("三部分组成", "三部分", 1)
    note = "请各单位对照得分明细逐项查找差距。"
    review = {"note": note, "rewordings": {key: {"original": original, "text": reworded}}}
    document = apply_review(raw, tmp_path, review)
    assert note in document.pdf_html and reworded in document.pdf_html and original not in document.pdf_html
    files = write_document(document, tmp_path / "out", created=FROZEN_AT, author="整治办")
    text = squash(pdf_text(files["pdf"]))
    assert squash(note) in text and squash(reworded) in text and "得分汇总" in text


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
