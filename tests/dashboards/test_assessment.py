"""The end-of-campaign 总结评估 (九府办字[2022]36号: "专项整治结束后…及时做好总结评估") over the whole campaign,
on the fixture warehouse; ``roadsafe report final`` makes it."""

from __future__ import annotations

import pytest
from dash_helpers import FROZEN_AT, fetch, html_text, squash

from dashboards.editions import open_edition, span_edition


@pytest.fixture(scope="module")
def final(fixture_settings):
    return open_edition(span_edition(fixture_settings, "final_assessment", frozen_at=FROZEN_AT))


def test_the_final_assessment_covers_every_period_and_task(final, marts, campaign):
    meta = final.meta
    assert (meta.kind, meta.ref, meta.issue_no) == ("final_assessment", "final", 1)
    assert meta.period_nos == tuple(range(1, len(campaign.periods()) + 1))  # week 13 due 07-01, before 07-15
    page = html_text(final.outputs()["html"].read_text(encoding="utf-8"))
    assert "2022年全市道路交通安全专项整治总结评估" in page
    statuses = dict(fetch(marts, "select task_no, status from marts.fct_task_status where period_no = 13"))
    assert len(statuses) == 26
    for task_no in statuses:
        title = campaign.task(task_no).title
        assert f"{task_no}{title}" in squash(page), task_no
    not_done = sorted(n for n, s in statuses.items() if s != "已完成")
    if not_done:
        assert f"尚未完成{len(not_done)}项（第{'、'.join(map(str, not_done))}项）" in page
    assert set(final.outputs()) == {"html", "pdf", "xlsx"}


def test_the_cli_offers_the_final_assessment(fixture_settings, capsys):
    from application.cli import main

    rc = main(["--home", str(fixture_settings.home), "report", "final", "--frozen-at", FROZEN_AT.isoformat()])
    assert rc == 0
    out = capsys.readouterr().out
    assert "总结评估" in out and "assessment.html" in out


def test_a_half_year_report_is_refused_for_a_campaign_without_one(fixture_settings, capsys):
    from application.cli import main

    rc = main(["--home", str(fixture_settings.home), "report", "half-year", "--period", "1"])
    assert rc == 2
    assert "没有 half_year_summary" in capsys.readouterr().err
