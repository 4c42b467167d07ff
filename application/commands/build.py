"""``roadsafe build``: reference tables, dbt, the published snapshot.

Heavy modules (duckdb, the build) are imported inside the handlers so ``roadsafe --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def _build(args: argparse.Namespace) -> int:
    from application.build import run_build

    result = run_build(args.settings, publish=not args.no_publish, full_refresh=args.full_refresh)
    print(result.message)
    for line in result.failures:
        print(f"  - {line}", file=sys.stderr if not result.ok else sys.stdout)
    if result.log_file:
        print(f"dbt 日志：{result.log_file}")
    return 0 if result.ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``build``."""
    p = subparsers.add_parser("build", help="write ref tables, run dbt build, publish the read-only snapshot")
    p.add_argument("--no-publish", action="store_true", help="run dbt but keep the previous snapshot")
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from scratch (rarely needed)",
    )
    p.set_defaults(func=_build)
