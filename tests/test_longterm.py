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
EXPECTED = {"roadsafe_ingest", "roadsafe_build", "roadsafe_weekly", "roadsafe_monthly", "roadsafe_reminders"}


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
