"""Backup and restore of ``$ROADSAFE_HOME``, and the proof of a backup: every figure rebuilt from the
landing zone alone.

What a backup holds (the state that cannot be made again; everything else is derived or transient)::

    MANIFEST.json                            last member: format, version, times, campaign, every file
    home/warehouse.duckdb                    copied under the writer's lock after CHECKPOINT
    home/published/warehouse.duckdb          the read-only snapshot readers had (opened under that lock)
    home/portal/users.sqlite3                the portal's accounts, via sqlite's online backup API
    home/landing/receipts/*.json             every receipt sidecar
    home/landing/ab/abcdef….xlsx             every original file, as received
    home/reports/<kind>/<ref>/…              every frozen edition (snapshot, HTML, PDF, XLSX, manifest)

Left out on purpose: ``site/``, ``dbt/``, ``logs/``, ``tmp/``, ``samples/`` (made again by ``roadsafe
site``/``build``/``samples``), ``inbox/`` (drop folders: every file taken from them is in the landing zone),
``portal/secret`` (the cookie-signing key is a credential; a restored portal makes a new one and users log
in again), Airflow's metadata database and the mail outboxes.

**Why a file copy under the lock, not EXPORT DATABASE.** The warehouse is copied the way
:func:`roadsafe.warehouse.publish_snapshot` publishes the snapshot: take a turn among the warehouse writers
(:func:`roadsafe.warehouse.writer_turn`: a running build is waited for, submissions queue behind), open a
writable connection (DuckDB allows one writing process, so nothing can write meanwhile), ``CHECKPOINT`` (the
WAL is folded into the file), copy the file, release the lock. The copy is the database byte for byte — every schema, view, sequence,
comment and type — it takes well under a second for the sample campaign's warehouse, and writers wait only
that long. ``EXPORT DATABASE`` would need the same lock for longer (it rewrites every table as Parquet/CSV),
and an import re-creates objects from generated SQL, so views, comments and types come back only as well as
that round trip carries them; its one advantage, independence from DuckDB's storage version, is covered
by recording the DuckDB version in the manifest (DuckDB reads files written by older versions).

Consistency while the system runs: under the lock the published snapshot is opened (a later publish replaces
the path, not the open file) and the warehouse copied; only then are the landing zone's receipts listed, and
then its files. Landing happens before loading, so every submission in the copied warehouse has its receipt
and file in the backup (a file landed afterwards is in it as pending, exactly as after a crash).

The archive is a gzip-compressed tar written to a hidden ``.<name>.<pid>.part`` file in the output folder,
fsynced and renamed when complete: a killed backup leaves only that ``.part`` file (no manifest, a truncated
gzip stream), never a file under the archive's name. A later backup removes ``.part`` files of processes
that are gone.

Restore reads the whole archive into a hidden folder beside the target, checking every member's size and
sha256 against the manifest (and the gzip CRC), and only then moves it into place with a rename; the target
is not touched before everything checks out. A target that already holds files is refused unless ``force``;
then the old folder is moved aside (renamed, kept), never deleted.

:func:`rebuild_from_landing` re-ingests every landed original, in the order it was received, with its
receipt (receive time, unit, channel, submitter, names) into a fresh warehouse under ``tmp/``, runs the dbt
build there and compares the registry, the ``ref`` tables and every ``marts`` table row for row with the
warehouse of the home.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from roadsafe.durable import fsync_dir, process_alive
from roadsafe.settings import Settings

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "BackupError",
    "BackupResult",
    "RebuildResult",
    "RestoreResult",
    "backup",
    "compare_warehouses",
    "copy_warehouse",
    "rebuild_from_landing",
    "restore",
]

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


def _connect_writer(path: Path, wait: float, what: str, start: float):
    """A writable DuckDB connection (the writer's lock), waiting up to ``wait`` more seconds while a process
    outside the writers' queue holds the file (polled every 20-250 ms, jittered)."""
    import random

    import duckdb

    until = time.monotonic() + wait
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= until:
                raise _busy(path, time.monotonic() - start, what) from exc
            time.sleep(min(delay * random.uniform(0.5, 1.0), max(0.0, until - time.monotonic())))
            delay = min(delay * 1.5, 0.25)


def copy_warehouse(settings: Settings, dest: Path, *, wait: float = 300.0, what: str = "未生成备份"):
    """Copy the warehouse to ``dest`` under the writer's lock after a CHECKPOINT (as the build publishes the
    snapshot). Returns the published snapshot opened under the same lock (a binary file object), or None.

    The copy first takes its turn among the warehouse writers (:func:`roadsafe.warehouse.writer_turn`, as
    ingest and the build do): it waits for a running build to finish instead of holding the file when dbt
    starts, and submissions arriving meanwhile queue behind it for the moment of the copy. ``dest`` is
    fsynced; the caller closes the returned file.
    """
    from roadsafe.warehouse import WarehouseBusy, writer_turn

    start = time.monotonic()
    try:
        with writer_turn(settings, wait=wait) as deadline:
            return _copy_locked(settings, dest, max(0.0, deadline - time.monotonic()), what, start)
    except WarehouseBusy as exc:
        raise _busy(settings.warehouse, time.monotonic() - start, what) from exc


def _busy(path: Path, waited: float, what: str) -> BackupError:
    return BackupError(
        f"数据仓库“{path}”正被其他程序占用（已等待{waited:.0f}秒），{what}，请稍后重试或用 --wait 延长等待时间。",
        unavailable=True,
    )


def _copy_locked(settings: Settings, dest: Path, wait: float, what: str, start: float):
    con = _connect_writer(settings.warehouse, wait, what, start)
    published = None
    try:
        if settings.published.is_file():
            published = open(settings.published, "rb")  # noqa: SIM115 - handed to the caller
        con.execute("checkpoint")
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


def _os_error(exc: OSError, full: str, other: str) -> BackupError:
    """``full`` for a full disk (or a file size limit), else ``other`` with the system's reason."""
    if exc.errno in _SPACE_ERRORS:
        return BackupError(full, unavailable=True)
    return BackupError(other.format(reason=exc.strerror or exc))


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
        target.parent.mkdir(parents=True, exist_ok=True)
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
        staging.mkdir(parents=True)
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
        for path in receipts + landed + reports:
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


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


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
    with open(part, "xb") as raw:
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


def _files_in(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.rglob("*") if not p.is_dir())


def _in_use(warehouse: Path) -> bool:
    """Whether another process has the warehouse open (DuckDB holds an fcntl lock while it does)."""
    if not warehouse.is_file():
        return False
    try:
        fd = os.open(warehouse, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also releases the lock just taken
    return False


def _member_path(name: str) -> PurePosixPath | None:
    """``home/…`` as a safe relative path below the home, or None."""
    path = PurePosixPath(name)
    parts = path.parts
    if path.is_absolute() or len(parts) < 2 or parts[0] != _HOME or any(p in ("..", ".", "") for p in parts):
        return None
    return PurePosixPath(*parts[1:])


def _named(names: list[str]) -> str:
    shown = "、".join(f"“{n}”" for n in names[:_MAX_NAMED])
    return shown + (f"等{len(names)}个文件" if len(names) > _MAX_NAMED else "")


def restore(archive: str | os.PathLike, home: str | os.PathLike, *, force: bool = False) -> RestoreResult:
    """Restore a backup archive into ``home``.

    Every member is checked against the manifest (size, sha256; the gzip CRC; nothing but regular files
    under ``home/``) while it is unpacked into a hidden folder beside ``home``; only when all of them check
    out is that folder renamed to ``home``. A ``home`` that holds files is refused unless ``force``; then it
    is renamed to ``<home>.replaced-<time>`` (kept) first.

    Raises
    ------
    BackupError
        archive missing, damaged or incomplete; a member's checksum differs from the manifest (named); the
        target holds data (without ``force``) or is in use; the disk is full. Nothing is changed then.
    """
    started = time.perf_counter()
    archive = Path(archive).expanduser().resolve()
    home = Path(home).expanduser().resolve()
    if not archive.is_file():
        raise BackupError(f"找不到备份文件“{archive}”，请检查路径。")
    existing = _files_in(home)
    aside = home.with_name(f"{home.name}.replaced-{_stamp()}")
    n = 1
    while aside.exists():
        n += 1
        aside = home.with_name(f"{home.name}.replaced-{_stamp()}-{n}")
    if existing and not force:
        raise BackupError(
            f"目标数据目录“{home}”中已有数据（{existing}个文件），为免覆盖，未恢复任何内容。"
            f"如确需用备份替换现有数据，请加 --force（现有数据目录将整体改名保留为“{aside.name}”）。"
        )
    if _in_use(home / "warehouse.duckdb"):
        raise BackupError(
            f"目标数据目录“{home}”的数据仓库正被其他程序使用，未恢复任何内容；"
            f"请先停止 roadsafe 的各项服务（Airflow、上传门户等）后再恢复。"
        )
    full = (
        f"磁盘空间不足，未能将备份恢复到“{home}”（未留下不完整的文件，原有数据未受影响），"
        f"请清理磁盘空间后重试。"
    )
    try:
        home.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, full, f"未能创建目录“{home.parent}”（{{reason}}），未恢复任何内容。") from exc
    _remove_stale(home.parent, re.escape(f".{home.name}.restoring-") + r"(\d+)")
    staging = home.parent / f".{home.name}.restoring-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        manifest, files, total = _unpack(archive, staging, full)
        notes = _restore_notes(manifest)
        moved = None
        if home.exists():
            os.rename(home, aside)
            moved = aside
        try:
            os.rename(staging, home)
        except BaseException:
            if moved is not None:
                os.rename(moved, home)
            raise
        fsync_dir(home.parent)
        if moved is not None and not existing:  # only empty folders were there
            shutil.rmtree(moved, ignore_errors=True)
            moved = None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    Settings(home=home, campaign_code=manifest.get("campaign_code") or "jiujiang-2022").ensure()
    return RestoreResult(
        home=home,
        files=files,
        bytes=total,
        seconds=round(time.perf_counter() - started, 3),
        manifest=manifest,
        moved_aside=moved,
        notes=notes,
    )


def _restore_notes(manifest: dict) -> list[str]:
    notes = []
    wanted, have = manifest.get("duckdb_version"), _version("duckdb")
    if wanted and have and wanted != have:
        notes.append(
            f"注意：备份时的 DuckDB 版本为 {wanted}，本机为 {have}；如数据仓库无法打开，请安装与备份时相同的版本。"
        )
    return notes


def _damaged(archive: Path, detail: str) -> BackupError:
    return BackupError(f"备份文件“{archive.name}”已损坏或不完整（{detail}），未恢复任何内容。")


def _unpack(archive: Path, staging: Path, full: str) -> tuple[dict, int, int]:
    """Unpack into ``staging``, checking everything; returns (manifest, files, bytes)."""
    got: dict[str, tuple[int, str]] = {}
    manifest_bytes: bytes | None = None
    current = None
    bad: list[str] = []
    try:
        staging.mkdir(parents=True)
        with gzip.open(archive, "rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    current = member.name
                    if member.name == MANIFEST_NAME and member.isreg():
                        manifest_bytes = tar.extractfile(member).read()
                        continue
                    rel = _member_path(member.name)
                    if rel is None or not member.isreg() or member.name in got:
                        bad.append(member.name)
                        continue
                    got[member.name] = _extract(tar, member, staging / rel)
                current = None
            while gz.read(_CHUNK):  # to the end: the gzip trailer's CRC and length are checked
                pass
    except OSError as exc:
        if isinstance(exc, EOFError | gzip.BadGzipFile) or exc.errno is None:
            raise _damaged(archive, _where(current) + _reason(exc)) from exc
        raise _os_error(exc, full, "未能恢复备份（{reason}），原有数据未受影响。") from exc
    except (EOFError, tarfile.TarError, zlib.error) as exc:
        raise _damaged(archive, _where(current) + _reason(exc)) from exc
    if bad:
        raise BackupError(
            f"备份文件“{archive.name}”中有不应出现的条目 {_named(bad)}（只应有 home/ 下的普通文件），"
            f"未恢复任何内容。"
        )
    if manifest_bytes is None:
        raise BackupError(
            f"备份文件“{archive.name}”缺少清单 {MANIFEST_NAME}，不是完整的 roadsafe 备份，未恢复任何内容。"
        )
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), list):
            raise ValueError(manifest.get("format"))
        version = int(manifest.get("format_version"))
        listed = {f["path"]: (int(f["size"]), str(f["sha256"])) for f in manifest["files"]}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BackupError(
            f"备份文件“{archive.name}”的清单 {MANIFEST_NAME} 无法识别，不是有效的 roadsafe 备份，未恢复任何内容。"
        ) from exc
    if version > FORMAT_VERSION:
        raise BackupError(
            f"备份文件“{archive.name}”的格式版本为 {version}，本程序只支持 {FORMAT_VERSION} 及以下版本，"
            f"请先升级 roadsafe 再恢复。"
        )
    mismatched = sorted(name for name in listed.keys() & got.keys() if listed[name] != got[name])
    if mismatched:
        name = mismatched[0]
        (size, sha), (got_size, got_sha) = listed[name], got[name]
        detail = (
            f"清单记录 sha256 {sha[:16]}…，实际为 {got_sha[:16]}…"
            if size == got_size
            else f"清单记录 {size} 字节，实际为 {got_size} 字节"
        )
        raise BackupError(
            f"备份文件“{archive.name}”中 {_named(mismatched)} 的校验和与清单不符（“{name}”：{detail}），"
            f"备份已损坏，未恢复任何内容。"
        )
    missing = sorted(listed.keys() - got.keys())
    if missing:
        raise BackupError(
            f"备份文件“{archive.name}”缺少清单所列的 {_named(missing)}，备份不完整，未恢复任何内容。"
        )
    extra = sorted(got.keys() - listed.keys())
    if extra:
        raise BackupError(
            f"备份文件“{archive.name}”中的 {_named(extra)} 不在清单之内，无法确认其来源，未恢复任何内容。"
        )
    if (staging / "portal").is_dir():
        os.chmod(staging / "portal", 0o700)
    _sync_tree(staging)
    return manifest, len(got), sum(size for size, _ in got.values())


