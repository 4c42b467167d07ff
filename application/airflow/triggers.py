"""Event trigger that watches the roadsafe inbox for new or changed submission files.

`InboxTrigger` is the trigger behind ``AssetWatcher("inbox_watcher")`` on ``Asset("roadsafe_inbox")``.
It runs inside the Airflow triggerer (which imports it from the pip-installed ``roadsafe`` package):

- it polls ``inbox`` recursively every ``poll_interval`` seconds;
- a file is announced (one ``TriggerEvent`` each) once its size and mtime have not changed for
  ``settle_seconds``, so a unit still copying a large workbook is not read half-written;
- a file is identified by its relative path + size + mtime_ns: a changed file is announced again;
- temporary names are ignored: ``~$*`` (Excel lock files), ``.*`` (hidden files and folders),
  ``*.tmp``, ``*.part``;
- it never deletes, moves, creates or opens anything for writing: the inbox is the units' record;
- it never returns;
- what it has announced is remembered in the asset's ``asset_state_store`` (Airflow 3.3), one key per
  file, so a triggerer restart does not announce every file again.

Losing an event is harmless by design: the ingest task processes *every* pending inbox file, not only
the files named in the events that started its run.

Only the standard library and ``airflow.triggers.base`` are imported here (the triggerer imports this
module, and the DAG files import it at parse time).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from ingest.inbox import is_ignored

__all__ = [
    "InboxTrigger",
    "MemoryStateStore",
    "RoadsafeInboxTrigger",
    "inbox_from_env",
    "is_ignored",
    "scan_inbox",
    "state_key",
]

"""Names (of a file or of any folder on its path) that are never announced."""

_KEY_PREFIX = "inbox:"
_MAX_KEY = 500  # asset_state_store.key is VARCHAR(512)


class StateStore(Protocol):
    """The part of Airflow's ``AssetStateStoreAccessors`` the trigger uses (the async accessors)."""

    async def aget(self, key: str, default: Any = None) -> Any: ...

    async def aset(self, key: str, value: Any) -> None: ...


class MemoryStateStore:
    """In-process stand-in for the asset state store.

    Used when the trigger runs without a triggerer (``asset_state_store`` is None), e.g. in unit tests
    or a debugger. Sharing one instance between two triggers simulates a triggerer restart.
    """

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        if value is None:
            raise ValueError("Cannot set value as None")
        self.data[key] = value


@dataclass(frozen=True)
class FileSig:
    """What identifies one version of an inbox file."""

    size: int
    mtime_ns: int


def inbox_from_env() -> str:
    """Absolute ``$ROADSAFE_HOME/inbox`` (``ROADSAFE_HOME`` defaults to ``./var``)."""
    home = os.environ.get("ROADSAFE_HOME") or "var"
    return os.path.abspath(os.path.join(home, "inbox"))


def scan_inbox(inbox: str) -> dict[str, FileSig]:
    """Stat every regular, non-temporary file under ``inbox`` (read-only; missing inbox → empty)."""
    found: dict[str, FileSig] = {}
    if not os.path.isdir(inbox):
        return found
    for dirpath, dirnames, filenames in os.walk(inbox, followlinks=False):
        # prune hidden / temporary folders in place so os.walk does not descend into them
        base = os.path.relpath(dirpath, inbox).replace(os.sep, "/")
        dirnames[:] = sorted(d for d in dirnames if not is_ignored(f"{base}/{d}".removeprefix("./")))
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, inbox).replace(os.sep, "/")
            if is_ignored(rel):
                continue
            try:
                st = os.lstat(full)  # never through a link: ingest refuses links, so do not announce them
            except (FileNotFoundError, NotADirectoryError):
                continue  # vanished between listing and stat
            if not stat.S_ISREG(st.st_mode):
                continue
            found[rel] = FileSig(size=st.st_size, mtime_ns=st.st_mtime_ns)
    return found


def state_key(relpath: str) -> str:
    """The asset_state_store key remembering what was announced for ``relpath``."""
    key = _KEY_PREFIX + relpath
    if len(key) <= _MAX_KEY:
        return key
    return _KEY_PREFIX + "#" + hashlib.sha256(relpath.encode("utf-8")).hexdigest()


