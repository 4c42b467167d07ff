"""Another campaign runs by YAML only: the long-term mechanism plan (half-year periods, no indicators, every
item a milestone reported on its own task-grain form L1) builds with the same models and tests, and issues its
own half-year summary and yearly assessment."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dbt_rawrows import RawWriter

from application.build import run_build
from roadsafe.settings import Settings

pytestmark = pytest.mark.slow


def test_long_term_plan_builds_with_the_same_models(tmp_path, calendar):
    settings = Settings(home=tmp_path / "home", campaign_code="jiujiang-longterm-2022").ensure()
    writer = RawWriter(settings, calendar)
    campaign = writer.campaign
    tasks = campaign.tasks_led_by("gongan")
    assert len(tasks) >= 2
    first, second = tasks[:2]
    row = {"status": "推进中", "progress": "已部署", "difficulties": None, "evidence": None}
    writer.submit(
        "L1",
        "gongan",
        1,
        [
            {**row, "task_no": str(first), "status": "已完成", "progress": "已完成深度调查"},
            {**row, "task_no": str(second)},
        ],
    )
    result = run_build(settings)
    assert result.ok, "\n".join([result.message, *result.failures])

    con = duckdb.connect(str(settings.published), read_only=True)
    try:
        q = lambda sql, *p: con.execute(sql, list(p)).fetchall()  # noqa: E731
        assert q("select count(*) from marts.fct_indicator_values") == [(0,)]
        assert q("select count(*) from marts.fct_task_status") == [(len(campaign.tasks) * 2,)]
        status = dict(q("select task_no, status from marts.fct_task_status where period_no = 1"))
        leads_first = campaign.task_leads(first)
        assert status[first] == ("已完成" if leads_first == ["gongan"] else "数据缺报")
        assert q(
            "select lead_report_status like '%市公安局：已完成%' from marts.fct_task_status "
            "where task_no = ? and period_no = 1",
            first,
        ) == [(True,)]
        assert q("select count(*) from marts.fct_submission_compliance where received") == [(1,)]
        months = q("select distinct month from marts.rpt_monthly_ranking order by 1")
        assert months == [("2022-06",), ("2022-12",)]  # the months in which a half year ends
    finally:
        con.close()

    # its own reports: the half-year summary and the yearly assessment, dated after the year's data is due
    from dashboards.editions import open_edition, span_edition

    frozen_at = dt.datetime(2023, 1, 21, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    half = open_edition(span_edition(settings, "half_year_summary", 1, frozen_at=frozen_at))
    assert (half.meta.label, half.meta.period_nos) == ("2022年上半年", (1,))
    page = half.outputs()["html"].read_text(encoding="utf-8")
    assert "2022年上半年全市道路交通安全综合治理长效机制半年工作总结" in page
    yearly = open_edition(span_edition(settings, "yearly_assessment", frozen_at=frozen_at))
    assert yearly.meta.period_nos == (1, 2)
    assert yearly.meta.issue_at.date() == dt.date(2023, 1, 20)  # the second half year's forms: 2023-01-10
    assert "年度考核" in yearly.outputs()["html"].read_text(encoding="utf-8")
