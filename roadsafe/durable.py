"""Small file-system facts every atomic writer here relies on (landing, snapshot publish, editions, backups)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fsync_dir", "process_alive"]


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
