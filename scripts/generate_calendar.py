"""Generate ``calendar/cn-workdays.yml`` from the ``chinesecalendar`` package, once.

The YAML file is the source of truth at runtime; ``chinesecalendar`` is a dev dependency only and
is never imported by ``roadsafe``. This script bootstrapped the file for 2022-2026. New years are
added to the YAML by hand from the 国务院办公厅 notice; the script refuses to overwrite an existing
file unless ``--force`` is given, so hand-entered years are not lost.

Usage::

    .venv/bin/python scripts/generate_calendar.py            # writes calendar/cn-workdays.yml
    .venv/bin/python scripts/generate_calendar.py --stdout   # print instead
    .venv/bin/python scripts/generate_calendar.py --force    # overwrite an existing file
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
from chinese_calendar import constants

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "calendar" / "cn-workdays.yml"
YEARS = range(2022, 2027)

# chinesecalendar's English festival names -> the Chinese names used in the notices.
FESTIVALS = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}

# 国务院办公厅关于{year}年部分节假日安排的通知, document numbers.
SOURCES = {
    2022: "国办发明电〔2021〕11号",
    2023: "国办发明电〔2022〕16号",
    2024: "国办发明电〔2023〕7号",
    2025: "国办发明电〔2024〕12号",
    2026: "国办发明电〔2025〕7号",
}

HEADER = """\
# 工作日历：国务院办公厅《关于部分节假日安排的通知》中的放假与调休上班日期。
# Working-day calendar read by roadsafe.workcalendar (chinesecalendar is NOT used at runtime).
#
# 每年冬季国务院办公厅公布下一年的安排后，照下面的格式增加一个年份（年份不在本文件中时，
# 系统会提示补充，而不会按普通周末推算）。规则：
#   - 一个日期写在它自己所在的年份下（例如 2022-12-31 写在 2022 下，即使它属于 2023 年元旦假期）。
#   - holidays：本应上班（周一至周五）却放假的日期，值为节日名称（元旦、春节、清明节、劳动节、
#     端午节、中秋节、国庆节）。落在周六、周日的放假日本来就不上班，不必列出（列出也无妨）。
#   - workdays：调休上班的周六、周日，值为“节日名称+调休”。
#   - 同一天不能既在 holidays 又在 workdays 中；日期格式 YYYY-MM-DD。
#   - source：通知文号（可省略）。
# 2022-2026 generated once by scripts/generate_calendar.py from chinesecalendar 1.11.0.
"""


def festival(name: str) -> str:
    """Return the Chinese festival name for a chinesecalendar English name."""
    try:
        return FESTIVALS[name]
    except KeyError:
        raise SystemExit(
            f"unknown festival name from chinesecalendar: {name!r}; add it to FESTIVALS"
        ) from None


def year_section(year: int) -> str:
    """Render one year's YAML section, cross-checked day by day against chinesecalendar."""
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    day = date(year, 1, 1)
    while day.year == year:
        weekend = day.weekday() >= 5
        working = chinese_calendar.is_workday(day)
        if not weekend and not working:
            holidays[day] = festival(constants.holidays[day])
        elif weekend and working:
            workdays[day] = festival(constants.workdays[day]) + "调休"
        day += timedelta(days=1)

    lines = [f"{year}:"]
    if year in SOURCES:
        lines.append(f"  source: {SOURCES[year]}")
    lines.append("  holidays:")
    lines += [f"    {d.isoformat()}: {name}" for d, name in sorted(holidays.items())]
    lines.append("  workdays:")
    lines += [f"    {d.isoformat()}: {name}" for d, name in sorted(workdays.items())]
    return "\n".join(lines) + "\n"


def render() -> str:
    """Render the whole file."""
    return HEADER + "".join("\n" + year_section(year) for year in YEARS)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--stdout", action="store_true", help="print the YAML instead of writing it")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)

    text = render()
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.output.exists() and not args.force:
        print(
            f"{args.output} exists (it may hold hand-entered years); use --force to overwrite",
            file=sys.stderr,
        )
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
