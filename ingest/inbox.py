"""The units' drop folders (``$ROADSAFE_HOME/inbox/<unit>/``): what a scan may read, and what it refuses.

A drop folder is a share a unit writes into, so nothing in it is trusted. The walk never follows a link: it
reads each entry's own ``lstat``. Only a regular file with one link (no other name for the same data) is a
candidate; a symbolic link (to a file or a folder), a FIFO, a device, a socket, or a hard link is refused
unread with a Chinese message naming it, and the refusal is recorded once in ``landing/refusals.jsonl``
(the record of what was offered and not taken). The file itself is then opened by the landing zone with
``O_NOFOLLOW`` and checked again on the opened descriptor (:func:`ingest.landing.land_file`), so a file
swapped for a link between the walk and the open is refused too.

``回执/`` in a unit's folder holds the replies roadsafe writes for the unit; it is never read as a submission.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from roadsafe.settings import Settings

__all__ = [
    "REPLY_FOLDER",
    "InboxEntry",
    "Refusal",
    "inbox_entries",
    "is_ignored",
    "received_time",
    "record_refusals",
]

REPLY_FOLDER = "回执"

_IGNORED_PREFIXES = ("~$", ".", "._")
_IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".download", ".swp")
_IGNORED_NAMES = {"Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Refusal:
    """An inbox entry that was not read. ``path`` is relative to ``inbox/``; ``message`` is Chinese."""

    unit_folder: str
    path: str
    kind: str  # symlink, special, hardlink
    message: str
    key: str  # what makes it the same refusal on the next scan (path, inode, change time)

    def text(self) -> str:
        return f"未接收：{self.message}"


@dataclass(frozen=True)
class InboxEntry:
    """A candidate file: ``unit_folder`` (the unit id or any alias), ``path`` (absolute), ``rel`` (to inbox)."""

    unit_folder: str
    path: Path
    rel: str


def is_ignored(relpath: str) -> bool:
    """Whether an inbox path (``<unit folder>/…``, relative to ``inbox/``) is left alone: temporary and hidden
    names (an upload still being copied, Office lock files), and the unit's ``回执/`` replies."""
    parts = relpath.replace(os.sep, "/").split("/")
    name = parts[-1]
    return (
        name.startswith(_IGNORED_PREFIXES)
        or name.lower().endswith(_IGNORED_SUFFIXES)
        or name in _IGNORED_NAMES
        or any(part.startswith(".") for part in parts)
        or REPLY_FOLDER in parts[1:]
    )


def _refusal(folder: str, rel: str, st: os.stat_result) -> Refusal | None:
    key = f"{rel}|{st.st_ino}|{st.st_ctime_ns}"
    if stat.S_ISLNK(st.st_mode):
        return Refusal(
            folder,
            rel,
            "symlink",
            f"“{rel}”是符号链接（快捷方式），出于安全原因不予读取。请将报表文件本身（而非快捷方式）放入本单位文件夹。",
            key,
        )
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        return Refusal(
            folder,
            rel,
            "hardlink",
            f"文件“{rel}”与其他位置的文件共用同一份数据（硬链接），出于安全原因不予读取。请复制一份文件后重新放入。",
            key,
        )
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        return Refusal(
            folder,
            rel,
            "special",
            f"“{rel}”不是普通文件（管道、设备或套接字），不予读取。请放入 Excel 或 CSV 报表文件。",
            key,
        )
    return None


def inbox_entries(settings: Settings) -> tuple[list[InboxEntry], list[Refusal]]:
    """Every candidate file under ``inbox/<unit>/`` in a stable order, and every entry refused unread."""
    inbox = settings.inbox
    entries: list[InboxEntry] = []
    refused: list[Refusal] = []
    try:
        tops = sorted(os.scandir(inbox), key=lambda e: e.name)
    except FileNotFoundError:
        return entries, refused
    for top in tops:
        if top.name.startswith("."):
            continue
        st = top.stat(follow_symlinks=False)
        if not stat.S_ISDIR(st.st_mode):
            if (r := _refusal(top.name, top.name, st)) is not None:
                refused.append(r)
            continue
        stack = [(Path(top.path), ())]
        while stack:
            folder, parts = stack.pop()
            try:
                children = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for child in children:
                rel_parts = (*parts, child.name)
                rel = "/".join((top.name, *rel_parts))
                if is_ignored(rel):
                    continue
                try:
                    st = child.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if (r := _refusal(top.name, rel, st)) is not None:
                    refused.append(r)
                elif stat.S_ISDIR(st.st_mode):
                    stack.append((Path(child.path), rel_parts))
                else:
                    entries.append(InboxEntry(top.name, Path(child.path), rel))
    entries.sort(key=lambda e: (e.unit_folder, e.rel))
    return entries, refused


def received_time(path: Path, tz: str) -> dt.datetime:
    """When a file arrived in the inbox: its inode change time (set when it was created or moved there;
    copy tools can preserve the modification time, not this). Never follows a link."""
    return dt.datetime.fromtimestamp(os.lstat(path).st_ctime, ZoneInfo(tz))


def _ledger(settings: Settings) -> Path:
    return settings.landing / "refusals.jsonl"


def record_refusals(settings: Settings, refused: list[Refusal], at: dt.datetime) -> list[Refusal]:
    """Append the refusals not recorded before (by :attr:`Refusal.key`) to the ledger; returns those new ones."""
    ledger = _ledger(settings)
    known: set[str] = set()
    if ledger.exists():
        for line in ledger.read_text(encoding="utf-8").splitlines():
            if line.strip():
                known.add(json.loads(line)["key"])
    new = [r for r in refused if r.key not in known]
    if new:
        ledger.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(ledger, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            for r in new:
                fh.write(json.dumps({**asdict(r), "at": at.isoformat()}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    return new
