"""Rebuilding every figure from the landing zone alone into a fresh warehouse, and saying how it compares."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from application.backup.archive import copy_warehouse
from application.backup.compare import _has_table, compare_warehouses
from application.backup.results import BackupError, Comparison, RebuildResult, _remove_stale, _stamp
from roadsafe.settings import Settings


def _read_receipts(settings: Settings, problems: list[str]):
    """Every receipt sidecar in receive order; unreadable ones are named in ``problems``."""
    from ingest.landing import PendingReceipt

    folder = settings.landing / "receipts"
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out.append(PendingReceipt(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            problems.append(f"回执文件“{path.name}”无法读取")
    out.sort(key=lambda r: (r.received, r.receipt_id))
    return out


def rebuild_from_landing(
    settings: Settings,
    *,
    keep: bool = False,
    wait: float = 300.0,
    progress: Callable[[str], None] | None = None,
) -> RebuildResult:
    """Rebuild every figure from the landing zone alone and compare it with the home's warehouse.

    A fresh warehouse is made under ``$ROADSAFE_HOME/tmp/rebuild-…``: every receipt of the landing zone,
    in receive order, whose file is present with the recorded sha256 is ingested again as it was received
    (the receipt carries the receive time, unit, form/week as given, channel and submitter), then the dbt
    build runs there. The home's warehouse (copied under the writer's lock after a CHECKPOINT) is the
    reference: receipts it has not loaded yet are left out of the comparison and named; then the registry
    (``raw.submissions``, ``raw.submission_messages``), every ``ref`` and every ``marts`` table are compared
    row for row. Submission ids that differ only because files were loaded in another order are matched
    through their receipt (not a difference). Without a reference warehouse the rebuilt one is kept and its
    path given (to put in place after losing the warehouse).
    """
    from application.build import run_build
    from ingest.landing import sha256_file
    from ingest.registry import open_warehouse
    from ingest.service import ProcessingFailed, load_receipt

    say = progress or (lambda _text: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    settings.ensure()
    campaign = settings.campaign()
    _remove_stale(settings.tmp, r"rebuild-\d{8}T\d{6}-(\d+)")
    scratch = settings.tmp / f"rebuild-{_stamp()}-{os.getpid()}"
    scratch.mkdir(parents=True)
    work = Settings(home=scratch, campaign_code=settings.campaign_code)
    (scratch / "landing").symlink_to(settings.landing.resolve(), target_is_directory=True)
    if (settings.home / "office").is_dir():  # the office's decisions (returns, excuses) shape the figures too
        (scratch / "office").symlink_to((settings.home / "office").resolve(), target_is_directory=True)
    problems: list[str] = []
    lines: list[str] = []
    kept = False
    try:
        receipts = _read_receipts(settings, problems)
        if not receipts:
            raise BackupError(f"接收区“{settings.landing}”中没有任何回执，无可重建的内容。")
        t = time.perf_counter()
        usable = []
        for r in receipts:
            path = settings.home / r.stored_path
            try:
                sha, size = sha256_file(path)
            except OSError:
                problems.append(f"回执 {r.receipt_id} 所指的原始文件“{r.stored_path}”不在接收区")
                continue
            if sha != r.sha256 or size != r.size:
                problems.append(f"接收区文件“{r.stored_path}”的内容与回执 {r.receipt_id} 记录的 sha256 不符")
                continue
            usable.append(r)
        timings["verify"] = round(time.perf_counter() - t, 3)
        say(f"接收区有回执 {len(receipts)} 份，原始文件逐一核对 sha256：{len(usable)} 份无误。")

        reference = None
        loaded: set[str] | None = None
        if settings.warehouse.is_file():
            t = time.perf_counter()
            reference = scratch / "reference.duckdb"
            handle = copy_warehouse(settings, reference, wait=wait, what="未能比对")
            if handle is not None:
                handle.close()
            loaded = _loaded_receipts(reference)
            timings["reference"] = round(time.perf_counter() - t, 3)
        pending = [r for r in usable if loaded is not None and r.receipt_id not in loaded]
        todo = [r for r in usable if loaded is None or r.receipt_id in loaded]

        t = time.perf_counter()
        say(f"按原接收时间顺序重新导入 {len(todo)} 份报送……")
        with open_warehouse(work, campaign) as con:
            for r in todo:
                try:
                    load_receipt(con, work, campaign, r)
                except ProcessingFailed as exc:
                    problems.append(f"回执 {r.receipt_id} 重新导入失败：{exc.message}")
        timings["ingest"] = round(time.perf_counter() - t, 3)

        say("运行 dbt build……")
        t = time.perf_counter()
        build = run_build(work, publish=False)
        timings["dbt"] = round(time.perf_counter() - t, 3)
        if not build.ok:
            kept = True
            raise BackupError(
                "重建后的 dbt build 未通过，无法比对："
                + "；".join([build.message, *build.failures[:5]])
                + f"（重建目录保留在“{scratch}”）"
            )

        lines.append(
            f"从接收区重建：回执 {len(receipts)} 份，原始文件逐一核对 sha256 {len(usable)} 份无误；"
            f"按原接收时间、报送单位、渠道和报送人重新导入 {len(todo)} 份，dbt build 通过。"
        )
        comparison = None
        if reference is None:
            kept = True
            lines.append(
                f"未找到原数据仓库，未作比对；重建的数据仓库位于“{work.warehouse}”，"
                f"可将其移至“{settings.warehouse}”后运行 roadsafe build 发布。"
            )
            identical = not problems
        else:
            t = time.perf_counter()
            comparison = compare_warehouses(reference, work.warehouse, campaign_code=settings.campaign_code)
            timings["compare"] = round(time.perf_counter() - t, 3)
            identical = comparison.identical and not problems
            lines += _comparison_lines(comparison, identical)
            if pending:
                lines.append(
                    f"另有 {len(pending)} 份已接收、尚未导入原数据仓库的报送未参与比对"
                    f"（Airflow 的 roadsafe_ingest 下次运行时即会导入）。"
                )
        if problems:
            lines.append(f"接收区有 {len(problems)} 处问题：")
            lines += [f"  - {p}" for p in problems[:20]]
            if len(problems) > 20:
                lines.append(f"  - 另有 {len(problems) - 20} 处未列出")
        kept = kept or keep
        if kept:
            lines.append(f"重建目录保留在“{scratch}”。")
        timings["total"] = round(time.perf_counter() - started, 3)
        lines.append(
            "用时：核对原始文件 {verify:.1f} 秒，加锁复制原数据仓库 {reference:.1f} 秒，重新导入 {ingest:.1f} 秒，"
            "dbt build {dbt:.1f} 秒，比对 {compare:.1f} 秒，合计 {total:.1f} 秒。".format(
                **{
                    k: timings.get(k, 0.0)
                    for k in ("verify", "reference", "ingest", "dbt", "compare", "total")
                }
            )
        )
        return RebuildResult(
            identical=identical,
            lines=lines,
            receipts=len(receipts),
            replayed=len(todo),
            comparison=comparison,
            rebuilt=work.warehouse if kept else None,
            timings=timings,
        )
    finally:
        if not kept:
            shutil.rmtree(scratch, ignore_errors=True)


def _loaded_receipts(path: Path) -> set[str]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        if not _has_table(con, "raw", "submissions"):
            return set()
        return {
            r[0]
            for r in con.execute(
                "select receipt_id from raw.submissions where receipt_id is not null"
            ).fetchall()
        }
    finally:
        con.close()


def _comparison_lines(comparison: Comparison, identical: bool) -> list[str]:
    marts = [t for t in comparison.tables if t.table.startswith("marts.")]
    refs = [t for t in comparison.tables if t.table.startswith("ref.")]
    registry = next((t for t in comparison.tables if t.table == "raw.submissions"), None)
    lines = []
    if identical:
        lines.append(
            f"比对结果：全部一致。报送登记 {registry.rows if registry else 0} 条、"
            f"汇总表 {len(marts)} 张共 {sum(t.rows for t in marts)} 行、参照表 {len(refs)} 张，"
            f"与原数据仓库逐行相同。"
        )
    else:
        differing = [t for t in comparison.tables if not t.same]
        lines.append(f"比对结果：发现差异，{len(differing)} 张表与原数据仓库不一致：")
        for t in differing:
            if t.problem:
                lines.append(f"  - {t.table}：{t.problem}")
                continue
            lines.append(
                f"  - {t.table}：仅原数据仓库有 {t.only_reference} 行，仅重建结果有 {t.only_rebuilt} 行"
                f"（原表共 {t.rows} 行）"
            )
            lines += [f"      {e}" for e in t.examples]
    if comparison.stale and not identical:
        lines.append(
            f"注：原数据仓库在最近一次构建之后又导入了 {comparison.stale} 份报送，其汇总表尚未更新，"
            f"上述差异可能由此而来；请先运行 roadsafe build，再重新比对。"
        )
    if comparison.renumbered:
        lines.append(
            f"注：有 {comparison.renumbered} 份报送因导入先后不同而编号不同，已按回执一一对应，不计为差异。"
        )
    return lines
