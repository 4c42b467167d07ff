"""The long-term mechanism plan (九府办发[2022]11号) can run: its DAGs load and skip what it does not issue,
its yearly dates follow its data, and its countable demands are data. Outside a campaign's period the
monthly DAG skips instead of failing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag

from roadsafe.campaign import load_campaign
from roadsafe.schedule import build_schedule
from roadsafe.workcalendar import WorkCalendar

DAGS = Path(__file__).resolve().parents[1] / "dags"
EXPECTED = {
    "roadsafe_ingest", "roadsafe_build", "roadsafe_weekly", "roadsafe_monthly", "roadsafe_reminders", "roadsafe_span",
    "roadsafe_backup",
}  # fmt: skip


def at(d: dt.date, hour: int) -> pendulum.DateTime:
    """A cron run's logical date for day d at ``hour`` Asia/Shanghai, as Airflow passes it (UTC)."""
    return pendulum.datetime(d.year, d.month, d.day, hour, tz="Asia/Shanghai").in_timezone("UTC")


def _dagbag(monkeypatch, tmp_path, code: str) -> DagBag:
    monkeypatch.setenv("ROADSAFE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROADSAFE_CAMPAIGN", code)
    return DagBag(dag_folder=str(DAGS))


def test_the_dags_load_with_the_long_term_plan_active_and_skip_reports_it_does_not_issue(
    monkeypatch, tmp_path
):
    bag = _dagbag(monkeypatch, tmp_path, "jiujiang-longterm-2022")
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED
    monthly = bag.dags["roadsafe_monthly"].get_task("is_last_working_day").python_callable
    weekly = bag.dags["roadsafe_weekly"].get_task("is_bulletin_day").python_callable
    # 06-30 is a last working day, but the long-term plan issues no monthly ranking or weekly bulletin
    assert monthly(logical_date=at(dt.date(2022, 6, 30), 0)) is False
    assert not any(weekly(logical_date=at(dt.date(2022, 7, d), 0)) for d in range(1, 32))


def test_outside_the_campaign_the_monthly_dag_skips_instead_of_failing(monkeypatch, tmp_path):
    bag = _dagbag(monkeypatch, tmp_path, "jiujiang-2022")
    assert bag.import_errors == {}
    monthly = bag.dags["roadsafe_monthly"].get_task("is_last_working_day").python_callable
    assert monthly(logical_date=at(dt.date(2022, 6, 30), 18)) is True
    # 2022-07-29 and 2022-03-31 are last working days of months outside 04-07..06-30: skipped
    assert monthly(logical_date=at(dt.date(2022, 7, 29), 18)) is False
    assert monthly(logical_date=at(dt.date(2022, 3, 31), 18)) is False


def test_the_yearly_assessment_comes_after_the_second_half_years_data_and_year_end_is_a_working_day():
    calendar = WorkCalendar.load()
    c = load_campaign("jiujiang-longterm-2022")
    items = build_schedule(c, calendar)
    forms = [i.due_at for i in items if i.kind == "form"]
    (assessment,) = [i.due_at for i in items if i.kind == "yearly_assessment"]
    summaries = [i.due_at for i in items if i.kind == "half_year_summary"]
    assert assessment > max(forms) and assessment > max(summaries)
    assert calendar.is_working_day(assessment.date())
    (year_end,) = [i.due_at for i in items if i.kind == "oneoff"]
    assert year_end.date() == dt.date(2022, 12, 30)  # 12-31 is a Saturday
    assert calendar.is_working_day(year_end.date())


def test_the_long_term_plans_countable_demands_are_data():
    c = load_campaign("jiujiang-longterm-2022")
    assert c.document_text and "九府办发[2022]11号" in c.document_text
    counted = {t.no: [(r.at_least, r.per) for r in t.requirements] for t in c.tasks if t.requirements}
    assert counted[9] == [(2, "quarter")]  # 每季度…不少于2次
    assert counted[1] == counted[2] == [(1, "half_year")]  # 每半年至少召开1次 / 每半年召开1次
    (investigation,) = c.task(3).requirements
    assert "一次死亡3人及以上" in investigation.quote and "一次死亡2人" in investigation.quote
    assert all(c.quotes_document(r.quote) for t in c.tasks for r in t.requirements)
    assert "较大道路交通事故起数和死亡人数双下降" in c.frame.goal and "杜绝重特大" in c.frame.goal


@pytest.mark.parametrize("code", ["jiujiang-2022", "jiujiang-longterm-2022"])
def test_every_requirement_quote_is_the_plans_wording(code):
    c = load_campaign(code)
    for t in c.tasks:
        for r in t.requirements:
            assert c.quotes_document(r.quote), (t.no, r.quote)


def test_the_demo_runs_the_long_term_plan_next_to_the_first_and_issues_its_reports(monkeypatch, tmp_path):
    """The demo's second-campaign part (application.demo.longterm), each step through the function its DAG
    task calls (the whole demo runs them with Airflow's dag.test())."""
    import json

    import duckdb

    from application.airflow import tasks
    from application.demo.longterm import run_second_campaign, second_campaign_env, second_settings
    from dashboards.editions import open_edition
    from roadsafe.settings import Settings

    first = Settings(home=tmp_path / "home", campaign_code="jiujiang-2022").ensure()
    for key, value in second_campaign_env(second_settings(first)).items():
        monkeypatch.setenv(key, value)
    ran = []

    def run_dag(dag_id, when, conf):
        ran.append((dag_id, when.strftime("%Y-%m-%d %H:%M")))
        if dag_id == "roadsafe_ingest":
            return tasks.ingest_pending(conf)
        if dag_id == "roadsafe_build":
            return tasks.build_marts()
        return tasks.span_editions(tasks.spans_due(when))

    result = run_second_campaign(first, run_dag)
    assert result.settings.home == first.home / "homes" / "jiujiang-longterm-2022"
    assert ran == [
        ("roadsafe_ingest", "2023-01-20 18:00"),
        ("roadsafe_build", "2023-01-20 18:00"),
        ("roadsafe_span", "2022-07-15 17:00"),
        ("roadsafe_span", "2023-01-16 17:00"),
        ("roadsafe_span", "2023-01-20 18:00"),
    ]
    editions = {(p.parent.name, p.name): open_edition(p) for p in result.editions}
    assert set(editions) == {
        ("half_year_summary", "period-01"),
        ("half_year_summary", "period-02"),
        ("yearly_assessment", "final"),
    }
    assert all(e.is_rendered() for e in editions.values())
    first_half = editions["half_year_summary", "period-01"].outputs()["html"].read_text(encoding="utf-8")
    assert "2022年上半年" in first_half and "九府办发[2022]11号" in first_half
    # every sample file is on record: the task reports (L1) and the units' 年度工作总结 (documents)
    lines = (result.settings.samples / "jiujiang-longterm-2022" / "manifest.jsonl").read_text(
        encoding="utf-8"
    )
    sent = [json.loads(line) for line in lines.splitlines()]
    con = duckdb.connect(str(result.settings.published), read_only=True)
    try:
        recorded = dict(
            con.execute(
                "select form_code, count(*) from raw.submissions where status = 'accepted' group by 1"
            ).fetchall()
        )
        (summaries,) = con.execute(
            "select count(*) filter (where received) from marts.fct_document_submissions where oneoff_code = 'yearly_summary'"
        ).fetchone()
    finally:
        con.close()
    assert recorded == {code: sum(e["form_code"] == code for e in sent) for code in ("L1", "D1")}
    assert recorded["L1"] > 40 and summaries == recorded["D1"] > 10
    assert result.files == len(sent)