def _sig_from_state(value: Any) -> FileSig | None:
    if isinstance(value, dict) and "size" in value and "mtime_ns" in value:
        try:
            return FileSig(size=int(value["size"]), mtime_ns=int(value["mtime_ns"]))
        except (TypeError, ValueError):
            return None
    return None


class InboxTrigger(BaseEventTrigger):
    """Yield one event per new or changed, settled file under ``inbox``; never returns.

    :param inbox: absolute path of the watched folder (``$ROADSAFE_HOME/inbox``), scanned recursively.
    :param settle_seconds: a file is announced once its size and mtime were unchanged this long.
    :param poll_interval: seconds between two scans (the trigger wakes earlier when a file is about
        to settle).

    Event payload: ``{"path": "<relative path>", "size": int, "mtime_ns": int, "inbox": str}``.
    """

    def __init__(self, *, inbox: str, settle_seconds: float = 2.0, poll_interval: float = 5.0) -> None:
        super().__init__()
        self.inbox = inbox
        self.settle_seconds = float(settle_seconds)
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "inbox": self.inbox,
                "settle_seconds": self.settle_seconds,
                "poll_interval": self.poll_interval,
            },
        )

    def _store(self) -> StateStore:
        store = getattr(self, "asset_state_store", None)
        if store is None:
            self.log.warning(
                "InboxTrigger has no asset_state_store (not run by a triggerer for a watched asset); "
                "remembering announced files in memory only"
            )
            store = MemoryStateStore()
            self.asset_state_store = store  # type: ignore[assignment]
        return store

    async def run(self) -> AsyncIterator[TriggerEvent]:
        store = self._store()
        announced: dict[str, FileSig | None] = {}  # cache of the store, filled on first sight
        pending: dict[str, tuple[FileSig, float]] = {}  # relpath -> (signature, monotonic first seen)
        warned_missing = False

        while True:
            try:
                snapshot = await asyncio.to_thread(scan_inbox, self.inbox)
            except OSError as exc:  # transient I/O trouble (NFS, permissions being fixed): keep polling
                self.log.warning("Cannot scan inbox %s: %s", self.inbox, exc)
                snapshot = {}
            if not snapshot and not os.path.isdir(self.inbox) and not warned_missing:
                self.log.warning("Inbox %s does not exist (yet); watching for it", self.inbox)
                warned_missing = True

            now = time.monotonic()
            for rel in sorted(snapshot):
                sig = snapshot[rel]
                if rel not in announced:
                    announced[rel] = _sig_from_state(await store.aget(state_key(rel)))
                if announced[rel] == sig:
                    pending.pop(rel, None)
                    continue
                seen = pending.get(rel)
                if seen is None or seen[0] != sig:
                    pending[rel] = (sig, now)  # new or still changing: (re)start the settle clock
                    continue
                if now - seen[1] < self.settle_seconds:
                    continue
                payload = {"path": rel, "size": sig.size, "mtime_ns": sig.mtime_ns, "inbox": self.inbox}
                self.log.info("Inbox file settled: %s (%d bytes)", rel, sig.size)
                yield TriggerEvent(payload)
                # Remember only after the event is queued: a crash in between re-announces (harmless,
                # ingest is idempotent) instead of forgetting the file.
                await store.aset(state_key(rel), {"path": rel, "size": sig.size, "mtime_ns": sig.mtime_ns})
                announced[rel] = sig
                pending.pop(rel, None)

            for rel in [r for r in pending if r not in snapshot]:
                del pending[rel]  # deleted or renamed away before it settled
            for rel in [r for r in announced if r not in snapshot]:
                del announced[rel]  # re-read from the store if the name comes back

            await asyncio.sleep(self._next_sleep(pending, time.monotonic()))

    def _next_sleep(self, pending: dict[str, tuple[FileSig, float]], now: float) -> float:
        """Poll interval, shortened so a pending file is checked right when it should have settled."""
        delay = self.poll_interval
        for _sig, first_seen in pending.values():
            delay = min(delay, max(0.05, first_seen + self.settle_seconds - now + 0.01))
        return delay


RoadsafeInboxTrigger = InboxTrigger
"""The name used in docs/ARCHITECTURE.md."""
