"""The landing zone: every received file, stored immutably under its sha256, before anything reads it.

Layout (under ``$ROADSAFE_HOME``)::

    landing/ab/abcdef….xlsx           the original bytes; never overwritten, never deleted
    landing/receipts/<receipt_id>.json one per receipt: who sent which file, when, through which channel

A file is written to ``tmp/`` (same file system), fsynced, then linked into place; if a file with the same
content is already there, nothing is written. A receipt sidecar is written the same way *before* the file is
loaded, so a crash between landing and loading leaves the file on record and
:func:`ingest.service.process_inbox` loads it later (a receipt whose id is not in ``raw.submissions`` is
pending). The registry row in ``raw.submissions`` is the metadata record once the file is processed.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from roadsafe.durable import fsync_dir, private_dir
from roadsafe.settings import Settings

__all__ = [
    "Landed",
    "LandingError",
    "PendingReceipt",
    "UnsafeSource",
    "clean_stale_tmp",
    "land_bytes",
    "land_file",
    "read_receipts",
    "sha256_file",
]

_CHUNK = 4 << 20
_SPACE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class LandingError(Exception):
    """A file could not be stored in the landing zone. ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Landed:
    """A file in the landing zone."""

    sha256: str
    size: int
    path: Path
    already_there: bool


@dataclass(frozen=True)
class PendingReceipt:
    """What was received, written next to the landed file before it is loaded."""

    receipt_id: str
    sha256: str
    size: int
    stored_path: str  # relative to $ROADSAFE_HOME
    original_name: str
    unit: str | None  # as given (an alias, an id or an inbox folder name)
    unit_id: str | None
    form: str | None
    period: int | None
    channel: str
    submitted_by: str | None
    received_at: str  # ISO 8601 with offset
    source_path: str | None  # where it came from: the inbox path (relative to inbox/) or the CLI path

    @property
    def received(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.received_at)


