"""The monthly DAG runs on the last working day only, by the working-day calendar (with 调休)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.exceptions import AirflowFailException

from application.airflow.tasks import is_last_working_day
from roadsafe.workcalendar import CalendarYearMissing, WorkCalendar

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def short_circuit():
    """The python callable of the monthly DAG's `is_last_working_day` task, as the worker runs it."""
    bag = DagBag(dag_folder=str(DAGS / "roadsafe_monthly.py"))
    assert bag.import_errors == {}
    return bag.dags["roadsafe_monthly"].get_task("is_last_working_day").python_callable


def at_18(d: date) -> pendulum.DateTime:
    """The cron's logical date for day d (18:00 Asia/Shanghai), as Airflow passes it: in UTC."""
    return pendulum.datetime(d.year, d.month, d.day, 18, tz="Asia/Shanghai").in_timezone("UTC")


def test_2022_runs_only_on_0429_0531_0630(short_circuit):
    days = [date(2022, 4, 20) + timedelta(n) for n in range((date(2022, 6, 30) - date(2022, 4, 20)).days + 1)]
    true_days = [d for d in days if short_circuit(logical_date=at_18(d))]
    assert true_days == [date(2022, 4, 29), date(2022, 5, 31), date(2022, 6, 30)]


def test_0430_is_a_saturday_off_despite_the_labour_day_swap():
    # 2022-04-24 (Sun) is a make-up working day, 04-30 (Sat) is not: the month ends on Friday 04-29.
    assert is_last_working_day(at_18(date(2022, 4, 29)), tz="Asia/Shanghai") is True
    assert is_last_working_day(at_18(date(2022, 4, 30)), tz="Asia/Shanghai") is False


def test_the_date_is_taken_in_the_campaign_time_zone():
    # 2022-04-29 01:00 in Shanghai is still 04-28 in UTC; the task must use the Shanghai date.
    early = pendulum.datetime(2022, 4, 29, 1, tz="Asia/Shanghai").in_timezone("UTC")
    assert early.day == 28
    assert is_last_working_day(early, tz="Asia/Shanghai") is True


def test_an_unknown_year_fails_the_task_with_the_calendars_chinese_message(short_circuit):
    year = max(WorkCalendar.load().years) + 1
    with pytest.raises(CalendarYearMissing) as expected:
        WorkCalendar.load().last_working_day_of_month(year, 1)
    with pytest.raises(AirflowFailException) as failed:
        short_circuit(logical_date=at_18(date(year, 1, 29)))
    assert str(failed.value) == str(expected.value)
    assert f"工作日历中没有{year}年" in str(failed.value)
    assert isinstance(failed.value.__cause__, CalendarYearMissing)
    # nothing else breaks: a known year still answers afterwards
    assert short_circuit(logical_date=at_18(date(2022, 6, 30))) is True
