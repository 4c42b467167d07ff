"""Tests for roadsafe.workcalendar against the committed calendar/cn-workdays.yml."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from roadsafe.workcalendar import DEFAULT_CALENDAR_PATH, CalendarYearMissing, WorkCalendar


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load(DEFAULT_CALENDAR_PATH)


def test_years_2022_to_2026(cal: WorkCalendar) -> None:
    assert cal.years >= frozenset(range(2022, 2027))


@pytest.mark.parametrize("day", [date(2022, 4, 2), date(2022, 4, 24), date(2022, 5, 7), date(2022, 4, 29)])
def test_make_up_and_ordinary_working_days(cal: WorkCalendar, day: date) -> None:
    assert cal.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2022, 4, 30),
        date(2022, 4, 4),
        date(2022, 4, 5),
        date(2022, 5, 2),
        date(2022, 5, 3),
        date(2022, 5, 4),
    ],
)
def test_days_off(cal: WorkCalendar, day: date) -> None:
    assert not cal.is_working_day(day)


def test_holiday_names(cal: WorkCalendar) -> None:
    assert cal.holiday_name(date(2022, 4, 4)) == "清明节"
    assert cal.holiday_name(date(2022, 5, 3)) == "劳动节"
    assert cal.holiday_name(date(2022, 10, 3)) == "国庆节"
    assert cal.holiday_name(date(2022, 4, 6)) is None
    assert cal.holiday_name(date(2022, 4, 2)) is None  # a make-up working day is not a holiday


def test_last_working_day_of_month(cal: WorkCalendar) -> None:
    assert cal.last_working_day_of_month(2022, 4) == date(2022, 4, 29)
    assert cal.last_working_day_of_month(2022, 5) == date(2022, 5, 31)
    assert cal.last_working_day_of_month(2022, 6) == date(2022, 6, 30)
    assert cal.last_working_day_of_month(2022, 12) == date(2022, 12, 30)


def test_next_working_day(cal: WorkCalendar) -> None:
    assert cal.next_working_day(date(2022, 4, 30)) == date(2022, 5, 5)
    assert cal.next_working_day(date(2022, 4, 29)) == date(2022, 4, 29)
    assert cal.next_working_day(date(2022, 12, 31)) == date(2023, 1, 3)  # crosses into 2023 元旦


def test_next_working_day_into_a_missing_year(cal: WorkCalendar) -> None:
    assert cal.next_working_day(date(2026, 12, 31)) == date(2026, 12, 31)  # a Thursday: no lookup of 2027
    with pytest.raises(CalendarYearMissing, match="2027年"):
        cal.next_working_day(date(2027, 1, 1))


def test_agrees_with_chinesecalendar_every_day(cal: WorkCalendar) -> None:
    import chinese_calendar  # dev dependency only; the runtime never imports it

    day = date(2022, 1, 1)
    mismatches = []
    while day <= date(2026, 12, 31):
        if cal.is_working_day(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


@pytest.mark.parametrize("year", [2027, 2021])
def test_missing_year(cal: WorkCalendar, year: int) -> None:
    with pytest.raises(CalendarYearMissing) as info:
        cal.is_working_day(date(year, 3, 1))
    message = str(info.value)
    assert f"{year}年" in message
    assert "calendar/cn-workdays.yml" in message
    assert info.value.year == year
    assert isinstance(info.value, LookupError)
    with pytest.raises(CalendarYearMissing):
        cal.last_working_day_of_month(year, 6)
    with pytest.raises(CalendarYearMissing):
        cal.holiday_name(date(year, 10, 1))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cal.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_day_both_holiday_and_workday(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "2022:\n  holidays:\n    2022-04-02: 清明节\n  workdays:\n    2022-04-02: 清明节调休\n",
    )
    with pytest.raises(ValueError, match="2022-04-02") as info:
        WorkCalendar.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("bad", ["2022-02-30", "2022-4-5", "20220405", "soon"])
def test_bad_date(tmp_path: Path, bad: str) -> None:
    path = _write(tmp_path, f"2022:\n  holidays:\n    {bad}: 清明节\n  workdays:\n")
    with pytest.raises(ValueError, match=bad) as info:
        WorkCalendar.load(path)
    assert str(path) in str(info.value)


def test_date_under_wrong_year(tmp_path: Path) -> None:
    path = _write(tmp_path, "2022:\n  holidays:\n    2023-01-02: 元旦\n")
    with pytest.raises(ValueError, match="2023-01-02"):
        WorkCalendar.load(path)


def test_weekday_listed_as_workday(tmp_path: Path) -> None:
    path = _write(tmp_path, "2022:\n  workdays:\n    2022-04-06: 清明节调休\n")
    with pytest.raises(ValueError, match="2022-04-06"):
        WorkCalendar.load(path)


def test_duplicate_entry(tmp_path: Path) -> None:
    path = _write(tmp_path, "2022:\n  holidays:\n    2022-04-04: 清明节\n    2022-04-04: 清明节\n")
    with pytest.raises(ValueError, match="2022-04-04"):
        WorkCalendar.load(path)


@pytest.mark.parametrize(
    "text",
    ["", "[]\n", "twenty-two:\n  holidays: {}\n", "2022:\n  holiday:\n    2022-04-04: 清明节\n", "2022: [\n"],
)
def test_malformed_file(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match="cal.yml"):
        WorkCalendar.load(path)


def test_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(
        tmp_path,
        "2027:\n  holidays:\n    2027-01-01: 元旦\n  workdays:\n    2027-01-02: 元旦调休\n",
    )
    monkeypatch.setenv("ROADSAFE_CALENDAR", str(path))
    cal = WorkCalendar.load()
    assert cal.years == frozenset({2027})
    assert cal.path == path
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.holiday_name(date(2027, 1, 1)) == "元旦"
    assert cal.is_working_day(date(2027, 1, 2))  # a Saturday made a working day
    assert cal.next_working_day(date(2027, 1, 1)) == date(2027, 1, 2)
    with pytest.raises(CalendarYearMissing):
        cal.is_working_day(date(2022, 4, 2))


def test_explicit_path_beats_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROADSAFE_CALENDAR", str(tmp_path / "does-not-exist.yml"))
    assert WorkCalendar.load(DEFAULT_CALENDAR_PATH).years >= {2022}


def test_runtime_does_not_import_chinesecalendar() -> None:
    source = Path(__file__).resolve().parents[1] / "roadsafe" / "workcalendar.py"
    assert "chinese_calendar" not in source.read_text(encoding="utf-8")
