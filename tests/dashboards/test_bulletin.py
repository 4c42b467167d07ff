"""The weekly bulletin (工作通报) on the fixture warehouse: its words and figures against the marts."""

from __future__ import annotations

import re
import subprocess

from dash_helpers import FROZEN_AT, check_snapshot, copy_out, fetch, html_text, pdf_text, squash
from fixture_marts import HOSTILE_DIFFICULTY, HOSTILE_PROGRESS

from dashboards.formatting import fmt_value
from dashboards.narrative import BAD_STATUSES


def _bulletin(weekly5):
    edition = weekly5["weekly_bulletin"]
    return edition, edition.outputs()


def test_heading_issue_office_and_date(weekly5):
    edition, files = _bulletin(weekly5)
    text = squash(pdf_text(files["pdf"]))
    assert "九江市道路交通安全专项整治工作通报" in text
    assert "第5期" in text
    assert "九江市道路交通安全专项整治工作领导小组办公室" in text
    assert "2022年5月12日" in text  # week 5 ends Wed 05-11; the bulletin is issued the next day
    assert "关于第5周（5月5日至5月11日）" in text


def test_city_figures_in_the_pdf_equal_the_marts(weekly5, marts):
    """Every city/group figure the bulletin tables show (actual, 序时进度) is the mart's value."""
    _edition, files = _bulletin(weekly5)
    text = squash(pdf_text(files["pdf"]))
    rows = fetch(
        marts,
        """
        select indicator_name, indicator_kind, actual, expected, status from marts.fct_indicator_values
        where period_no = 5 and unit_kind in ('city', 'group') and direction <> 'none'
    """,
    )
    assert len(rows) >= 10
    for name, kind, actual, expected, status in rows:
        assert fmt_value(actual, kind) in text, (name, actual)
        assert fmt_value(expected, kind) in text, (name, expected)
        assert status in text


def test_county_matrix_figures_equal_the_marts(weekly5, marts):
    edition, files = _bulletin(weekly5)
    page = html_text(files["html"].read_text(encoding="utf-8"))
    rows = fetch(
        marts,
        """
        select unit_name, indicator_kind, actual from marts.fct_indicator_values
        where period_no = 5 and unit_kind = 'county' and direction <> 'none' and indicator_code = 'I02'
        order by unit_sort_order
    """,
    )
    # the matrix row of each county starts with its name followed by its I01, I02 … values
    for unit_name, kind, actual in rows:
        assert unit_name in page
        assert fmt_value(actual, kind) in page


def test_lagging_units_are_the_right_ones(weekly5, marts):
    """The units named as lagging for each indicator are exactly the counties the mart says, in order."""
    _edition, files = _bulletin(weekly5)
    page = html_text(files["html"].read_text(encoding="utf-8"))
    indicators = fetch(
        marts,
        """
        select distinct indicator_code, indicator_name from marts.fct_indicator_values
        where period_no = 5 and unit_kind = 'county' and status in ('滞后', '逾期未完成', '数据缺报')
        order by 1
    """,
    )
    assert indicators
    for code, name in indicators:
        parts = []
        for status in BAD_STATUSES:
            units = [
                r[0]
                for r in fetch(
                    marts,
                    """
                select unit_name from marts.fct_indicator_values
                where period_no = 5 and unit_kind = 'county' and indicator_code = $c and status = $s
                order by unit_sort_order
            """,
                    {"c": code, "s": status},
                )
            ]
            if units:
                parts.append(f"{status}的有{'、'.join(units)}")
        sentence = f"{name}：" + "；".join(parts) + "。"
        assert sentence in page, sentence
    # 都昌县's missing F4 shows as 数据缺报 for I12
    assert "数据缺报的有都昌县、湖口县" in page


def test_units_not_on_time_are_named(weekly5):
    _edition, files = _bulletin(weekly5)
    page = html_text(files["html"].read_text(encoding="utf-8"))
    # never arrived: 都昌县, 湖口县 (F4), 市委宣传部 (F9); 市城管局's F7 came a day after the bulletin was
    # issued, so at the bulletin's time it had not been submitted
    assert (
        "未报送的有：都昌县（道路交通隐患排查整治台账）；湖口县（道路交通隐患排查整治台账）；"
        "市城管局（电动车及工程运输车管理周报）；市委宣传部（重点工作推进情况表）。" in page
    )
    assert "逾期报送的有：市教育局（重点工作推进情况表）。" in page


def test_coverage_stamp_counts_the_compliance_mart(weekly5, marts):
    _edition, files = _bulletin(weekly5)
    ((expected, received),) = fetch(
        marts,
        """
        select count(*), count(*) filter (where first_received_at <= due_at)
        from marts.fct_submission_compliance where period_no = 5
    """,
    )
    ((late,),) = fetch(
        marts,
        """
        select count(*) from marts.fct_submission_compliance
        where period_no = 5 and first_received_at > due_at
          and first_received_at <= '2022-05-12 17:00:00+08:00'::timestamptz
    """,
    )
    stamp = f"截至5月12日12时，应报{expected}份，已报{received}份；此后至5月12日17时补报{late}份"
    assert stamp in squash(pdf_text(files["pdf"]))