def _sync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (once everything checked out: a damaged archive is
    refused without paying for it)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def _where(member: str | None) -> str:
    return f"读取“{member}”时出错：" if member else ""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "文件在中途截断"
    if isinstance(exc, gzip.BadGzipFile) or "CRC" in str(exc):
        return "压缩数据校验失败"
    if isinstance(exc, zlib.error):
        return "压缩数据无法解开"
    return "归档格式错误"


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path) -> tuple[int, str]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = tar.extractfile(member)
    h = hashlib.sha256()
    size = 0
    with open(dest, "xb") as out:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    os.chmod(dest, member.mode & 0o777 or 0o644)
    os.utime(dest, (member.mtime, member.mtime))
    return size, h.hexdigest()


# --------------------------------------------------------------------------- rebuild from the landing zone


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
    from ingest.service import ProcessingFailed, _load

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
                    _load(con, work, campaign, r)
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


def _has_table(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchall()
    )


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


# --------------------------------------------------------------------------- comparing two warehouses

_ID = re.compile(r"\bS\d{6}\b")
_EXAMPLES = 2


class _Normaliser:
    """Makes values of the two warehouses comparable: submission ids mapped to their receipt (only when the
    numbering differs), floats to 12 significant digits (sums may differ in the last bit with the order of
    a parallel aggregate), NaN to one token, structs to sorted pairs, and — when ids were mapped — lists
    sorted (lists of ``submission_id:sheet:row`` are ordered by id)."""

    def __init__(self, ids: dict[str, str] | None):
        self.ids = ids

    def _sub(self, match: re.Match) -> str:
        return self.ids.get(match.group(0), match.group(0))

    def __call__(self, value):
        if isinstance(value, str):
            return _ID.sub(self._sub, value) if self.ids else value
        if isinstance(value, float):
            if value != value:
                return "NaN"
            return float(f"{value:.12g}")
        if isinstance(value, list | tuple):
            items = tuple(self(v) for v in value)
            return tuple(sorted(items, key=repr)) if self.ids else items
        if isinstance(value, dict):
            return tuple(sorted((str(k), self(v)) for k, v in value.items()))
        return value


