"""``roadsafe submit``, ``roadsafe inbox scan``, ``roadsafe import-history`` and ``roadsafe template``,
registered by :mod:`application.cli` through ``register``.

Exit codes of ``submit``: 0 accepted (or the same file already accepted), 1 rejected, 2 usage error (an
unknown unit or form, a missing file), 3 the file could not be landed, the warehouse stayed locked, or
processing failed unexpectedly (the file then stays landed and pending; ``process_inbox`` retries it).

Exit codes of ``inbox scan`` (the same scan the ingest DAG runs, once): 0 every new file accepted (or
nothing new), 1 some file was rejected or refused unread (a link, a device, a FIFO, a hard link), 3 the
warehouse stayed locked or a file could not be landed. One Chinese line per file.

Exit codes of ``import-history``: 0 imported (rejected submissions are history too), 2 usage error (no
manifest, a bad line, an unknown unit, a missing file: nothing imported), 3 a file could not be landed, the
warehouse stayed locked, or some files failed unexpectedly (they stay pending; running it again loads them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3


def _settings(args: argparse.Namespace):
    settings = getattr(args, "settings", None)
    if settings is None:
        from roadsafe.settings import Settings

        settings = Settings.from_env()
    return settings


def _submit(args: argparse.Namespace) -> int:
    from ingest.landing import LandingError
    from ingest.service import ProcessingFailed, UsageError, submit
    from roadsafe.warehouse import WarehouseBusy

    try:
        receipt = submit(
            _settings(args),
            args.path,
            unit=args.unit,
            form=args.form,
            period=args.week,
            channel="cli",
            submitted_by=args.by,
        )
    except UsageError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except (LandingError, WarehouseBusy, ProcessingFailed) as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print(receipt.text())
    return EXIT_REJECTED if receipt.status == "rejected" else EXIT_OK


def _inbox_scan(args: argparse.Namespace) -> int:
    from ingest.landing import LandingError
    from ingest.service import process_inbox
    from roadsafe.warehouse import WarehouseBusy

    refusals: list = []
    try:
        receipts = process_inbox(_settings(args), refusals=refusals)
    except (LandingError, WarehouseBusy) as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    for receipt in receipts:
        print(f"{receipt.unit_name or receipt.unit or ''} {receipt.original_name}：{receipt.text()}")
    for refusal in refusals:
        print(f"{refusal.path}：{refusal.text()}")
    if not receipts and not refusals:
        print("收件夹中没有新文件。")
    bad = refusals or any(r.status == "rejected" for r in receipts)
    return EXIT_REJECTED if bad else EXIT_OK


def _time_arg(text: str):
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"“{text}”不是 ISO 8601 时间（如 2022-04-20T18:00+08:00）") from exc


_STATUS_CN = {"accepted": "受理", "rejected": "未受理", "duplicate": "重复"}


def _import_history(args: argparse.Namespace) -> int:
    from ingest.history import replay
    from ingest.landing import LandingError
    from ingest.service import UsageError
    from roadsafe.warehouse import WarehouseBusy

    try:
        result = replay(_settings(args), args.manifest_dir, until=args.until, since=args.since)
    except UsageError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except (LandingError, WarehouseBusy) as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    counts: dict[str, int] = {}
    for r in result.receipts:
        counts[r.status] = counts.get(r.status, 0) + 1
        if args.verbose or r.status == "rejected":
            print(
                f"{r.submission_id} {_STATUS_CN.get(r.status, r.status)} {r.received_at:%Y-%m-%d %H:%M} "
                f"{r.unit_name or r.unit or '?'} {r.original_name}"
            )
    summary = "，".join(f"{_STATUS_CN[k]} {counts[k]}" for k in _STATUS_CN if counts.get(k))
    print(
        f"已导入 {len(result.receipts)} 份历史报送"
        + (f"（{summary}）" if summary else "")
        + f"，跳过已导入的 {result.skipped} 份。"
    )
    if result.failed:
        lines = "、".join(f"第{e.line}行" for e in result.failed[:20])
        print(
            f"错误：{len(result.failed)} 份处理失败（清单{lines}），文件已留存待处理，详见 logs/ingest-errors.log；"
            "再次运行本命令即可重新导入。",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    return EXIT_OK


def _template(args: argparse.Namespace) -> int:
    from ingest.templates import write_template

    campaign = _settings(args).campaign()
    form = args.form.strip().upper()
    unit = campaign.units.get(args.unit) or campaign.resolve_unit(args.unit)
    if unit is None:
        print(f"错误：找不到填报单位“{args.unit}”，请填写县（市、区）或市直部门的名称。", file=sys.stderr)
        return EXIT_USAGE
    try:
        path = write_template(campaign, form, unit.id, args.week, Path(args.output))
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"已生成《{campaign.forms[form].name}》{campaign.period(args.week).label}填报模板（{unit.name}）：{path}"
    )
    return EXIT_OK


def register(subparsers) -> None:
    """Add ``submit``, ``inbox scan``, ``import-history`` and ``template`` to the ``roadsafe`` command."""
    p = subparsers.add_parser(
        "submit",
        help="land, check and load one submitted file; prints the receipt (回执) or the error list",
        description="报送一个文件：存档、校验并入库，输出回执或错误清单。"
        "退出码：0 受理，1 未受理，2 用法错误，3 无法存档或数据仓库被占用。",
    )
    p.add_argument("path", help=".xlsx / .xls / .csv file")
    p.add_argument("--unit", required=True, help="submitting unit: name, alias or id (e.g. 市公安局, 浔阳区)")
    p.add_argument("--form", help="form code (F1..F9); default: recognised from the file")
    p.add_argument("--week", type=int, help="week number; default: read from the file title")
    p.add_argument("--by", help="who submits (recorded as given)")
    p.set_defaults(func=_submit)

    inbox = subparsers.add_parser("inbox", help="the units' drop folders").add_subparsers(
        dest="inbox_command", required=True
    )
    p = inbox.add_parser(
        "scan",
        help="land and load every new file in the drop folders once, as the ingest DAG does",
        description="扫描各单位收件夹一次（与数据导入流程相同）：新文件存档、校验并入库，每个文件输出一行回执；"
        "符号链接、设备、管道、硬链接一律不予读取。退出码：0 全部受理，1 有未受理或拒收的文件，3 数据仓库被占用。",
    )
    p.set_defaults(func=_inbox_scan)

    p = subparsers.add_parser(
        "import-history",
        help="import historical submissions (a manifest.jsonl folder) with their original receive times",
        description="按原接收时间导入历史报送（如样例报送或切换前的邮件存档）：目录中的 manifest.jsonl 每行一份文件"
        "（path、unit_id、received_at，可选 channel）。已导入的跳过，可按周重复运行。"
        "退出码：0 完成，2 清单有误（未导入），3 无法存档、数据仓库被占用或部分文件处理失败。",
    )
    p.add_argument("manifest_dir", help="folder holding manifest.jsonl and the files")
    p.add_argument("--until", type=_time_arg, help="import entries received up to this time (ISO 8601)")
    p.add_argument("--since", type=_time_arg, help="import entries received after this time (ISO 8601)")
    p.add_argument("-v", "--verbose", action="store_true", help="list every receipt, not only rejections")
    p.set_defaults(func=_import_history)

    p = subparsers.add_parser(
        "template",
        help="write the blank official form for a unit and week (.xlsx)",
        description="生成某单位某周的空白填报模板（.xlsx）。",
    )
    p.add_argument("form", help="form code, e.g. F1")
    p.add_argument("--unit", required=True, help="unit: name, alias or id")
    p.add_argument("--week", type=int, required=True, help="week number")
    p.add_argument("-o", "--output", required=True, help="output .xlsx path")
    p.set_defaults(func=_template)
