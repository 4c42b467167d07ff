"""The ``roadsafe`` command line: one entry point over the same functions the Airflow DAGs call.

Each area registers its own subcommands (``register(subparsers)``); heavy libraries are imported only
inside the handlers, so ``roadsafe --help`` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from application.commands import (
    airflow,
    backup,
    build,
    campaign,
    contacts,
    duban,
    export,
    ingest,
    office,
    portal,
    remind,
    reports,
    status,
)
from roadsafe.settings import Settings

__all__ = ["main"]

# Modules that add subcommands. Each exposes ``register(subparsers)`` and imports its heavy libraries
# inside the handlers, so ``roadsafe --help`` stays instant.
_COMMAND_MODULES = (
    airflow, export, ingest, build, reports, portal, backup, contacts, remind, duban, campaign, office, status,
)  # fmt: skip


def _samples(args: argparse.Namespace) -> int:
    from application.samples import generate_samples

    out = args.out or args.settings.samples / args.settings.campaign_code
    manifest = generate_samples(args.settings.campaign(), out, seed=args.seed)
    print(f"已生成样例报送文件 {len(manifest.entries)} 份：{out}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from application.demo.replay import run_demo

    return run_demo(args.settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roadsafe", description="道路交通安全专项整治数据平台 roadsafe")
    parser.add_argument("--home", help="data folder (default $ROADSAFE_HOME or ./var)")
    parser.add_argument("--campaign", help="campaign code (default $ROADSAFE_CAMPAIGN or jiujiang-2022)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("samples", help="generate the sample campaign's submission files")
    p.add_argument("--out", type=Path)
    p.add_argument("--seed", type=int, default=2022)
    p.set_defaults(func=_samples)

    p = sub.add_parser("demo", help="generate the sample campaign and run it end to end")
    p.set_defaults(func=_demo)

    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:  # --home is the deployment's $ROADSAFE_HOME: a campaign of several has its own home under it
        args.settings = Settings.from_env(campaign=args.campaign, home=args.home)
    except ValueError as exc:  # ROADSAFE_CAMPAIGNS does not name the campaign
        print(f"错误：{exc}", file=sys.stderr)
        return 2
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
