"""``roadsafe export tasks|schedule|indicators|ranking``: campaign data as CSV for the office.

Heavy modules (duckdb) are imported inside the handlers so ``roadsafe --help`` stays instant.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Iterable, Sequence

__all__ = ["register", "write_csv"]


def write_csv(rows: Iterable[dict], columns: Sequence[str], out=None) -> None:
    """Stable CSV for the office: UTF-8, a header row, ``\\n`` line ends, None as empty."""
    writer = csv.DictWriter(
        out or sys.stdout, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in columns})


def _calendar():
    from roadsafe.workcalendar import WorkCalendar

    return WorkCalendar.load()


def _export_tasks(args: argparse.Namespace) -> int:
    campaign = args.settings.campaign()
    names = {u.id: u.name for u in campaign.units.values()}
    county_word = campaign.units_def.all_counties_alias

    def joined(refs: list[str]) -> str:
        return ";".join(county_word if r == "counties" else names[r] for r in refs)

    rows = (
        {
            "task_no": t.no,
            "title": t.title,
            "lead_units": joined(t.lead),
            "co_units": joined(t.co),
            "deadline": t.deadline.isoformat(),
        }
        for t in campaign.tasks
    )
    write_csv(rows, ["task_no", "title", "lead_units", "co_units", "deadline"])
    return 0


def _export_schedule(args: argparse.Namespace) -> int:
    from roadsafe.schedule import build_schedule

    items = build_schedule(args.settings.campaign(), _calendar())
    write_csv(
        ({"kind": i.kind, "ref": i.ref, "due_at": i.due_at.isoformat()} for i in items),
        ["kind", "ref", "due_at"],
    )
    return 0


def _export_indicators(args: argparse.Namespace) -> int:
    from application.exports import INDICATOR_COLUMNS, export_indicators
    from roadsafe.warehouse import SnapshotMissing

    try:
        write_csv(export_indicators(args.settings, args.as_of), INDICATOR_COLUMNS)
    except SnapshotMissing as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return 0


def _export_ranking(args: argparse.Namespace) -> int:
    from application.exports import RANKING_COLUMNS, export_ranking
    from roadsafe.warehouse import SnapshotMissing

    try:
        write_csv(export_ranking(args.settings, args.month, args.scope), RANKING_COLUMNS)
    except (SnapshotMissing, ValueError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return 0


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”格式不对，应写成 YYYY-MM-DD") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export tasks|schedule|indicators|ranking``."""
    what = subparsers.add_parser("export", help="export campaign data as CSV").add_subparsers(
        dest="what", required=True
    )
    for name, func, helptext in (
        ("tasks", _export_tasks, "the campaign's tasks with lead and co-responsible units"),
        ("schedule", _export_schedule, "every due time: forms, reports, one-off submissions"),
    ):
        p = what.add_parser(name, help=helptext)
        p.add_argument("--format", choices=["csv"], default="csv")
        p.set_defaults(func=func)
    p = what.add_parser("indicators", help="indicator values as of a date")
    p.add_argument("--as-of", type=_iso_date, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=["csv"], default="csv")
    p.set_defaults(func=_export_indicators)
    p = what.add_parser("ranking", help="monthly ranking")
    p.add_argument("--month", required=True, metavar="YYYY-MM")
    p.add_argument("--scope", choices=["county", "department"], required=True)
    p.add_argument("--format", choices=["csv"], default="csv")
    p.set_defaults(func=_export_ranking)