def test_lead_units_words_are_quoted_attributed_and_escaped(weekly5):
    _edition, files = _bulletin(weekly5)
    html = files["html"].read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;部分县区警力不足" in html
    page = html_text(html)
    assert f"市公安局（推进中）：工作推进落实情况：“{HOSTILE_PROGRESS}”" in page
    assert HOSTILE_DIFFICULTY in page
    # 任务20 is led by every county: counted, not fifteen quotes
    assert "个牵头单位报告" in page or "第20项" in page


def test_correction_log_lists_what_changed_after_the_previous_edition(weekly5, marts):
    edition, files = _bulletin(weekly5)
    assert edition.meta.previous.issue_no == 4
    page = html_text(files["html"].read_text(encoding="utf-8"))
    rows = fetch(
        marts,
        """
        select s.submission_id, s.replaces from marts.fct_submissions s
        where s.replaces is not null
          and s.period_no <= 4 and s.received_at > '2022-05-05 17:00:00+08:00'::timestamptz
          and s.received_at <= '2022-05-12 17:00:00+08:00'::timestamptz
    """,
    )
    assert len(rows) == 2  # the fixture's resubmissions of week 4 (市公安局 F1, 武宁县 F4)
    for new, old in rows:
        assert new in page and old in page
    assert "上期通报（第4期）数据冻结后，收到以下补报或更正" in page


def test_charts_are_inline_svg_with_chinese_font(weekly5):
    _edition, files = _bulletin(weekly5)
    html = files["html"].read_text(encoding="utf-8")
    assert html.count("<svg") >= 3
    assert 'font-family="Noto Sans CJK SC"' in html
    for title in (
        "重点车辆检验率（九江市）",
        "中心城区共享电动车登记上牌数（中心城区）",
        "中心城区共享电动车头盔配备率（中心城区）",
    ):
        assert title in html


def test_html_is_self_contained(weekly5):
    _edition, files = _bulletin(weekly5)
    html = files["html"].read_text(encoding="utf-8")
    import html as html_lib

    assert "Content-Security-Policy" in html and "default-src 'none'" in html_lib.unescape(html)
    assert not re.search(r"<(script|link|iframe|img)\b", html, flags=re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, flags=re.I)
    assert "@import" not in html and "url(http" not in html


def test_pdf_fonts_embedded_page_numbers_and_fixed_dates(weekly5):
    from pypdf import PdfReader

    _edition, files = _bulletin(weekly5)
    fonts = subprocess.run(["pdffonts", str(files["pdf"])], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes yes " in line for line in cjk), fonts  # embedded, subset
    reader = PdfReader(files["pdf"])
    pages = len(reader.pages)
    text = squash(pdf_text(files["pdf"]))
    assert f"第1页共{pages}页" in text and f"第{pages}页共{pages}页" in text
    assert (
        reader.pages[0].mediabox.width == 595.276 or abs(float(reader.pages[0].mediabox.width) - 595.28) < 0.1
    )
    meta = reader.metadata
    assert meta["/CreationDate"] == meta["/ModDate"]
    assert meta["/CreationDate"].startswith("D:20220705090000+08")
    assert FROZEN_AT.isoformat() in files["html"].read_text(encoding="utf-8")
    copy_out(files["pdf"], "bulletin-week-05.pdf")


def test_html_snapshot(weekly5):
    _edition, files = _bulletin(weekly5)
    check_snapshot("bulletin-week-05.html", files["html"].read_text(encoding="utf-8"))


def test_compliance_sentence_counts_an_excused_report_as_excused():
    """A missing or late report the office excused (情况说明) is neither 未报送 nor 逾期 in the opening sentence."""
    import datetime as dt

    import polars as pl

    from dashboards.narrative import compliance_sentence

    at = dt.datetime(2022, 5, 12, 3, tzinfo=dt.UTC)
    rows = pl.DataFrame(
        {
            "unit_name": ["浔阳区", "濂溪区", "德安县", "都昌县"],
            "unit_order": [1, 2, 3, 4],
            "form_code": ["F1", "F1", "F1", "F1"],
            "form_name": ["F1 重点车辆"] * 4,
            "received_at": [at, None, None, at],
            "on_time": [True, False, False, False],
            "excused": [False, True, False, False],
        }
    )
    text = compliance_sentence(rows)
    assert text.startswith("本周应报报表4份，按时报送1份，逾期报送1份，未报送1份，已说明情况1份。")
    assert "未报送的有：德安县" in text and "逾期报送的有：都昌县" in text and "已说明情况的有：濂溪区" in text
    assert compliance_sentence(rows.drop("excused")).startswith("本周应报报表4份，按时报送1份，逾期报送1份，未报送2份。")
