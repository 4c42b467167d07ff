"""Chinese working-day calendar: weekends, public holidays and 调休 make-up working days.

The data lives in ``calendar/cn-workdays.yml`` (one section per year, extended by the office each
winter when the 国务院办公厅 publishes the next year's arrangement). A year that is not in the file
raises :class:`CalendarYearMissing` with a Chinese message saying what to add, rather than being
guessed from weekends alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CALENDAR_ENV", "DEFAULT_CALENDAR_PATH", "CalendarYearMissing", "WorkCalendar"]

CALENDAR_ENV = "ROADSAFE_CALENDAR"
DEFAULT_CALENDAR_PATH = Path(__file__).resolve().parents[1] / "calendar" / "cn-workdays.yml"

_SECTION_KEYS = frozenset({"source", "holidays", "workdays"})
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class CalendarYearMissing(LookupError):
    """The calendar file has no arrangement for the requested year.

    Parameters
    ----------
    year : int
        The year that is missing.
    """

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"工作日历中没有{year}年的节假日安排，请在 calendar/cn-workdays.yml 中补充{year}年"
            f"国务院办公厅公布的放假安排后再试。"
        )


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps dates as text (so bad dates can be reported) and rejects duplicate keys."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"重复的键 {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class WorkCalendar:
    """Working days in mainland China for the years present in the calendar file.

    A day is a working day when it is Monday-Friday and not a listed holiday, or when it is a
    listed make-up working day (调休上班).

    Parameters
    ----------
    holidays : Mapping[date, str]
        Days off with their festival name (元旦, 春节, ...).
    workdays : Mapping[date, str]
        Make-up working days on a weekend, with a name such as ``清明节调休``.
    years : Iterable of int
        The years whose arrangement is known.
    sources : Mapping[int, str], optional
        Notice document number per year, where known.
    path : Path, optional
        The file the calendar was read from, for messages.

    Attributes
    ----------
    years : frozenset of int
        The years whose arrangement is known.
    """

    def __init__(
        self,
        holidays: Mapping[date, str],
        workdays: Mapping[date, str],
        years: Iterable[int],
        sources: Mapping[int, str] | None = None,
        path: Path | None = None,
    ) -> None:
        self.years: frozenset[int] = frozenset(years)
        self.sources: dict[int, str] = dict(sources or {})
        self.path = path
        self._holidays = dict(holidays)
        self._workdays = dict(workdays)

    @classmethod
    def load(cls, path: Path | None = None) -> WorkCalendar:
        """Read and validate the calendar file.

        Parameters
        ----------
        path : Path, optional
            The YAML file. Default: ``$ROADSAFE_CALENDAR`` if set, else
            ``<repo>/calendar/cn-workdays.yml``.

        Returns
        -------
        WorkCalendar

        Raises
        ------
        ValueError
            If the file cannot be parsed or an entry is invalid; the message names the file and entry.
        OSError
            If the file cannot be read.
        """
        if path is None:
            env = os.environ.get(CALENDAR_ENV)
            path = Path(env) if env else DEFAULT_CALENDAR_PATH
        path = Path(path)
        try:
            with path.open(encoding="utf-8") as stream:
                data = yaml.load(stream, Loader=_Loader)  # _Loader is a SafeLoader
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: 不是有效的 YAML：{exc}") from exc
        return cls._from_data(data, path)

    @classmethod
    def _from_data(cls, data: Any, path: Path) -> WorkCalendar:
        if not isinstance(data, dict) or not data:
            raise ValueError(f"{path}: 文件应是以年份为键的映射（例如 2022: ...），但内容为空或格式不对")
        holidays: dict[date, str] = {}
        workdays: dict[date, str] = {}
        sources: dict[int, str] = {}
        for year, section in data.items():
            if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2999:
                raise ValueError(f"{path}: 顶层键 {year!r} 不是年份（应写成 2022: 这样的四位数字）")
            where = f"{path}: {year}年"
            if not isinstance(section, dict):
                raise ValueError(f"{where}: 应包含 holidays 和 workdays 两个映射")
            unknown = set(section) - _SECTION_KEYS
            if unknown:
                raise ValueError(
                    f"{where}: 不认识的键 {sorted(map(str, unknown))}，只允许 source、holidays、workdays"
                )
            if "source" in section:
                if not isinstance(section["source"], str) or not section["source"].strip():
                    raise ValueError(f"{where}: source 应是通知文号文字")
                sources[year] = section["source"].strip()
            for kind, target in (("holidays", holidays), ("workdays", workdays)):
                for day, name in cls._entries(section.get(kind), year, f"{where} {kind}"):
                    if kind == "workdays" and day.weekday() < 5:
                        raise ValueError(
                            f"{where} workdays 条目 {day.isoformat()}: "
                            f"这天是星期{'一二三四五'[day.weekday()]}，本来就上班；"
                            f"workdays 只列调休上班的周六、周日"
                        )
                    target[day] = name
        both = sorted(holidays.keys() & workdays.keys())
        if both:
            day = both[0]
            raise ValueError(
                f"{path}: {day.year}年 条目 {day.isoformat()} 同时出现在 holidays（{holidays[day]}）"
                f"和 workdays（{workdays[day]}）中，一天只能是其中之一"
            )
        return cls(holidays, workdays, set(data), sources, path)

    @staticmethod
    def _entries(raw: Any, year: int, where: str) -> list[tuple[date, str]]:
        if raw is None:
            return []
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: 应是“日期: 名称”的映射")
        entries = []
        for key, name in raw.items():
            text = str(key)
            try:
                if len(text) != 10:
                    raise ValueError(text)
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{where} 条目 {text!r}: 不是有效日期，应写成 YYYY-MM-DD（例如 {year}-04-05）"
                ) from None
            if day.year != year:
                raise ValueError(f"{where} 条目 {text}: 日期不在{year}年，应写在 {day.year}: 下")
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"{where} 条目 {text}: 缺少名称（例如 清明节）")
            entries.append((day, name.strip()))
        return entries

    def _check_year(self, year: int) -> None:
        if year not in self.years:
            raise CalendarYearMissing(year)

    def is_working_day(self, d: date) -> bool:
        """Tell whether ``d`` is a working day.

        Parameters
        ----------
        d : date

        Returns
        -------
        bool
            True for Monday-Friday that is not a holiday, and for a make-up working day.

        Raises
        ------
        CalendarYearMissing
            If the file has no arrangement for ``d.year``.
        """
        self._check_year(d.year)
        if d in self._workdays:
            return True
        return d.weekday() < 5 and d not in self._holidays

    def next_working_day(self, d: date) -> date:
        """Return ``d`` if it is a working day, else the first working day after it.

        Parameters
        ----------
        d : date

        Returns
        -------
        date

        Raises
        ------
        CalendarYearMissing
            If the search reaches a year that is not in the file.
        """
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def last_working_day_of_month(self, year: int, month: int) -> date:
        """Return the last working day of a month.

        Parameters
        ----------
        year : int
        month : int
            1-12.

        Returns
        -------
        date

        Raises
        ------
        CalendarYearMissing
            If the file has no arrangement for ``year``.
        """
        first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        d = first_of_next - timedelta(days=1)
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def holiday_name(self, d: date) -> str | None:
        """Return the festival name if ``d`` is a listed holiday (a weekday off), else None.

        Weekend days of a holiday break are not listed in the file and give None; so do make-up
        working days.

        Parameters
        ----------
        d : date

        Returns
        -------
        str or None

        Raises
        ------
        CalendarYearMissing
            If the file has no arrangement for ``d.year``.
        """
        self._check_year(d.year)
        return self._holidays.get(d)
