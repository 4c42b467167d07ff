"""What the backup commands return and raise, and the constants of the archive format."""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from roadsafe.durable import process_alive

FORMAT = "roadsafe-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "MANIFEST.json"
_HOME = "home"
_CHUNK = 1 << 20
_SPACE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_MAX_NAMED = 5


class BackupError(Exception):
    """A backup, restore or rebuild could not be done; ``message`` is Chinese and says what to do.
    ``unavailable`` marks a full disk or a warehouse that stayed locked (try again later; the command line
    exits 3) as against a refusal (a damaged archive, a target that holds data: exit 2)."""

    def __init__(self, message: str, *, unavailable: bool = False):
        super().__init__(message)
        self.message = message
        self.unavailable = unavailable


@dataclass
class BackupResult:
    path: Path
    files: int
    bytes_in: int  # the files' total size
    bytes_out: int  # the archive's size
    seconds: float
    manifest: dict
    timings: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        return (
            f"备份完成：{self.path}\n"
            f"共{self.files}个文件，原始大小 {_mb(self.bytes_in)}，压缩后 {_mb(self.bytes_out)}，"
            f"用时 {self.seconds:.1f} 秒（其中数据仓库加锁复制 {self.timings.get('warehouse', 0):.1f} 秒）。\n"
            f"请将备份文件另存到本机以外的位置。"
        )


@dataclass
class RestoreResult:
    home: Path
    files: int
    bytes: int
    seconds: float
    manifest: dict
    moved_aside: Path | None = None
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        m = self.manifest
        lines = [
            f"恢复完成：{self.home}",
            f"共{self.files}个文件（{_mb(self.bytes)}），每个文件的 sha256 校验均与清单一致，用时 {self.seconds:.1f} 秒。",
            f"备份时间 {m.get('created_at')}，专项整治活动 {m.get('campaign_code')}，"
            f"报送回执 {m.get('counts', {}).get('receipts', 0)} 份，报告期次 {m.get('counts', {}).get('editions', 0)} 期。",
        ]
        if self.moved_aside:
            lines.append(f"原数据目录已整体移至“{self.moved_aside}”，确认恢复无误后可自行删除。")
        lines += self.notes
        lines.append(
            "如需核对全部数字，请运行 roadsafe rebuild --from-landing（从接收区原始文件重建并逐行比对）。"
        )
        return "\n".join(lines)


@dataclass
class TableDiff:
    table: str
    rows: int  # rows in the home's warehouse
    only_reference: int = 0
    only_rebuilt: int = 0
    examples: list[str] = field(default_factory=list)
    problem: str | None = None  # the table is missing on one side or its columns differ

    @property
    def same(self) -> bool:
        return self.problem is None and not self.only_reference and not self.only_rebuilt


@dataclass
class Comparison:
    tables: list[TableDiff]
    renumbered: int = 0  # submissions whose id differs, matched through their receipt
    stale: int = 0  # submissions the reference loaded after its last build (its marts do not show them)

    @property
    def identical(self) -> bool:
        return all(t.same for t in self.tables)


@dataclass
class RebuildResult:
    identical: bool
    lines: list[str]
    receipts: int
    replayed: int
    comparison: Comparison | None = None
    rebuilt: Path | None = None  # the rebuilt warehouse, when kept
    timings: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join(self.lines)


# --------------------------------------------------------------------------- small helpers


def _mb(n: int) -> str:
    return f"{n / 1048576:.1f} MB"


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone().replace(microsecond=0)


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S")


def _remove_stale(folder: Path, pattern: str) -> int:
    """Remove files or folders matching ``pattern`` (a regex whose group 1 is a pid) left by dead processes."""
    if not folder.is_dir():
        return 0
    regex = re.compile(pattern)
    removed = 0
    for path in folder.iterdir():
        match = regex.fullmatch(path.name)
        if not match or process_alive(int(match.group(1))):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed


def _os_error(exc: OSError, full: str, other: str) -> BackupError:
    """``full`` for a full disk (or a file size limit), else ``other`` with the system's reason."""
    if exc.errno in _SPACE_ERRORS:
        return BackupError(full, unavailable=True)
    return BackupError(other.format(reason=exc.strerror or exc))


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents as 0700 folders whatever the umask (existing ones are left)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)


def _private_file(path: Path):
    """A new file opened for binary writing, created 0600 whatever the umask; refuses an existing path."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), "wb")
