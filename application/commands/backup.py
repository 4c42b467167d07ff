"""``roadsafe backup``, ``roadsafe restore`` and ``roadsafe rebuild --from-landing`` (registered by
:mod:`application.cli`); the work is done in :mod:`application.backup`.

Exit codes: 0 done (``rebuild``: every table identical), 1 ``rebuild`` found differences, 2 refused (a
damaged archive, a checksum that does not match, a target that already holds data, an existing output
file), 3 unavailable (a full disk, the warehouse stayed locked). Every refusal is one Chinese line on
stderr; nothing is changed then.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]

EXIT_OK, EXIT_DIFFERENT, EXIT_REFUSED, EXIT_UNAVAILABLE = 0, 1, 2, 3


def _fail(exc) -> int:
    print(f"错误：{exc.message}", file=sys.stderr)
    return EXIT_UNAVAILABLE if exc.unavailable else EXIT_REFUSED


def _backup(args: argparse.Namespace) -> int:
    from application.backup import BackupError, backup

    try:
        result = backup(args.settings, args.out, wait=args.wait)
    except BackupError as exc:
        return _fail(exc)
    print(result.text())
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    from application.backup import BackupError, restore

    print(f"正在校验并恢复备份“{args.archive}”到“{args.settings.home}”……", flush=True)
    try:
        result = restore(args.archive, args.settings.home, force=args.force)
    except BackupError as exc:
        return _fail(exc)
    print(result.text())
    if result.manifest.get("campaign_code") not in (None, args.settings.campaign_code):
        print(
            f"注意：该备份属于专项整治活动 {result.manifest['campaign_code']}，"
            f"当前设置的活动为 {args.settings.campaign_code}（可用 --campaign 或环境变量 ROADSAFE_CAMPAIGN 指定）。"
        )
    return EXIT_OK


def _rebuild(args: argparse.Namespace) -> int:
    from application.backup import BackupError, rebuild_from_landing

    try:
        result = rebuild_from_landing(
            args.settings, keep=args.keep, wait=args.wait, progress=lambda text: print(text, flush=True)
        )
    except BackupError as exc:
        return _fail(exc)
    print(result.text())
    return EXIT_OK if result.identical else EXIT_DIFFERENT


def register(subparsers) -> None:
    """Add ``backup``, ``restore`` and ``rebuild`` to the ``roadsafe`` command."""
    p = subparsers.add_parser(
        "backup",
        help="archive $ROADSAFE_HOME (landing zone, warehouse, snapshot, editions, portal accounts)",
        description="备份数据目录：接收区原始文件及回执、数据仓库（加锁后复制）、已发布快照、各期报告、门户账户。"
        "系统运行中也可备份。退出码：0 完成，2 拒绝，3 磁盘空间不足或数据仓库被占用。",
    )
    p.add_argument("out", nargs="?", help="archive file or folder (default $ROADSAFE_HOME/backups/)")
    p.add_argument("--wait", type=float, default=300.0, help="seconds to wait while the warehouse is busy")
    p.set_defaults(func=_backup)

    p = subparsers.add_parser(
        "restore",
        help="restore a backup archive into $ROADSAFE_HOME (or --home) after checking every checksum",
        description="从备份恢复数据目录：先逐一校验全部文件，无误后整体替换。目标目录已有数据时须加 --force"
        "（原目录改名保留）。退出码：0 完成，2 拒绝（备份损坏、校验不符、目标已有数据），3 磁盘空间不足。",
    )
    p.add_argument("archive", help="the .tar.gz written by roadsafe backup")
    p.add_argument(
        "--force", action="store_true", help="replace a home that holds data (it is renamed, not deleted)"
    )
    p.set_defaults(func=_restore)

    p = subparsers.add_parser(
        "rebuild",
        help="rebuild every figure from the landing zone alone and compare it with the warehouse",
        description="从接收区原始文件重建：按原接收时间顺序重新导入全部报送、运行 dbt build，"
        "并与现有数据仓库逐表逐行比对。退出码：0 全部一致，1 有差异，2/3 无法完成。",
    )
    p.add_argument(
        "--from-landing", action="store_true", required=True, help="the source: the landing zone (required)"
    )
    p.add_argument("--keep", action="store_true", help="keep the rebuilt warehouse under $ROADSAFE_HOME/tmp")
    p.add_argument("--wait", type=float, default=300.0, help="seconds to wait while the warehouse is busy")
    p.set_defaults(func=_rebuild)
