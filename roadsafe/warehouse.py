"""The warehouse's one home: every process that opens the DuckDB file goes through here.

* Writers (ingest loads, the build, publishing, backups) take a turn in one queue (:func:`writer_turn`, an
  exclusive ``flock`` on ``warehouse.duckdb.writers``) and then open the file with :func:`connect`, which
  waits with a jittered back-off while a process outside the queue holds DuckDB's lock.
* :func:`publish_snapshot` copies the warehouse to ``published/warehouse.duckdb`` atomically; readers
  (reports, site, portal, exports, reminders) open that snapshot read-only with :func:`open_snapshot`.

``duckdb`` is imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from roadsafe.durable import fsync_dir, private_dir
from roadsafe.settings import Settings

__all__ = [
    "LOCK_WAIT_ENV",
    "SnapshotMissing",
    "WarehouseBusy",
    "connect",
    "lock_wait",
    "open_snapshot",
    "publish_snapshot",
    "queue_path",
    "writer_turn",
]


class WarehouseBusy(Exception):
    """Another process holds the warehouse. ``message`` is Chinese."""

    def __init__(self, path, waited: float, detail: str):
        self.message = (
            f"数据仓库 {path} 正被其他程序占用（已等待{waited:.0f}秒），"
            f"本次报送未处理，文件已留存，请稍后重试。"
        )
        super().__init__(f"{self.message}（{detail}）")


class SnapshotMissing(FileNotFoundError):
    """No published snapshot yet (run ``roadsafe build`` first). The text is Chinese."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


LOCK_WAIT_ENV = "ROADSAFE_LOCK_WAIT"
_DEFAULT_LOCK_WAIT = 120.0


def lock_wait() -> float:
    """Seconds a writer waits for the warehouse before giving up: ``$ROADSAFE_LOCK_WAIT``, default 120."""
    return float(os.environ.get(LOCK_WAIT_ENV) or _DEFAULT_LOCK_WAIT)


def queue_path(settings: Settings) -> Path:
    """The file ingest writers queue on (``warehouse.duckdb.writers``, an empty file next to the warehouse)."""
    return settings.warehouse.with_name(settings.warehouse.name + ".writers")


def _pause(delay: float, deadline: float) -> None:
    """Sleep a jittered ``delay`` (half to all of it), never past ``deadline``."""
    time.sleep(max(0.0, min(delay * random.uniform(0.5, 1.0), deadline - time.monotonic())))


def _take_turn(settings: Settings, deadline: float) -> int | None:
    """Wait for this process's turn among the ingest writers: an exclusive ``flock`` on
    :func:`queue_path`, polled (a cheap system call) every 5-50 ms, jittered. Returns the locked file
    descriptor (closing it ends the turn), or None when ``deadline`` passed first."""
    import fcntl

    fd = os.open(queue_path(settings), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    delay = 0.005
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return None
                _pause(delay, deadline)
                delay = min(delay * 1.5, 0.05)
    except BaseException:
        os.close(fd)
        raise


def connect(settings: Settings, *, wait: float | None = None, deadline: float | None = None):
    """``duckdb.connect`` on the warehouse file, retrying while another process holds DuckDB's lock
    (jittered back-off up to 0.5 s: a refused attempt costs a few milliseconds of CPU)."""
    import duckdb

    start = time.monotonic()
    if deadline is None:
        deadline = start + (lock_wait() if wait is None else wait)
    private_dir(settings.warehouse.parent)
    delay = 0.02
    while True:
        try:
            new = not settings.warehouse.exists()
            con = duckdb.connect(str(settings.warehouse))
            if new:
                os.chmod(settings.warehouse, 0o600)
            return con
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                waited = time.monotonic() - start
                raise WarehouseBusy(settings.warehouse, waited, str(exc).splitlines()[0]) from exc
            _pause(delay, deadline)
            delay = min(delay * 2, 0.5)


@contextmanager
def writer_turn(settings: Settings, *, wait: float | None = None) -> Iterator[float]:
    """Hold this process's turn among the warehouse writers for the block; yields the deadline (monotonic
    time) left for opening the file. :class:`WarehouseBusy` when the turn does not come within ``wait``
    seconds (:func:`lock_wait`). Any process about to write the warehouse may queue here too."""
    start = time.monotonic()
    deadline = start + (lock_wait() if wait is None else wait)
    private_dir(settings.warehouse.parent)
    turn = _take_turn(settings, deadline)
    if turn is None:
        waited = time.monotonic() - start
        raise WarehouseBusy(settings.warehouse, waited, "other writers queued ahead")
    try:
        yield deadline
    finally:
        os.close(turn)


def open_snapshot(path: Path):
    """A read-only connection to a published (or an edition's frozen) snapshot; :class:`SnapshotMissing`
    when there is none yet."""
    import duckdb

    if not Path(path).is_file():
        raise SnapshotMissing(f"尚未发布数据快照（{path}），请先运行 roadsafe build。")
    return duckdb.connect(str(path), read_only=True)


def publish_snapshot(settings: Settings, con=None) -> Path:
    """Copy the warehouse to ``settings.published`` atomically (temp file in the same folder + os.replace).

    ``con``: an open writable connection to the warehouse (the lock is held during the copy); if None,
    one is opened and closed here. Temp copies left by a publish that was killed are removed.
    """
    target = Path(settings.published)
    private_dir(target.parent)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    own = con is None
    if own:
        con = connect(settings, wait=60.0)
    try:
        # A publish killed half way leaves its temp copy; every publisher holds the writer's lock, so any
        # other temp copy here is such a leftover.
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            if stale != tmp:
                stale.unlink(missing_ok=True)
        con.execute("checkpoint")
        shutil.copyfile(settings.warehouse, tmp)
        os.chmod(tmp, 0o600)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if own:
            con.close()
    os.replace(tmp, target)
    fsync_dir(target.parent)
    return target
