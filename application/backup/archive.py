"""Making a backup: the warehouse copied under the writer's lock, then a tar.gz with its manifest."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from application.backup.results import (
    _HOME,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    BackupError,
    BackupResult,
    _now,
    _os_error,
    _private_dirs,
    _private_file,
    _remove_stale,
    _stamp,
    _version,
)
from roadsafe.durable import fsync_dir
from roadsafe.settings import Settings


def copy_warehouse(settings: Settings, dest: Path, *, wait: float = 300.0, what: str = "未生成备份"):
    """Copy the warehouse to ``dest`` under the writer's lock after a CHECKPOINT (as the build publishes the
    snapshot). Returns the published snapshot opened under the same lock (a binary file object), or None.

    The copy first takes its turn among the warehouse writers (:func:`roadsafe.warehouse.writer_turn`, as
    ingest and the build do): it waits for a running build to finish instead of holding the file when dbt
    starts, and submissions arriving meanwhile queue behind it for the moment of the copy. ``dest`` is
    fsynced; the caller closes the returned file.
    """
    from roadsafe.warehouse import WarehouseBusy, connect, writer_turn

    start = time.monotonic()
    try:
        with writer_turn(settings, wait=wait) as deadline:
            return _copy_locked(settings, dest, connect(settings, deadline=deadline))
    except WarehouseBusy as exc:
        raise _busy(settings.warehouse, time.monotonic() - start, what) from exc


def _busy(path: Path, waited: float, what: str) -> BackupError:
    return BackupError(
        f"数据仓库“{path}”正被其他程序占用（已等待{waited:.0f}秒），{what}，请稍后重试或用 --wait 延长等待时间。",
        unavailable=True,
    )


def _copy_locked(settings: Settings, dest: Path, con):
    """Under the writer's connection ``con``: open the published snapshot, CHECKPOINT, copy and fsync."""
    published = None
    try:
        if settings.published.is_file():
            published = open(settings.published, "rb")  # noqa: SIM115 - handed to the caller
        con.execute("checkpoint")
        dest.unlink(missing_ok=True)
        _private_file(dest).close()  # 0600 before any byte is copied
        shutil.copyfile(settings.warehouse, dest)
        with open(dest, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        if published is not None:
            published.close()
        dest.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return published


# --------------------------------------------------------------------------- backup


class _HashingReader:
    """Reads through to ``fh`` and hashes what was read (tarfile reads exactly the member's size)."""

    def __init__(self, fh):
        self.fh = fh
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


@dataclass
class _Source:
    arcname: str  # home/…
    open: Callable[[], object]  # a binary file object, read from the start
    optional: bool = False  # may vanish meanwhile (an edition being refrozen): then left out


def _tree(root: Path) -> Iterator[Path]:
    """Regular files under ``root`` in a stable order, skipping hidden names (staging folders, temp files)
    and ``*.tmp``/``*.part``."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith((".tmp", ".part")):
                continue
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _default_name(settings: Settings) -> str:
    return f"roadsafe-{settings.campaign_code}-{_stamp()}.tar.gz"


def _output_path(settings: Settings, out: str | os.PathLike | None) -> Path:
    if out is None:
        return settings.home / "backups" / _default_name(settings)
    path = Path(out).expanduser().resolve()
    if path.is_dir() or str(out).endswith(("/", os.sep)):
        return path / _default_name(settings)
    return path


def backup(
    settings: Settings,
    out: str | os.PathLike | None = None,
    *,
    wait: float = 300.0,
    compresslevel: int = 6,
) -> BackupResult:
    """Write a backup archive of ``settings.home``; see the module docstring for what it holds.

    Parameters
    ----------
    out : path, optional
        The archive file, or a folder to put it in; default ``$ROADSAFE_HOME/backups/``. An existing file is
        never overwritten.
    wait : float
        Seconds to wait for the warehouse while another process writes to it.

    Raises
    ------
    BackupError
        the warehouse stayed locked, the output exists, or the disk is full (nothing is left behind).
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    target = _output_path(settings, out)
    if target.exists():
        raise BackupError(f"备份文件“{target}”已存在，为免覆盖，未生成备份，请另选文件名。")
    full = "磁盘空间不足，未能生成备份（未留下不完整的备份文件），请清理磁盘空间或另选保存位置后重试。"
    try:
        _private_dirs(target.parent)
        settings.tmp.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(
            exc, full, f"未能生成备份：无法创建目录“{target.parent}”（{{reason}}），请检查权限。"
        ) from exc
    # only our own leftovers: ".<archive name>.<pid>.part" of a backup that was killed
    _remove_stale(target.parent, rf"\.(?:roadsafe-.+\.tar\.gz|{re.escape(target.name)})\.(\d+)\.part")
    _remove_stale(settings.tmp, r"backup-(\d+)")
    staging = settings.tmp / f"backup-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    part = target.parent / f".{target.name}.{os.getpid()}.part"
    published = None
    try:
        _private_dirs(staging)
        sources: list[_Source] = []
        t = time.perf_counter()
        if settings.warehouse.is_file():
            copy = staging / "warehouse.duckdb"
            published = copy_warehouse(settings, copy, wait=wait)
            _check_duckdb(copy)
            sources.append(_Source(f"{_HOME}/warehouse.duckdb", lambda p=copy: open(p, "rb")))
        elif settings.published.is_file():
            published = open(settings.published, "rb")  # noqa: SIM115 - closed in finally
        timings["warehouse"] = round(time.perf_counter() - t, 3)
        if published is not None:
            handle = published
            sources.append(_Source(f"{_HOME}/published/warehouse.duckdb", lambda h=handle: _rewound(h)))
        users = settings.home / "portal" / "users.sqlite3"
        if users.is_file():
            copy = staging / "users.sqlite3"
            _sqlite_backup(users, copy)
            sources.append(_Source(f"{_HOME}/portal/users.sqlite3", lambda p=copy: open(p, "rb")))
        # receipts first, then the files: a receipt listed here has its file landed already
        receipts = list(_tree(settings.landing / "receipts"))
        landed = [p for p in _tree(settings.landing) if p.parent != settings.landing / "receipts"]
        reports = list(_tree(settings.reports))
        # the office's own data: its contacts (personal data) and the campaigns it imported
        office = [*_tree(settings.home / "contacts"), *_tree(settings.home / "campaigns")]
        office += list(_tree(settings.home / "office"))  # its decisions and evidence (roadsafe.office_record)
        for path in receipts + landed + reports + office:
            rel = path.relative_to(settings.home).as_posix()
            optional = path.is_relative_to(settings.reports)
            sources.append(_Source(f"{_HOME}/{rel}", lambda p=path: open(p, "rb"), optional))

        t = time.perf_counter()
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": _now().isoformat(),
            "campaign_code": settings.campaign_code,
            "source_home": str(settings.home),
            "roadsafe_version": _version("roadsafe"),
            "duckdb_version": _version("duckdb"),
            "counts": {"receipts": len(receipts), "landed_files": len(landed), "editions": 0},
            "files": [],
        }
        bytes_in = _write_archive(part, target.name, sources, manifest, compresslevel)
        timings["archive"] = round(time.perf_counter() - t, 3)
        os.rename(part, target)
        fsync_dir(target.parent)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise _os_error(exc, full, "未能生成备份（{reason}），未留下不完整的备份文件。") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        if published is not None:
            published.close()
        shutil.rmtree(staging, ignore_errors=True)
    return BackupResult(
        path=target,
        files=len(manifest["files"]),
        bytes_in=bytes_in,
        bytes_out=target.stat().st_size,
        seconds=round(time.perf_counter() - started, 3),
        manifest=manifest,
        timings=timings,
    )


