"""``roadsafe remind`` (registered by :mod:`application.cli`).

``remind --at ISO-TIME [--dry-run]`` runs the reminders DAG's selection and delivery for that moment and
prints one line per notice and route (already sent ones are not sent again); ``remind --undelivered``
lists the notices no route delivered, for the office.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

__all__ = ["register"]

_STATUS = {
    "sent": "已发送",
    "failed": "发送失败",
    "already_sent": "此前已发送",
    "in_doubt": "结果未知",
    "no_contact": "无联络方式",
    "dry_run": "试运行",
}
_ROUTE = {"email": "邮件", "robot": "群机器人", "office_robot": "办公室群机器人", "none": "—"}
_RUNG = {"reminder": "提醒", "overdue": "逾期通知", "escalation": "督促", "receipt": "回执"}


def _remind(args: argparse.Namespace) -> int:
    from application.reminders import run_reminders

    settings = args.settings
    if args.undelivered:
        return _undelivered(settings)
    if not args.at:
        print(
            "错误：请用 --at 指定时间（例如 2022-04-14T12:00+08:00），或用 --undelivered。", file=sys.stderr
        )
        return 2
    try:
        at = datetime.fromisoformat(args.at)
    except ValueError:
        print(f"错误：--at “{args.at}”不是 ISO 时间（例如 2022-04-14T12:00+08:00）。", file=sys.stderr)
        return 2
    if at.tzinfo is None:
        from zoneinfo import ZoneInfo

        at = at.replace(tzinfo=ZoneInfo(settings.campaign().frame.timezone))
    result = run_reminders(settings, at, dry_run=args.dry_run)
    if result.get("snapshot") is None:
        print("错误：尚未发布数据快照，请先运行 roadsafe build。", file=sys.stderr)
        return 2
    start, end = result["window"]
    print(f"时段 {start} — {end}：通知 {len(result['notices'])} 条")
    for d in result["deliveries"]:
        status = _STATUS.get(d["status"], d["status"])
        detail = f"（{d['detail']}）" if d["detail"] and d["status"] != "sent" else ""
        print(
            f"{d['key']}\t{_RUNG.get(d['rung'], d['rung'])}\t{_ROUTE.get(d['route'], d['route'])}\t"
            f"{d['target']}\t{status}{detail}"
        )
    for c in result.get("duban_candidates", []):
        print(f"督办候选：{c['unit_name']}（逾期 {c['late']} 次，缺报 {c['missing']} 份）")
    return 1 if any(d["status"] == "failed" for d in result["deliveries"]) else 0


def _undelivered(settings) -> int:
    from dashboards.outreach import undelivered
    from roadsafe.warehouse import connect, writer_turn

    with writer_turn(settings) as deadline:
        con = connect(settings, deadline=deadline)
        try:
            rows = undelivered(con, settings.campaign_code)
        finally:
            con.close()
    for r in rows:
        print(f"{r['notice_key']}\t{r['subject']}\t{r['why']}")
    print(f"未送达的通知共 {len(rows)} 条。")
    return 0


def register(subparsers) -> None:
    """Add ``remind`` to the ``roadsafe`` command."""
    p = subparsers.add_parser(
        "remind",
        help="run the reminders for a moment: select, word and deliver (one line per notice and route)",
        description="按指定时刻运行催报：与定时任务相同的选择和发送（已发送的不会重发）。"
        "退出码：0 完成，1 有通知发送失败，2 用法错误或尚无数据快照。",
    )
    p.add_argument("--at", help="ISO time, e.g. 2022-04-14T12:00+08:00 (campaign time zone when none given)")
    p.add_argument("--dry-run", action="store_true", help="select and word only; send and record nothing")
    p.add_argument("--undelivered", action="store_true", help="list the notices no route delivered")
    p.set_defaults(func=_remind)
