"""Run-time questions of the weekly and reminders DAGs: bulletin days and reminder selection."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag

from application.reminders import REMINDER_HOURS, reminder_window, select_notices
from roadsafe.campaign import load_campaign

DAGS = Path(__file__).resolve().parents[2] / "dags"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("jiujiang-2022")


@pytest.fixture(scope="module")
def bulletin_callable():
    bag = DagBag(dag_folder=str(DAGS / "roadsafe_weekly.py"))
    assert bag.import_errors == {}
    return bag.dags["roadsafe_weekly"].get_task("is_bulletin_day").python_callable


def test_bulletin_days_follow_the_campaign_and_the_calendar(bulletin_callable, campaign):
    # the campaign's first three weeks (incl. the Labour Day holidays) and its end (~0.1 s per call)
    days = [date(2022, 4, 7) + timedelta(n) for n in range(30)]
    days += [date(2022, 6, 20) + timedelta(n) for n in range(20)]
    due = [
        d
        for d in days
        if bulletin_callable(logical_date=pendulum.datetime(d.year, d.month, d.day, 17, tz=SH))
    ]
    assert due == [
        date(2022, 4, 14),
        date(2022, 4, 21),
        date(2022, 4, 28),
        date(2022, 5, 5),
        date(2022, 6, 23),
        date(2022, 6, 30),
        date(2022, 7, 1),
    ]
    assert due[0] == date(2022, 4, 14)  # week 1 ends Wed 04-13; due the next day, a working day
    assert date(2022, 4, 15) not in due
    assert date(2022, 5, 5) in due  # week 4 ends 05-04 (a holiday) → Thu 05-05
    assert due[-1] == date(2022, 7, 1)  # the last block is cut at 06-30


def at(y, m, d, h, minute=0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SH)


def test_reminder_window_reaches_back_to_the_previous_slot():
    assert reminder_window(at(2022, 4, 14, 10), "Asia/Shanghai") == (at(2022, 4, 14, 9), at(2022, 4, 14, 10))
    # the first run of the day covers the night
    assert reminder_window(at(2022, 4, 14, 8), "Asia/Shanghai") == (at(2022, 4, 13, 18), at(2022, 4, 14, 8))
    # a manual run between slots
    assert reminder_window(at(2022, 4, 14, 10, 37), "Asia/Shanghai") == (
        at(2022, 4, 14, 10),
        at(2022, 4, 14, 10, 37),
    )
    # a UTC logical date, as Airflow passes it
    utc = pendulum.datetime(2022, 4, 14, 2, tz="UTC")  # 10:00 in Shanghai
    assert reminder_window(utc, "Asia/Shanghai")[0] == at(2022, 4, 14, 9)


@pytest.fixture
def warehouse():
    """A real DuckDB with the two contract tables the reminders read (only the columns they use)."""
    con = duckdb.connect()
    con.execute("create schema ref; create schema raw")
    con.execute(
        "create table ref.expected_submissions (form_code varchar, unit_id varchar, period_no integer,"
        " due_at timestamptz)"
    )
    con.execute(
        "create table raw.submissions (submission_id varchar, form_code varchar, unit_id varchar,"
        " period_no integer, received_at timestamptz, status varchar)"
    )
    due = at(2022, 4, 14, 12)
    for unit in ("xunyang", "lianxi", "chaisang", "wuning"):
        con.execute("insert into ref.expected_submissions values ('F1', ?, 1, ?)", [unit, due])
    con.executemany(
        "insert into raw.submissions values (?, 'F1', ?, 1, ?, ?)",
        [
            ("S000001", "lianxi", at(2022, 4, 14, 9), "accepted"),  # on time
            ("S000002", "chaisang", at(2022, 4, 14, 9), "rejected"),  # tried, rejected, never fixed
            ("S000003", "wuning", at(2022, 4, 15, 16), "accepted"),  # a day late
        ],
    )
    yield con
    con.close()


def notices(con, campaign, when):
    return {
        (n.kind, n.unit_id, n.last_status)
        for n in select_notices(con, campaign, reminder_window(when, "Asia/Shanghai"))
    }


def test_reminder_overdue_and_escalation_at_their_hours(warehouse, campaign):
    # due 04-14 12:00; before_due_hours 24, overdue_after_hours 0, escalate_after_hours 48
    assert notices(warehouse, campaign, at(2022, 4, 13, 12)) == {
        ("reminder", "xunyang", None),
        ("reminder", "lianxi", None),  # it submitted the next morning, after this reminder
        ("reminder", "chaisang", None),  # its rejected attempt came later too
        ("reminder", "wuning", None),
    }
    assert notices(warehouse, campaign, at(2022, 4, 14, 12)) == {
        ("overdue", "xunyang", None),
        ("overdue", "chaisang", "rejected"),
        ("overdue", "wuning", None),
    }
    esc = select_notices(warehouse, campaign, reminder_window(at(2022, 4, 16, 12), "Asia/Shanghai"))
    assert {(n.kind, n.unit_id) for n in esc} == {("escalation", "xunyang"), ("escalation", "chaisang")}
    assert all(n.recipients == ("zhengzhiban@jiujiang.example.gov.cn",) for n in esc)
    assert notices(warehouse, campaign, at(2022, 4, 14, 13)) == set()


def test_every_notice_is_produced_by_exactly_one_run_and_reruns_repeat_it(warehouse, campaign):
    counts: Counter = Counter()
    day = date(2022, 4, 12)
    while day <= date(2022, 4, 18):
        for hour in REMINDER_HOURS:
            run_at = at(day.year, day.month, day.day, hour)
            first = select_notices(warehouse, campaign, reminder_window(run_at, "Asia/Shanghai"))
            again = select_notices(warehouse, campaign, reminder_window(run_at, "Asia/Shanghai"))
            assert first == again
            counts.update((n.kind, n.unit_id) for n in first)
        day += timedelta(days=1)
    assert set(counts.values()) == {1}
    assert set(counts) == {
        ("reminder", "xunyang"),
        ("reminder", "lianxi"),
        ("reminder", "chaisang"),
        ("reminder", "wuning"),
        ("overdue", "xunyang"),
        ("overdue", "chaisang"),
        ("overdue", "wuning"),
        ("escalation", "xunyang"),
        ("escalation", "chaisang"),
    }