def _rewound(fh):
    fh.seek(0)
    return _NoClose(fh)


class _NoClose:
    """The published snapshot's handle is closed by :func:`backup` itself."""

    def __init__(self, fh):
        self.fh = fh

    def read(self, n: int = -1) -> bytes:
        return self.fh.read(n)

    def fileno(self) -> int:
        return self.fh.fileno()

    def close(self) -> None:
        pass


def _check_duckdb(path: Path) -> None:
    """The copy opens and lists its tables (a copy DuckDB cannot read is no backup)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("select count(*) from duckdb_tables()").fetchall()
    finally:
        con.close()


def _sqlite_backup(source: Path, dest: Path) -> None:
    """A consistent copy of a live sqlite database (the online backup API; WAL included)."""
    import sqlite3

    src = sqlite3.connect(source, timeout=30)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    os.chmod(dest, 0o600)


def _write_archive(part: Path, name: str, sources: list[_Source], manifest: dict, level: int) -> int:
    total = 0
    with _private_file(part) as raw:
        with gzip.GzipFile(filename=name, mode="wb", compresslevel=level, fileobj=raw, mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for source in sources:
                    try:
                        fh = source.open()
                    except FileNotFoundError:
                        if source.optional:
                            continue
                        raise
                    try:
                        st = os.fstat(fh.fileno())
                        info = tarfile.TarInfo(source.arcname)
                        info.size = st.st_size
                        info.mtime = int(st.st_mtime)
                        info.mode = st.st_mode & 0o777
                        reader = _HashingReader(fh)
                        tar.addfile(info, reader)
                    finally:
                        fh.close()
                    manifest["files"].append(
                        {"path": source.arcname, "size": reader.size, "sha256": reader.sha.hexdigest()}
                    )
                    total += reader.size
                manifest["counts"]["editions"] = sum(
                    1
                    for f in manifest["files"]
                    if f["path"].startswith(f"{_HOME}/reports/") and f["path"].endswith("/edition.json")
                )
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size = len(data)
                info.mtime = int(time.time())
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        raw.flush()
        os.fsync(raw.fileno())
    return total


# --------------------------------------------------------------------------- restore
