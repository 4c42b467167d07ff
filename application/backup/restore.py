"""Restoring a home from a backup archive: every member checked before anything is moved into place."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import tarfile
import time
import zlib
from pathlib import Path, PurePosixPath

from application.backup.results import (
    _CHUNK,
    _HOME,
    _MAX_NAMED,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    BackupError,
    RestoreResult,
    _os_error,
    _private_dirs,
    _private_file,
    _remove_stale,
    _stamp,
    _version,
)
from roadsafe.durable import fsync_dir
from roadsafe.settings import Settings


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
        _private_dirs(staging)
        with gzip.open(archive, "rb") as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    current = member.name
                    if member.name == MANIFEST_NAME and member.isreg():
                        manifest_bytes = tar.extractfile(member).read()
                        continue
                    rel = _member_path(member.name)
                    # only plain files: links, devices, fifos and set-uid/set-gid/sticky bits are refused
                    if rel is None or not member.isreg() or member.mode & 0o7000 or member.name in got:
                        bad.append(member.name)
                        continue
                    got[member.name] = _extract(tar, member, staging / rel, _live_mode(rel))
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


def _live_mode(rel: PurePosixPath) -> int:
    """The mode the live code gives a restored file: landed originals are read-only (0400, as the landing
    zone stores them), everything else is the owner's alone (0600). The archive's own modes are ignored."""
    if rel.parts[0] == "landing" and rel.parts[1] != "receipts":
        return 0o400
    if rel.parts[:2] == ("office", "evidence"):  # the office's evidence files, stored read-only like originals
        return 0o400
    return 0o600


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, mode: int) -> tuple[int, str]:
    _private_dirs(dest.parent)
    src = tar.extractfile(member)
    h = hashlib.sha256()
    size = 0
    with _private_file(dest) as out:  # 0600 whatever the archive says: its modes are not applied
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    os.chmod(dest, mode)
    os.utime(dest, (member.mtime, member.mtime))
    return size, h.hexdigest()


# --------------------------------------------------------------------------- rebuild from the landing zone
