"""``roadsafe office …``: the office's decisions from the command line, the twins of the portal's
审核 and 督办案件 pages (registered by :mod:`application.cli`).

    roadsafe office return SUBMISSION_ID --reason TEXT [--by NAME]
    roadsafe office excuse --unit U --form F --period N --reason TEXT
    roadsafe office case open --unit U --kind listed|interview|referral|inspection --title TEXT --reason TEXT
                              [--task N] [--source dispatch|duban|manual] [--source-ref REF]
    roadsafe office case action CASE_ID --action TEXT --date YYYY-MM-DD [--reason TEXT]
    roadsafe office case close CASE_ID --evidence FILE --reason TEXT
    roadsafe office list [--unit U]

Every action is appended to the office's record (who: ``--by``, default the login name; when; why) and,
unless ``--no-build``, followed by ``roadsafe build`` so the figures follow at once. Exit 0 done, 1 the
build failed, 2 refused (a Chinese message says why; nothing recorded).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime
from pathlib import Path

__all__ = ["register"]


def _now(settings):
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(settings.campaign().frame.timezone))


def _by(args) -> str:
    return args.by or f"operator:{getpass.getuser()}"


def _act(args: argparse.Namespace, action) -> int:
    from roadsafe.office_record import OfficeRecordError

    try:
        entry = action()
    except OfficeRecordError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"已登记{entry['id']}（{entry['by']}，{entry['at']}）：{entry['reason']}")
    if entry["kind"] == "return":
        from dashboards.office_actions import deliver_return

        for d in deliver_return(args.settings, entry):
            print(f"  退回通知 {d['route']}\t{d['target']}\t{d['status']}")
    if args.no_build:
        print("未运行构建：下次 roadsafe build 时生效。")
        return 0
    from application.build import run_build

    result = run_build(args.settings)
    print(result.message)
    for line in result.failures:
        print(f"  {line}", file=sys.stderr)
    return 0 if result.ok else 1


def _return(args):
    from dashboards.office_actions import return_submission

    s = args.settings
    return _act(args, lambda: return_submission(s, args.submission_id, by=_by(args), reason=args.reason, at=_now(s)))


def _excuse(args):
    from dashboards.office_actions import excuse_submission

    s = args.settings
    return _act(
        args,
        lambda: excuse_submission(
            s, args.unit, args.form, args.period, by=_by(args), reason=args.reason, at=_now(s)
        ),
    )


def _case_open(args):
    from dashboards.office_actions import open_case

    s = args.settings
    return _act(
        args,
        lambda: open_case(
            s, args.unit, case_kind=args.kind, title=args.title, by=_by(args), reason=args.reason,
            at=_now(s), task_no=args.task, source=args.source, source_ref=args.source_ref,
        ),
    )  # fmt: skip


def _case_action(args):
    from dashboards.office_actions import case_action

    s = args.settings
    return _act(
        args,
        lambda: case_action(
            s, args.case_id, action=args.action, on_date=args.date, by=_by(args),
            reason=args.reason or args.action, at=_now(s),
        ),
    )  # fmt: skip


def _case_close(args):
    from dashboards.office_actions import close_case
    from roadsafe.office_record import MAX_EVIDENCE_BYTES, OfficeRecordError

    s = args.settings
    path = Path(args.evidence)

    def run():
        if not path.is_file():
            raise OfficeRecordError(f"找不到证明材料文件：{path.name}")
        if path.stat().st_size > MAX_EVIDENCE_BYTES:
            raise OfficeRecordError(f"证明材料“{path.name}”超过{MAX_EVIDENCE_BYTES // (1024 * 1024)}MB。")
        return close_case(
            s, args.case_id, evidence=path.read_bytes(), evidence_name=path.name, by=_by(args),
            reason=args.reason, at=_now(s),
        )  # fmt: skip

    return _act(args, run)


def _list(args) -> int:
    from dashboards.office_actions import office_view

    view = office_view(args.settings, args.unit)
    kinds = {"return": "退回", "excuse": "情况说明"}
    for d in view["decisions"]:
        extra = f"回执{d['submission_id']}" if d["kind"] == "return" else ""
        print(
            f"{d['id']}\t{kinds[d['kind']]}\t{d['unit_name']}\t{d['form_code']}\t{d['label']}\t{extra}\t"
            f"{d['when']}\t{d['by']}\t{d['reason']}" + ("\t待生效" if d["pending"] else "")
        )
    for c in view["cases"]:
        state = "办理中" if c.is_open else f"已销号（{view['when'](c.closed['at'])}）"
        task = f"任务{c.task_no}" if c.task_no else "—"
        print(
            f"{c.case_id}\t{c.kind_name}\t{view['unit_name'](c.unit_id)}\t{task}\t{c.title}\t{state}\t"
            f"措施{len(c.actions)}项"
        )
    print(f"退回与情况说明 {len(view['decisions'])} 项，督办案件 {len(view['cases'])} 件（办理中 {len(view['open_cases'])} 件）。")
    return 0


def register(subparsers) -> None:
    """Add ``office`` to the ``roadsafe`` command."""
    from roadsafe.office_record import CASE_KINDS, CASE_SOURCES

    office = subparsers.add_parser("office", help="the office's returns, excuses and enforcement cases")
    sub = office.add_subparsers(dest="office_command", required=True, metavar="ACTION")

    def common(p):
        p.add_argument("--by", help="who decides (default operator:<login>)")
        p.add_argument("--no-build", action="store_true", help="record only; the next build applies it")

    p = sub.add_parser("return", help="return (退回) an accepted submission")
    p.add_argument("submission_id")
    p.add_argument("--reason", required=True)
    common(p)
    p.set_defaults(func=_return)

    p = sub.add_parser("excuse", help="excuse (情况说明) a late or missing submission")
    p.add_argument("--unit", required=True)
    p.add_argument("--form", required=True)
    p.add_argument("--period", type=int, required=True)
    p.add_argument("--reason", required=True)
    common(p)
    p.set_defaults(func=_excuse)

    case = sub.add_parser("case", help="the enforcement register (督办案件)")
    csub = case.add_subparsers(dest="case_command", required=True, metavar="STEP")
    p = csub.add_parser("open", help="open a case against a unit")
    p.add_argument("--unit", required=True)
    p.add_argument("--kind", required=True, choices=list(CASE_KINDS))
    p.add_argument("--title", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--task", type=int)
    p.add_argument("--source", default="manual", choices=list(CASE_SOURCES))
    p.add_argument("--source-ref")
    common(p)
    p.set_defaults(func=_case_open)
    p = csub.add_parser("action", help="record an action taken in a case")
    p.add_argument("case_id")
    p.add_argument("--action", required=True)
    p.add_argument("--date", required=True, help="YYYY-MM-DD")
    p.add_argument("--reason")
    common(p)
    p.set_defaults(func=_case_action)
    p = csub.add_parser("close", help="close (销号) a case with evidence")
    p.add_argument("case_id")
    p.add_argument("--evidence", required=True)
    p.add_argument("--reason", required=True)
    common(p)
    p.set_defaults(func=_case_close)

    p = sub.add_parser("list", help="list the decisions and cases")
    p.add_argument("--unit")
    p.set_defaults(func=_list)