def _ext(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if 1 < len(suffix) <= 8 and suffix[1:].isalnum() else ""


def landing_path(settings: Settings, sha: str, ext: str) -> Path:
    return settings.landing / sha[:2] / f"{sha}{ext}"


def sha256_file(path: Path) -> tuple[str, int]:
    """(hex sha256, size) of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _space_error(exc: OSError, name: str) -> LandingError:
    if exc.errno in _SPACE_ERRORS:
        return LandingError(
            f"磁盘空间不足，文件“{name}”未能保存到接收区（未留下不完整的文件），请清理磁盘空间后重新报送。"
        )
    return LandingError(f"文件“{name}”未能保存到接收区（{exc.strerror or exc}），请稍后重新报送。")


def _publish(tmp: Path, target: Path) -> bool:
    """Move a finished tmp file to ``target`` without ever replacing an existing file. True if placed."""
    private_dir(target.parent)
    try:
        os.link(tmp, target)  # atomic, and fails if target exists
        placed = True
    except FileExistsError:
        placed = False
    except OSError as exc:  # a file system without hard links
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        placed = not target.exists()
        if placed:
            os.rename(tmp, target)
    if tmp.exists():
        tmp.unlink()
    if placed:
        fsync_dir(target.parent)
    return placed


def _tmp_path(settings: Settings) -> Path:
    private_dir(settings.tmp)
    return settings.tmp / f"landing-{os.getpid()}-{secrets.token_hex(6)}.part"


class UnsafeSource(LandingError):
    """The offered path is not a plain file this process may read (a link, a device, a FIFO, another name
    for the same data, or a file changed while being read). ``kind`` says which; ``message`` is Chinese."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


def _open_source(src: Path, name: str, single_link: bool) -> tuple[int, os.stat_result]:
    """Open ``src`` without following a link and check the opened descriptor (no check-then-open race)."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeSource("symlink", f"“{name}”是符号链接（快捷方式），出于安全原因不予读取。") from exc
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeSource("special", f"“{name}”不是普通文件（管道、设备或套接字），不予读取。")
    if single_link and st.st_nlink > 1:
        os.close(fd)
        raise UnsafeSource("hardlink", f"文件“{name}”与其他位置的文件共用同一份数据（硬链接），出于安全原因不予读取。")
    return fd, st


def _copy_tmp(settings: Settings, src: Path, name: str, single_link: bool) -> tuple[Path, str, int]:
    """Copy ``src`` into tmp/ from one opened descriptor, hashing the bytes as they are kept, then fsync.
    A file whose size or modification time changed while it was read is not kept (:class:`UnsafeSource`,
    kind ``changed``): it is taken on a later scan, once it is complete."""
    fd, before = _open_source(src, name, single_link)
    tmp = _tmp_path(settings)
    h = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "rb") as fh, open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
            after = os.fstat(fh.fileno())
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or size != after.st_size:
            raise UnsafeSource("changed", f"文件“{name}”在读取过程中被改动，本次未接收；文件写完后将自动重新读取。")
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _space_error(exc, name) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, h.hexdigest(), size


def _write_tmp(settings: Settings, chunks: Iterator[bytes], name: str) -> tuple[Path, str, int]:
    tmp = _tmp_path(settings)
    h = hashlib.sha256()
    size = 0
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            for chunk in chunks:
                h.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _space_error(exc, name) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, h.hexdigest(), size


def land_file(
    settings: Settings, path: str | os.PathLike, original_name: str | None = None, *, single_link: bool = False
) -> Landed:
    """Store a copy of ``path`` in the landing zone (idempotent: the same bytes land once).

    The file is opened without following a link and must be a regular file (``single_link``: with no other
    name either, as for files from a unit's drop folder); otherwise :class:`UnsafeSource`, nothing read."""
    src = Path(path)
    name = original_name or src.name
    return _place(settings, *_copy_tmp(settings, src, name, single_link), name)


def land_bytes(settings: Settings, data: bytes, original_name: str) -> Landed:
    """Store uploaded bytes (the upload page) in the landing zone."""
    return _place(settings, *_write_tmp(settings, iter([data]), original_name), original_name)


def _place(settings: Settings, tmp: Path, sha: str, size: int, name: str) -> Landed:
    target = landing_path(settings, sha, _ext(name))
    try:
        placed = _publish(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _space_error(exc, name) from exc
    if placed:
        try:
            os.chmod(target, 0o400)
        except OSError:
            pass
    return Landed(sha, size, target, already_there=not placed)


def clean_stale_tmp(settings: Settings, older_than: float = 3600.0) -> int:
    """Remove half-written landing files left in ``tmp/`` by a killed process; returns how many.

    Only ``landing-*.part`` files older than ``older_than`` seconds: a landing in progress is never touched.
    """
    import time

    removed = 0
    if not settings.tmp.is_dir():
        return 0
    limit = time.time() - older_than
    for path in settings.tmp.glob("landing-*.part"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


# --------------------------------------------------------------------------- receipts


def receipts_dir(settings: Settings) -> Path:
    return settings.landing / "receipts"


def new_receipt_id(received_at: dt.datetime, sha: str) -> str:
    stamp = received_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{sha[:12]}-{secrets.token_hex(4)}"


def write_receipt(settings: Settings, receipt: PendingReceipt) -> Path:
    """Write the receipt sidecar atomically (tmp + fsync + rename)."""
    folder = receipts_dir(settings)
    private_dir(folder)
    target = folder / f"{receipt.receipt_id}.json"
    data = json.dumps(asdict(receipt), ensure_ascii=False, indent=1).encode("utf-8")
    tmp, _, _ = _write_tmp(settings, iter([data]), receipt.original_name)
    try:
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _space_error(exc, receipt.original_name) from exc
    fsync_dir(folder)
    return target


def read_receipts(settings: Settings) -> list[PendingReceipt]:
    """Every receipt sidecar, oldest received first (unreadable sidecars are skipped)."""
    folder = receipts_dir(settings)
    out: list[PendingReceipt] = []
    if not folder.is_dir():
        return out
    for path in folder.glob("*.json"):
        try:
            out.append(PendingReceipt(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    out.sort(key=lambda r: (r.received, r.receipt_id))
    return out
