"""``roadsafe campaign import 表.xlsx|表.docx --code CODE`` and ``roadsafe campaign export --code CODE -o 表.xlsx``.

``import`` sets up a campaign from the office's 责任分工表 under ``$ROADSAFE_HOME/campaigns/<code>/``; the
units, reporting rhythm, reports and progress form come from the template campaign (``--like``, default the
current ``--campaign``). Exit 0 when written, 1 when the table has errors (nothing written unless
``--draft``), 2 when refused (unknown template, code taken, unreadable file). ``export`` writes any
campaign's tasks back as a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

__all__ = ["register"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是日期（应为 YYYY-MM-DD）") from None


def _import(args: argparse.Namespace) -> int:
    from roadsafe.campaign import (
        CODE_PATTERN,
        campaign_root,
        campaigns_dir,
        load_campaign,
        office_campaigns_dir,
        read_yaml,
    )
    from roadsafe.campaign.imported import CONFIRM_FILE, render_report, write_imported
    from roadsafe.campaign.table_import import TableOptions, import_table

    settings = args.settings
    code = args.code
    if not CODE_PATTERN.fullmatch(code):
        print(f"错误：活动代码“{code}”只能由小写字母、数字和连字符组成，且不以连字符开头。", file=sys.stderr)
        return 2
    target = office_campaigns_dir(settings.home) / code
    if (campaigns_dir() / code).is_dir():
        print(f"错误：活动代码“{code}”已被程序自带的活动使用，请改用其他代码。", file=sys.stderr)
        return 2
    if target.exists():
        print(f"错误：活动“{code}”已导入（{target}），如需重新导入请先删除该目录。", file=sys.stderr)
        return 2
    like = args.like or settings.campaign_code
    template = load_campaign(like, home=settings.home)
    root = campaign_root(like, settings.home)
    docs = {"campaign": read_yaml(root / "campaign.yml"), "units": read_yaml(root / "units.yml")}
    docs["forms"] = read_yaml(root / "forms.yml")
    options = TableOptions(
        code=code,
        name=args.name,
        year=args.year,
        start=args.start,
        end=args.end,
        document=args.document,
        accept_new_units=args.accept_new_units or args.draft,
    )
    try:
        result = import_table(args.table, template, docs, options)
    except (OSError, ValueError) as exc:
        print(f"错误：{args.table.name}：{exc}", file=sys.stderr)
        return 2
    print(render_report(result), end="")
    problems = write_imported(result, target, draft=args.draft)
    if not target.exists():
        if problems and not result.errors:
            print("活动定义检查未通过：\n" + "".join(f"  - {p}\n" for p in problems), end="")
        print("未写入任何文件。请按以上说明改正表格后重新导入，或加 --draft 先保存草稿。")
        return 1
    state = "草稿已写入" if (result.errors or problems) else "已导入"
    print(f"{state}：{target}（活动代码 {code}，任务 {len(result.tasks)} 项）")
    if (target / CONFIRM_FILE).exists():
        print(f"待确认事项见 {target / CONFIRM_FILE}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from roadsafe.campaign import load_campaign
    from roadsafe.campaign.imported import export_table

    campaign = load_campaign(args.code or args.settings.campaign_code, home=args.settings.home)
    if args.out.suffix.lower() != ".xlsx":
        print("错误：导出文件须为 .xlsx。", file=sys.stderr)
        return 2
    count = export_table(campaign, args.out)
    print(f"已导出责任分工表：{args.out}（任务 {count} 项）")
    return 0


def register(subparsers) -> None:
    """Add ``campaign import`` and ``campaign export`` to the ``roadsafe`` command."""
    p = subparsers.add_parser("campaign", help="set up a campaign from a responsibility table, or export one")
    sub = p.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")

    q = sub.add_parser(
        "import", help="import a 责任分工表 (.xlsx/.xls/.csv/.docx) as a campaign under $ROADSAFE_HOME"
    )
    q.add_argument("table", type=Path)
    q.add_argument("--code", required=True, help="code of the new campaign (lower-case letters, digits, -)")
    q.add_argument("--name", help="campaign name (default: the table's title)")
    q.add_argument("--like", help="template campaign: units, rhythm, reports (default: --campaign)")
    q.add_argument("--year", type=int, help="year of deadlines written without one (default: from the title)")
    q.add_argument("--start", type=_date, help="campaign start YYYY-MM-DD")
    q.add_argument("--end", type=_date, help="campaign end YYYY-MM-DD (default: the latest deadline)")
    q.add_argument("--document", help="the plan's document number (文号)")
    q.add_argument(
        "--accept-new-units", action="store_true", help="add names not known to the template as units"
    )
    q.add_argument("--draft", action="store_true", help="write even with errors, all listed in 待确认.txt")
    q.set_defaults(func=_import)

    q = sub.add_parser("export", help="write a campaign's tasks as a 责任分工表 (.xlsx)")
    q.add_argument("--code", help="campaign code (default: --campaign)")
    q.add_argument("-o", "--out", type=Path, required=True)
    q.set_defaults(func=_export)
