"""The ``roadsafe`` command line: one entry point over the same functions the Airflow DAGs call.

Each area registers its own subcommands (``register(subparsers)``); heavy libraries are imported only
inside the handlers, so ``roadsafe --help`` stays instant.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from roadsafe.settings import Settings

__all__ = ["main", "write_csv"]

# Modules that add subcommands. Each exposes ``register(subparsers)``.
_COMMAND_MODULES = (
    "ingest.commands",
    "roadsafe.build_commands",
    "dashboards.commands",
    "roadsafe.backup_commands",
)


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
    from roadsafe.exports import INDICATOR_COLUMNS, export_indicators

    write_csv(export_indicators(args.settings, args.as_of), INDICATOR_COLUMNS)
    return 0


def _export_ranking(args: argparse.Namespace) -> int:
    from roadsafe.exports import RANKING_COLUMNS, export_ranking

    write_csv(export_ranking(args.settings, args.month, args.scope), RANKING_COLUMNS)
    return 0


def _samples(args: argparse.Namespace) -> int:
    from roadsafe.samples import generate_samples

    out = args.out or args.settings.samples / args.settings.campaign_code
    manifest = generate_samples(args.settings.campaign(), out, seed=args.seed)
    print(f"已生成样例报送文件 {len(manifest.entries)} 份：{out}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from roadsafe.demo import run_demo

    return run_demo(args.settings)


def _iso_date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roadsafe", description="道路交通安全专项整治数据平台 roadsafe")
    parser.add_argument("--home", help="data folder (default $ROADSAFE_HOME or ./var)")
    parser.add_argument("--campaign", help="campaign code (default $ROADSAFE_CAMPAIGN or jiujiang-2022)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    export = sub.add_parser("export", help="export campaign data as CSV").add_subparsers(
        dest="what", required=True
    )
    for name, func, helptext in (
        ("tasks", _export_tasks, "the campaign's tasks with lead and co-responsible units"),
        ("schedule", _export_schedule, "every due time: forms, reports, one-off submissions"),
    ):
        p = export.add_parser(name, help=helptext)
        p.add_argument("--format", choices=["csv"], default="csv")
        p.set_defaults(func=func)
    p = export.add_parser("indicators", help="indicator values as of a date")
    p.add_argument("--as-of", type=_iso_date, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--format", choices=["csv"], default="csv")
    p.set_defaults(func=_export_indicators)
    p = export.add_parser("ranking", help="monthly ranking")
    p.add_argument("--month", required=True, metavar="YYYY-MM")
    p.add_argument("--scope", choices=["county", "department"], required=True)
    p.add_argument("--format", choices=["csv"], default="csv")
    p.set_defaults(func=_export_ranking)

    p = sub.add_parser("samples", help="generate the sample campaign's submission files")
    p.add_argument("--out", type=Path)
    p.add_argument("--seed", type=int, default=2022)
    p.set_defaults(func=_samples)

    p = sub.add_parser("demo", help="generate the sample campaign and run it end to end")
    p.set_defaults(func=_demo)

    for module_name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.home or args.campaign:
        settings = replace(
            settings,
            home=Path(args.home).resolve() if args.home else settings.home,
            campaign_code=args.campaign or settings.campaign_code,
        )
    args.settings = settings
    from roadsafe.campaign import CampaignError
    from roadsafe.workcalendar import CalendarYearMissing

    try:
        return args.func(args)
    except (CampaignError, CalendarYearMissing) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `roadsafe export … | head`: the reader has gone, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as the Python docs advise
        return 0


if __name__ == "__main__":
    sys.exit(main())
