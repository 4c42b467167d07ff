"""Small file-system facts every atomic writer here relies on (landing, snapshot publish, editions, backups)."""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["append_json_line", "fsync_dir", "private_dir", "process_alive", "read_json_lines"]


def fsync_dir(path: Path) -> None:
    """Make a rename or new entry in ``path`` durable (best effort: some file systems refuse a directory fsync)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (for telling a dead writer's leftovers from a live one's work)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def private_dir(path: Path) -> Path:
    """``mkdir -p`` where every folder this call creates is 0700 whatever the umask (existing ones are left
    as they are). Returns ``path``."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)
    return path


def append_json_line(path: Path, entry: dict) -> None:
    """Append ``entry`` as one JSON line to an append-only record (``O_APPEND``, one ``write``, mode 0600) and
    fsync it before returning, so a record is never rewritten and a crash loses at most the line being written."""
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        fsync_dir(path.parent)


def read_json_lines(path: Path) -> list[dict]:
    """The entries of an append-only record, oldest first; a line cut by a crash (never acknowledged) is skipped."""
    if not path.is_file():
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out
