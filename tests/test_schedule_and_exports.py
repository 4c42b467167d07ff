"""Due times on the working-day calendar, and the `roadsafe export tasks|schedule` CSV commands."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from roadsafe.campaign import load_campaign
from roadsafe.schedule import build_schedule, form_due_at
from roadsafe.workcalendar import CalendarYearMissing, WorkCalendar


@pytest.fixture(scope="module")
def c2022():
    return load_campaign("jiujiang-2022")


@pytest.fixture(scope="module")
def calendar():
    return WorkCalendar.load()


def test_form_due_dates_move_off_holidays(c2022, calendar):
    due = {p.no: form_due_at(c2022, calendar, p).isoformat() for p in c2022.periods()}
    assert due[1] == "2022-04-14T12:00:00+08:00"  # week ends Wed 04-13, due Thu
    # Week 4 ends Sat 04-30; 05-01..05-04 are the 劳动节 holiday, so the due day moves to Thu 05-05.
    assert due[4] == "2022-05-05T12:00:00+08:00"
    assert due[13] == "2022-07-01T12:00:00+08:00"


def test_monthly_reports_fall_on_last_working_days(c2022, calendar):
    items = build_schedule(c2022, calendar)
    ranking = [(i.ref, i.due_at.isoformat()) for i in items if i.kind == "monthly_ranking"]
    assert ranking == [
        ("2022-04", "2022-04-29T18:00:00+08:00"),
        ("2022-05", "2022-05-31T18:00:00+08:00"),
        ("2022-06", "2022-06-30T18:00:00+08:00"),
    ]
    assert [i.ref for i in items if i.kind == "weekly_bulletin"] == [f"第{n}周" for n in range(1, 14)]
    oneoffs = [(i.ref, i.due_at.date().isoformat()) for i in items if i.kind == "oneoff"]
    assert ("工作实施方案", "2022-04-18") in oneoffs
    assert ("工作总结", "2022-06-30") in oneoffs
    assert items == sorted(items)


def test_a_year_the_calendar_lacks_is_a_clear_error(tmp_path, c2022):
    path = tmp_path / "cal.yml"
    path.write_text("2021:\n  holidays: {}\n  workdays: {}\n", encoding="utf-8")
    with pytest.raises(CalendarYearMissing, match="2022年"):
        build_schedule(c2022, WorkCalendar.load(path))


def _run(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "application.cli", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_export_tasks_csv():
    result = _run("export", "tasks", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.stdout.splitlines()[0] == "task_no,title,lead_units,co_units,deadline"
    assert len(rows) == 26
    assert rows[5] == {
        "task_no": "6",
        "title": "强化事故多发路口大改造",
        "lead_units": "市公路发展中心;市交通运输局",
        "co_units": "",
        "deadline": "2022-06-30",
    }
    assert rows[18]["co_units"] == "各县(市、区)人民政府"


def test_export_schedule_csv():
    result = _run("export", "schedule", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.stdout.splitlines()[0] == "kind,ref,due_at"
    assert {"kind": "form", "ref": "第4周", "due_at": "2022-05-05T12:00:00+08:00"} in rows
    assert {"kind": "monthly_ranking", "ref": "2022-05", "due_at": "2022-05-31T18:00:00+08:00"} in rows
    assert all(r["due_at"].endswith("+08:00") for r in rows)


def test_export_with_a_broken_campaign_exits_2_with_a_chinese_message(tmp_path):
    result = _run("--campaign", str(tmp_path / "missing"), "export", "tasks")
    assert result.returncode == 2
    assert "找不到活动定义目录" in result.stderr
