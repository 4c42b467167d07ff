"""``roadsafe contacts import|export|show`` (registered by :mod:`application.cli`).

``contacts import 联络员名单.xlsx`` checks the office's list and stores it (nothing is stored while any row
is wrong; exit 2 with every problem in Chinese); it also creates every unit's shared drop folder.
``contacts export -o X.xlsx`` writes the stored list in the same layout. ``contacts show`` prints it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def _import(args: argparse.Namespace) -> int:
    from application.inbox_replies import create_drop_folders
    from roadsafe.contacts import ContactsError, import_xlsx, save_contacts

    settings = args.settings
    campaign = settings.campaign()
    try:
        contacts = import_xlsx(campaign, Path(args.file))
    except ContactsError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    path = save_contacts(settings, contacts)
    units = [c for c in contacts.values() if c.unit_id != "office"]
    robots = sum(1 for c in contacts.values() if c.robot_url)
    print(f"已导入联络员 {len(units)} 个单位（群机器人 {robots} 个）：{path}")
    missing = [
        u.name for u in campaign.units.values() if u.kind in ("county", "department") and u.id not in contacts
    ]
    if missing:
        print(f"注意：以下单位尚无联络员，提醒将无法送达：{'、'.join(missing)}")
    created = create_drop_folders(settings, campaign)
    if created:
        print(f"已为 {len(created)} 个单位建立共享报送文件夹：{settings.inbox}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from roadsafe.contacts import export_xlsx, load_contacts

    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"错误：文件“{out}”已存在（覆盖请加 --force）。", file=sys.stderr)
        return 2
    contacts = load_contacts(args.settings)
    export_xlsx(contacts, out)
    print(f"已导出联络员名单 {len(contacts)} 行：{out}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from roadsafe.contacts import load_contacts

    for c in load_contacts(args.settings).values():
        robot = "有" if c.robot_url else "无"
        leader = f"，分管领导 {c.leader}" if c.leader else ""
        print(f"{c.unit_name}：联络员 {c.liaison} {c.mobile or ''} <{c.email}>{leader}，群机器人{robot}")
    return 0


def register(subparsers) -> None:
    """Add ``contacts`` to the ``roadsafe`` command."""
    p = subparsers.add_parser(
        "contacts",
        help="import, export or show the units' contacts (联络员名单)",
        description="联络员名单：导入（Excel，列：单位、联络员、手机、邮箱、分管领导、领导邮箱、群机器人地址、"
        "机器人密钥）、导出、查看。名单含个人信息，保存在数据目录 contacts/ 下（仅本用户可读）。",
    )
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = sub.add_parser("import", help="check and store the office's Excel list")
    q.add_argument("file", help="联络员名单.xlsx")
    q.set_defaults(func=_import)
    q = sub.add_parser("export", help="write the stored list as .xlsx")
    q.add_argument("-o", "--out", required=True, help="output .xlsx")
    q.add_argument("--force", action="store_true", help="overwrite an existing file")
    q.set_defaults(func=_export)
    q = sub.add_parser("show", help="print the stored list")
    q.set_defaults(func=_show)
