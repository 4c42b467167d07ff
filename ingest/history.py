"""Importing historical submissions with their original receive times, many files on one connection.

A *manifest directory* holds the files and ``manifest.jsonl``: one JSON object per line, in the order the
files were received, with at least ``path`` (relative to the directory), ``unit_id`` (any unit alias) and
``received_at`` (ISO 8601; without an offset it is campaign time), optionally ``channel`` (``cli``,
``inbox`` or ``portal``; default ``cli``), ``submitted_by`` and ``original_name`` (default: the file's
name). Other keys (the sample generator writes ``form_code``, ``period_no``, ``expect``, …) are ignored:
each file is read, checked and loaded exactly as :func:`ingest.service.submit` would, the form and week
recognised from the file itself.

The sample campaign (``python -m application.samples DIR``) is such a directory; so is an office's e-mail
archive of the submissions it received before it switched to roadsafe mid-campaign.

:func:`replay_manifest` is idempotent: an entry already recorded (the same file bytes, receive time and
unit in ``raw.submissions``) is skipped, and one landed by an interrupted import but not loaded is loaded
from the landing zone instead of being landed again. So it can be called week by week with a growing
``until`` (the demo's Airflow ``roadsafe_ingest`` runs do that) or again after a crash.

Examples
--------
>>> receipts = replay_manifest(Settings.from_env(), "var/samples/jiujiang-2022",
...                            until=dt.datetime(2022, 4, 20, 18, tzinfo=ZoneInfo("Asia/Shanghai")))  # doctest: +SKIP
>>> sorted({r.status for r in receipts})                                                               # doctest: +SKIP
['accepted', 'rejected']
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest import registry
from ingest.landing import PendingReceipt, clean_stale_tmp, receipts_dir, sha256_file
from ingest.service import (
    ProcessingFailed,
    Receipt,
    UsageError,
    _campaign,
    _land_request,
    _resolve_unit,
    load_receipt,
)
from roadsafe.campaign import Campaign
from roadsafe.settings import Settings

__all__ = ["MANIFEST", "HistoryEntry", "ReplayResult", "read_manifest", "replay", "replay_manifest"]

log = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"
CHANNELS = ("cli", "inbox", "portal")
_MAX_LISTED = 20


@dataclass(frozen=True)
class HistoryEntry:
    """One line of ``manifest.jsonl``: a file as it was received."""

    line: int  # 1-based line number in manifest.jsonl
    path: Path  # absolute
    unit: str  # as written (an id or any alias)
    received_at: dt.datetime  # aware
    channel: str = "cli"
    submitted_by: str | None = None
    original_name: str | None = None


@dataclass
class ReplayResult:
    """What :func:`replay` did: the receipts of this run (in manifest order), how many entries of the window
    were already recorded, and the entries whose processing failed unexpectedly (they stay landed and
    pending: the next import or :func:`ingest.service.process_inbox` loads them)."""

    receipts: list[Receipt] = field(default_factory=list)
    skipped: int = 0
    failed: list[HistoryEntry] = field(default_factory=list)


def _aware(value: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def read_manifest(manifest_dir: str | os.PathLike, campaign: Campaign) -> list[HistoryEntry]:
    """The entries of ``manifest_dir/manifest.jsonl`` in file order; :class:`UsageError` (Chinese, every
    problem listed with its line) when the manifest is missing or an entry cannot be read."""
    folder = Path(manifest_dir)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise UsageError(f"找不到报送清单“{manifest}”，请确认目录（目录中应有 {MANIFEST}）。")
    tz = ZoneInfo(campaign.frame.timezone)
    entries: list[HistoryEntry] = []
    problems: list[str] = []
    for no, line in enumerate(manifest.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not an object")
        except ValueError:
            problems.append(f"第{no}行不是有效的 JSON 对象")
            continue
        path_text, unit = item.get("path"), item.get("unit_id") or item.get("unit")
        if not path_text or not unit or not item.get("received_at"):
            problems.append(f"第{no}行缺少 path、unit_id 或 received_at")
            continue
        try:
            received = _aware(dt.datetime.fromisoformat(str(item["received_at"])), tz)
        except ValueError:
            problems.append(f"第{no}行的接收时间“{item['received_at']}”不是 ISO 8601 时间")
            continue
        channel = item.get("channel") or "cli"
        if channel not in CHANNELS:
            problems.append(f"第{no}行的报送渠道“{channel}”无效（应为 {'、'.join(CHANNELS)}）")
            continue
        entries.append(
            HistoryEntry(
                line=no,
                path=(folder / path_text).resolve(),
                unit=str(unit),
                received_at=received,
                channel=channel,
                submitted_by=item.get("submitted_by"),
                original_name=item.get("original_name"),
            )
        )
    if problems:
        raise UsageError(_problem_list(manifest, problems))
    return entries


def _problem_list(manifest: Path, problems: list[str]) -> str:
    shown = "；".join(problems[:_MAX_LISTED])
    more = f"；另有{len(problems) - _MAX_LISTED}处" if len(problems) > _MAX_LISTED else ""
    return f"报送清单“{manifest}”有{len(problems)}处问题，未导入任何文件：{shown}{more}。"


def _check_entries(
    manifest: Path, campaign: Campaign, entries: list[HistoryEntry], on_record: set
) -> dict[int, str]:
    """Unit id of every entry (by line); :class:`UsageError` listing unknown units and missing files.

    A missing file is fine for an entry already on record by unit and time (an archive may be pruned of
    what was imported)."""
    units: dict[int, str] = {}
    problems: list[str] = []
    for entry in entries:
        try:
            units[entry.line] = _resolve_unit(campaign, entry.unit).id
        except UsageError as exc:
            problems.append(f"第{entry.line}行：{exc.message}")
            continue
        if (units[entry.line], _utc(entry.received_at)) not in on_record and not entry.path.is_file():
            problems.append(f"第{entry.line}行：找不到文件“{entry.path}”")
    if problems:
        raise UsageError(_problem_list(manifest, problems))
    return units


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _recorded(con) -> set[tuple[str | None, dt.datetime, str]]:
    """(unit id, receive time in UTC, sha256) of every submission in the registry."""
    rows = con.execute("select unit_id, received_at, file_sha256 from raw.submissions").fetchall()
    return {(unit, _utc(received), sha) for unit, received, sha in rows}


def _pending(settings: Settings, con) -> dict[tuple[str | None, dt.datetime, str], PendingReceipt]:
    """Receipts landed but not loaded (an import or submit interrupted after landing), by the same key.

    A sidecar is named by its receipt id: only those not in the registry are read (a campaign has
    thousands)."""
    loaded = registry.loaded_receipts(con)
    out: dict[tuple[str | None, dt.datetime, str], PendingReceipt] = {}
    folder = receipts_dir(settings)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.stem in loaded:
            continue
        try:
            receipt = PendingReceipt(**json.loads(path.read_text(encoding="utf-8")))
            key = (receipt.unit_id, _utc(receipt.received), receipt.sha256)
        except (OSError, ValueError, TypeError):  # unreadable: process_inbox skips it too
            continue
        if receipt.receipt_id not in loaded:
            out.setdefault(key, receipt)
    return out


def replay(
    settings: Settings,
    manifest_dir: str | os.PathLike,
    *,
    until: dt.datetime | None = None,
    since: dt.datetime | None = None,
) -> ReplayResult:
    """:func:`replay_manifest`, also saying how many entries were skipped and which failed."""
    settings.ensure()
    campaign = _campaign(settings)
    tz = ZoneInfo(campaign.frame.timezone)
    until = _aware(until, tz) if until is not None else None
    since = _aware(since, tz) if since is not None else None
    entries = [
        e
        for e in read_manifest(manifest_dir, campaign)
        if (since is None or e.received_at > since) and (until is None or e.received_at <= until)
    ]
    result = ReplayResult()
    if not entries:
        return result
    clean_stale_tmp(settings)
    with registry.open_warehouse(settings, campaign) as con:
        recorded = _recorded(con)
        # Only an entry whose unit and time are on record can be a repeat: hash just those files.
        on_record = {(unit, received) for unit, received, _ in recorded}
        units = _check_entries(Path(manifest_dir) / MANIFEST, campaign, entries, on_record)
        pending = _pending(settings, con)
        waiting = {(unit, received) for unit, received, _ in pending}
        for entry in entries:
            unit_id, received = units[entry.line], _utc(entry.received_at)
            receipt = None
            if (unit_id, received) in on_record or (unit_id, received) in waiting:
                if not entry.path.is_file():  # on record (see _check_entries), the file pruned since
                    result.skipped += 1
                    continue
                sha, _ = sha256_file(entry.path)
                key = (unit_id, received, sha)
                if key in recorded:
                    result.skipped += 1
                    continue
                receipt = pending.pop(key, None)
            if receipt is None:
                receipt = _land_request(
                    settings,
                    campaign,
                    entry.path,
                    unit=entry.unit,
                    form=None,
                    period=None,
                    channel=entry.channel,
                    submitted_by=entry.submitted_by,
                    received_at=entry.received_at,
                    original_name=entry.original_name,
                )
            try:
                result.receipts.append(load_receipt(con, settings, campaign, receipt))
            except ProcessingFailed:  # logged; the receipt stays pending and is retried
                result.failed.append(entry)
                continue
            recorded.add((unit_id, received, receipt.sha256))
            on_record.add((unit_id, received))
    return result


def replay_manifest(
    settings: Settings,
    manifest_dir: str | os.PathLike,
    *,
    until: dt.datetime | None = None,
    since: dt.datetime | None = None,
) -> list[Receipt]:
    """Submit, in manifest order and on one warehouse connection, every entry of
    ``manifest_dir/manifest.jsonl`` received in ``since < received_at <= until`` (either bound may be
    None), with its original receive time, unit and channel; return the receipts of this run.

    Entries already recorded (same unit, receive time and file bytes) are skipped, so calling it again, or
    week by week with a growing ``until``, loads each file once. A naive ``until``/``since`` is campaign
    time.

    Raises
    ------
    UsageError
        no manifest, an unreadable line, an unknown unit or a missing file among the entries of the window
        (every problem listed; nothing is recorded). The file of an entry already on record (by unit and
        receive time) may be gone: the entry is skipped.
    ingest.landing.LandingError
        a file could not be landed (e.g. disk full); the entries before it are loaded.
    roadsafe.warehouse.WarehouseBusy
        the warehouse stayed locked; nothing is recorded.

    An entry whose processing fails unexpectedly is logged and left landed and pending (as in
    :func:`ingest.service.process_inbox`); the next call loads it.
    """
    return replay(settings, manifest_dir, until=until, since=since).receipts
