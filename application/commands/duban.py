"""``roadsafe duban issue UNIT`` and ``roadsafe duban list`` (registered by :mod:`application.cli`).

``issue`` writes a numbered 督办单 (PDF) for a unit late or missing twice or more and sends it to the unit's
联络员 and 分管领导, the office and the group robots (exactly once); exit 2 when refused (an unknown unit,
nothing late or missing, no snapshot). ``list`` prints the issued ones.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

__all__ = ["register"]


def _issue(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from dashboards.duban import DubanRefused, issue_duban
    from dashboards.outreach import deliver_duban
    from roadsafe.warehouse import SnapshotMissing

    settings = args.settings
    tz = ZoneInfo(settings.campaign().frame.timezone)
    try:
        at = datetime.fromisoformat(args.at).astimezone(tz) if args.at else datetime.now(tz)
    except ValueError:
        print(f"错误：--at “{args.at}”不是 ISO 时间。", file=sys.stderr)
        return 2
    try:
        duban = issue_duban(settings, args.unit, issued_at=at, days=args.days)
    except (DubanRefused, SnapshotMissing) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(
        f"已印发{duban.number}：{duban.unit_name}（逾期 {duban.late} 份，未报 {duban.missing} 份），{duban.pdf}"
    )
    failed = False
    for d in deliver_duban(settings, duban):
        failed |= d["status"] == "failed"
        print(
            f"  {d['route']}\t{d['target']}\t{d['status']}"
            + (f"（{d['detail']}）" if d["status"] != "sent" else "")
        )
    return 1 if failed else 0


def _list(args: argparse.Namespace) -> int:
    from dashboards.duban import list_duban

    items = list_duban(args.settings)
    for d in items:
        print(f"{d.number}\t{d.unit_name}\t{d.issued_at[:10]}\t整改期限 {d.deadline}\t{d.pdf}")
    print(f"已印发督办单 {len(items)} 份。")
    return 0


def register(subparsers) -> None:
    """Add ``duban`` to the ``roadsafe`` command."""
    p = subparsers.add_parser(
        "duban",
        help="issue a numbered 督办单 (PDF) to a unit late or missing twice, or list those issued",
        description="督办单：为多次逾期或缺报的单位印发编号督办单（PDF），并发送给联络员、分管领导和办公室。",
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = sub.add_parser("issue", help="write and send a 督办单")
    q.add_argument("unit", help="unit name, alias or id")
    q.add_argument("--at", help="issue time (ISO; default now)")
    q.add_argument("--days", type=int, default=5, help="working days to remedy (default 5)")
    q.set_defaults(func=_issue)
    q = sub.add_parser("list", help="list the 督办单 issued")
    q.set_defaults(func=_list)