def _tables(con, schemas: tuple[str, ...]) -> set[str]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in "
        f"({', '.join('?' for _ in schemas)})",
        list(schemas),
    ).fetchall()
    return {f"{s}.{t}" for s, t in rows if "__dbt_" not in t}


def _columns(con, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, name],
        ).fetchall()
    ]


def _id_map(con) -> dict[str, str]:
    if not _has_table(con, "raw", "submissions"):
        return {}
    return {
        sid: receipt
        for sid, receipt in con.execute(
            "select submission_id, receipt_id from raw.submissions where receipt_id is not null"
        ).fetchall()
    }


def compare_warehouses(reference: Path, rebuilt: Path, *, campaign_code: str | None = None) -> Comparison:
    """Compare the registry, every ``ref`` and every ``marts`` table of two warehouse files row for row (as
    multisets; column order aside)."""
    import duckdb

    a = duckdb.connect(str(reference), read_only=True)
    b = duckdb.connect(str(rebuilt), read_only=True)
    try:
        ids_a, ids_b = _id_map(a), _id_map(b)
        common = {r for r in ids_a.values()} & {r for r in ids_b.values()}
        by_receipt_b = {r: sid for sid, r in ids_b.items()}
        renumbered = sum(1 for sid, r in ids_a.items() if r in common and by_receipt_b[r] != sid)
        if renumbered:
            norm_a = _Normaliser({sid: f"<{r}>" for sid, r in ids_a.items()})
            norm_b = _Normaliser({sid: f"<{r}>" for sid, r in ids_b.items()})
        else:
            norm_a = norm_b = _Normaliser(None)
        wanted = ("raw.submissions", "raw.submission_messages")
        names = sorted(
            (_tables(a, ("marts", "ref")) | _tables(b, ("marts", "ref")))
            | {t for t in wanted if t in _tables(a, ("raw",)) | _tables(b, ("raw",))}
        )
        diffs = []
        for table in names:
            diffs.append(_compare_table(a, b, table, norm_a, norm_b))
        return Comparison(diffs, renumbered, _stale_marts(a, campaign_code))
    finally:
        a.close()
        b.close()


