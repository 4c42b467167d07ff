"""``roadsafe build`` and ``roadsafe export indicators|ranking``: registered by ``roadsafe.cli``.

Heavy modules (duckdb, the build) are imported inside the handlers so ``roadsafe --help`` stays instant.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

__all__ = ["register"]


def _build(args: argparse.Namespace) -> int:
    from roadsafe.build import run_build

    result = run_build(args.settings, publish=not args.no_publish, full_refresh=args.full_refresh)
    print(result.message)
    for line in result.failures:
        print(f"  - {line}", file=sys.stderr if not result.ok else sys.stdout)
    if result.log_file:
        print(f"dbt 日志：{result.log_file}")
    return 0 if result.ok else 1


def _export_indicators(args: argparse.Namespace) -> int:
    from roadsafe.cli import write_csv
    from roadsafe.exports import INDICATOR_COLUMNS, SnapshotMissing, export_indicators

    try:
        write_csv(export_indicators(args.settings, args.as_of), INDICATOR_COLUMNS)
    except SnapshotMissing as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return 0


def _export_ranking(args: argparse.Namespace) -> int:
    from roadsafe.cli import write_csv
    from roadsafe.exports import RANKING_COLUMNS, SnapshotMissing, export_ranking

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


def _subparser(subparsers: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser | None:
    return subparsers.choices.get(name) if hasattr(subparsers, "choices") else None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``build`` and, unless the core CLI already has them, ``export indicators|ranking``."""
    p = subparsers.add_parser("build", help="write ref tables, run dbt build, publish the read-only snapshot")
    p.add_argument("--no-publish", action="store_true", help="run dbt but keep the previous snapshot")
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from scratch (rarely needed)",
    )
    p.set_defaults(func=_build)

    export = _subparser(subparsers, "export")
    if export is None:
        export = subparsers.add_parser("export", help="export campaign data as CSV")
        export.add_subparsers(dest="what", required=True)
    actions = [a for a in export._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        actions = [export.add_subparsers(dest="what", required=True)]
    what = actions[0]
    if "indicators" not in what.choices:
        q = what.add_parser("indicators", help="indicator values as of a date")
        q.add_argument("--as-of", type=_iso_date, required=True, metavar="YYYY-MM-DD")
        q.add_argument("--format", choices=["csv"], default="csv")
        q.set_defaults(func=_export_indicators)
    if "ranking" not in what.choices:
        q = what.add_parser("ranking", help="monthly ranking")
        q.add_argument("--month", required=True, metavar="YYYY-MM")
        q.add_argument("--scope", choices=["county", "department"], required=True)
        q.add_argument("--format", choices=["csv"], default="csv")
        q.set_defaults(func=_export_ranking)
