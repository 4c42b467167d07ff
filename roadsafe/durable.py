"""Small file-system facts every atomic writer here relies on (landing, snapshot publish, editions, backups)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fsync_dir", "private_dir", "process_alive"]


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