def _stale_marts(con, campaign_code: str | None) -> int:
    """How many submissions of the campaign the reference's marts do not show yet (loaded after its last
    build)."""
    if not (_has_table(con, "marts", "fct_submissions") and _has_table(con, "raw", "submissions")):
        return 0
    sql = "select count(*) from raw.submissions" + (" where campaign_code = ?" if campaign_code else "")
    raw = con.execute(sql, [campaign_code] if campaign_code else []).fetchall()[0][0]
    built = con.execute("select count(*) from marts.fct_submissions").fetchall()[0][0]
    return max(0, raw - built)


def _compare_table(a, b, table: str, norm_a: _Normaliser, norm_b: _Normaliser) -> TableDiff:
    cols_a, cols_b = _columns(a, table), _columns(b, table)
    if not cols_a or not cols_b:
        where = "原数据仓库" if not cols_a else "重建结果"
        rows = _count(a, table) if cols_a else 0
        return TableDiff(table, rows, problem=f"{where}中没有这张表")
    if set(cols_a) != set(cols_b):
        only_a, only_b = sorted(set(cols_a) - set(cols_b)), sorted(set(cols_b) - set(cols_a))
        return TableDiff(
            table,
            _count(a, table),
            problem=f"列不同（仅原表有：{', '.join(only_a) or '无'}；仅重建表有：{', '.join(only_b) or '无'}）",
        )
    cols = sorted(cols_a)
    select = f"select {', '.join(_quote(c) for c in cols)} from {table}"
    rows_a = Counter(tuple(norm_a(v) for v in row) for row in a.execute(select).fetchall())
    rows_b = Counter(tuple(norm_b(v) for v in row) for row in b.execute(select).fetchall())
    only_a, only_b = rows_a - rows_b, rows_b - rows_a
    diff = TableDiff(
        table,
        sum(rows_a.values()),
        only_reference=sum(only_a.values()),
        only_rebuilt=sum(only_b.values()),
    )
    for label, rows in (("仅原数据仓库有", only_a), ("仅重建结果有", only_b)):
        for row in list(rows)[:_EXAMPLES]:
            text = ", ".join(f"{c}={v}" for c, v in zip(cols, row, strict=True))
            diff.examples.append(f"{label}：{text[:240]}")
    return diff


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count(con, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]
