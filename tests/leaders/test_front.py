"""The leaders' front page against the marts: the glance, the tasks most behind, the issued ranking with
the correction since marked, the tile map, this week's timeliness; self-contained and light."""

from __future__ import annotations

import re

from dash_helpers import FROZEN_AT, html_text
from leaders_setup import CORRECTED_UNIT, ISSUED_MONTH

from dashboards.editions import edition_dir, open_edition
from dashboards.leaders.front import STATUS_ORDER


def _period(marts) -> int:
    return marts.execute(
        "select max(period_no) from ref.periods where due_at <= ?", [FROZEN_AT]
    ).fetchone()[0]


def test_glance_counts_equal_the_task_mart(front_html, marts):
    n = _period(marts)
    counts = dict(
        marts.execute("select status, count(*) from marts.fct_task_status where period_no = ? group by 1", [n]).fetchall()
    )
    for i, status in enumerate(STATUS_ORDER):
        found = re.search(
            rf'<a href="#status-{i}"><span class="n">(\d+)</span><span class="lbl">{status}</span>', front_html
        )
        assert found, status
        assert int(found.group(1)) == counts.get(status, 0)
    start, end = marts.execute("select min(start_date), max(end_date) from ref.periods").fetchone()
    days = (end - start).days + 1
    day = min((FROZEN_AT.date() - start).days + 1, days)
    assert f"活动第 <strong>{day}</strong> 天，共 {days} 天" in front_html
    assert f"{start.year}年{start.month}月{start.day}日至" in front_html


def test_most_behind_are_the_overdue_tasks_with_their_lead_words(front_html, marts):
    n = _period(marts)
    overdue = [
        r[0]
        for r in marts.execute(
            "select task_no from marts.fct_task_status where period_no = ? and status in ('逾期未完成', '滞后')", [n]
        ).fetchall()
    ]
    section = front_html.split('id="behind"')[1].split("</section>")[0]
    shown = [int(x) for x in re.findall(r'href="tasks/task-(\d+)\.html"', section)]
    assert shown and set(shown) <= set(overdue) and len(shown) == min(5, len(overdue))
    assert section.count('<svg class="spark"') >= 1
    assert "最新进展报告" in section


def test_closed_month_shows_the_issued_edition_and_marks_the_correction(front_html, marts, leaders_settings):
    edition = open_edition(edition_dir(leaders_settings, "monthly_ranking", ISSUED_MONTH))
    ed = edition.connect()
    try:
        issued = dict(
            ed.execute(
                "select unit_id, score from marts.rpt_monthly_ranking where month = ?", [ISSUED_MONTH]
            ).fetchall()
        )
    finally:
        ed.close()
    live = dict(
        marts.execute("select unit_id, score from marts.rpt_monthly_ranking where month = ?", [ISSUED_MONTH]).fetchall()
    )
    assert abs(live[CORRECTED_UNIT] - issued[CORRECTED_UNIT] - 5) < 1e-6  # the fixture's correction
    section = front_html.split('id="ranking"')[1].split("</section>")[0]
    rows = re.findall(
        r'href="units/(\w+)\.html">\s*<span class="rk">(\d+)</span>\s*<span class="nm">([^<]+)</span>\s*'
        r'<span class="sc">([\d.]+)</span>',
        section,
    )
    assert len(rows) == len(issued)
    for unit_id, _rank, name, score in rows:
        assert float(score) == round(issued[unit_id], 2), unit_id
        assert name.endswith("*") == (unit_id == CORRECTED_UNIT)
    assert f"按已印发的排名（第{edition.meta.issue_no}期）列示" in section
    assert "印发后有 1 个单位的数据更正" in section
    assert "2022年6月工作排名" in section


def test_tile_map_colours_each_county_with_its_issued_score(front_html, campaign):
    section = front_html.split('id="map"')[1].split("</section>")[0]
    linked = set(re.findall(r'<a href="units/(\w+)\.html">', section))
    assert linked == {c.id for c in campaign.counties}
    assert 'role="group"' in section and "<title>" in section


def test_timeliness_lists_the_missing_units_of_the_week(front_html, marts):
    n = _period(marts)
    missing = {
        r[0]
        for r in marts.execute(
            "select distinct unit_id from marts.fct_submission_compliance "
            "where period_no = ? and (first_received_at is null or first_received_at > ?)",
            [n, FROZEN_AT],
        ).fetchall()
    }
    section = front_html.split('id="timeliness"')[1].split("</section>")[0]
    listed = section.split("<h3>未报送</h3>")[1].split("<h3>")[0]
    assert set(re.findall(r'href="units/(\w+)\.html"', listed)) == missing
    assert "本周督办" in section


def test_page_is_self_contained_light_and_dated_in_chinese(front_html):
    assert len(front_html.encode("utf-8")) < 300_000
    assert "<script" not in front_html
    outside = [u for u in re.findall(r'(?:src|href)="(https?://[^"]+)"', front_html)]
    assert outside == []
    text = html_text(front_html)
    assert re.search(r"数据截至\s?\d{4}年\d{1,2}月\d{1,2}日\s?\d{2}:\d{2}", text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_static_export_writes_front_every_task_and_every_unit(leaders_settings, marts, tmp_path):
    from dashboards.leaders.export import write_leaders
    from dashboards.site import collect_site
    from roadsafe.warehouse import open_snapshot

    con = open_snapshot(leaders_settings.published)
    try:
        site = collect_site(con, FROZEN_AT)
    finally:
        con.close()
    index = write_leaders(leaders_settings, site, tmp_path / "leaders", FROZEN_AT)
    tasks = [r[0] for r in marts.execute("select task_no from ref.tasks").fetchall()]
    units = [r[0] for r in marts.execute("select unit_id from ref.units where kind in ('county', 'department')").fetchall()]
    assert sorted(p.name for p in (index.parent / "tasks").iterdir()) == sorted(f"task-{n:02d}.html" for n in tasks)
    assert sorted(p.stem for p in (index.parent / "units").iterdir()) == sorted(units)
    page = (index.parent / "units" / "xunyang.html").read_text(encoding="utf-8")
    assert "<script" not in page and 'href="../index.html"' in page and "Content-Security-Policy" in page
    # every figure leads to its file: the unit's latest value names the file and row it came from
    sid, name = marts.execute(
        "select s.submission_id, s.original_name from marts.fct_indicator_values v, unnest(v.source_rows) as r(ref) "
        "join marts.fct_submissions s on s.submission_id = split_part(r.ref, ':', 1) "
        "where v.unit_id = 'xunyang' order by v.period_no desc, v.indicator_code limit 1"
    ).fetchone()
    assert f"{name}（报送编号 {sid}）" in page
