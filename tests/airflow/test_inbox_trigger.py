"""InboxTrigger detection logic, run as a plain async generator on a temporary inbox (no Airflow running).

The asset state store is the trigger's ``asset_state_store`` attribute, which the triggerer fills with
Airflow's accessor; here a :class:`MemoryStateStore` (same ``aget``/``aset`` contract) stands in, and
sharing one store between two trigger instances is a triggerer restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from pathlib import Path

import pytest
from airflow.sdk import Asset, AssetWatcher
from airflow.triggers.base import BaseEventTrigger

from application.airflow.triggers import InboxTrigger, MemoryStateStore, is_ignored, scan_inbox, state_key

SETTLE = 0.3
POLL = 0.05


class Watch:
    """Runs a trigger in a background task and queues the payloads it yields."""

    def __init__(self, trigger: InboxTrigger) -> None:
        self.trigger = trigger
        self.events: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        async for event in self.trigger.run():
            await self.events.put((time.monotonic(), event.payload))

    async def next(self, timeout: float = 5.0) -> dict:
        if self.task.done():
            self.task.result()  # re-raise what killed the trigger
            raise AssertionError("the trigger returned; it must never return")
        return (await asyncio.wait_for(self.events.get(), timeout))[1]

    async def next_timed(self, timeout: float = 5.0) -> tuple[float, dict]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def quiet_for(self, seconds: float) -> list[dict]:
        """Whatever the trigger announces during ``seconds`` (expected: nothing)."""
        await asyncio.sleep(seconds)
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait()[1])
        assert not self.task.done(), "the trigger returned; it must never return"
        return out

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def make_trigger(inbox: Path, store: MemoryStateStore | None = None) -> InboxTrigger:
    trigger = InboxTrigger(inbox=str(inbox), settle_seconds=SETTLE, poll_interval=POLL)
    trigger.asset_state_store = store if store is not None else MemoryStateStore()
    return trigger


def tree(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every path under root with size, mtime_ns and content hash: proves nothing was touched."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.stat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, digest)
    return out


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=60))


def test_new_files_in_unit_folders_are_announced_once(tmp_path):
    inbox = tmp_path / "inbox"
    write(inbox / "xunyang" / "F1_第1周.xlsx", b"PK\x03\x04 workbook")
    write(inbox / "pingan" / "F2.csv", "县区,数量\n浔阳区,3\n".encode())

    async def scenario():
        watch = Watch(make_trigger(inbox))
        try:
            got = [await watch.next(), await watch.next()]
            assert await watch.quiet_for(5 * SETTLE) == []  # not announced again
            return got
        finally:
            await watch.stop()

    events = run(scenario())
    assert sorted(e["path"] for e in events) == ["pingan/F2.csv", "xunyang/F1_第1周.xlsx"]
    for e in events:
        st = (inbox / e["path"]).stat()
        assert (e["size"], e["mtime_ns"]) == (st.st_size, st.st_mtime_ns)
        assert e["inbox"] == str(inbox)


def test_two_files_20ms_apart_are_both_announced(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "u1").mkdir(parents=True)

    async def scenario():
        watch = Watch(make_trigger(inbox))
        try:
            await asyncio.sleep(3 * POLL)  # watching an empty inbox
            write(inbox / "u1" / "a.csv", b"a,b\n1,2\n")
            await asyncio.sleep(0.02)
            write(inbox / "u1" / "b.csv", b"a,b\n3,4\n")
            return {(await watch.next())["path"], (await watch.next())["path"]}
        finally:
            await watch.stop()

    assert run(scenario()) == {"u1/a.csv", "u1/b.csv"}


def test_a_growing_file_is_announced_only_once_its_size_is_stable(tmp_path):
    inbox = tmp_path / "inbox"
    target = inbox / "u1" / "big.xlsx"

    async def scenario():
        watch = Watch(make_trigger(inbox))
        try:
            write(target, b"x" * 1000)
            last_write = time.monotonic()
            for _ in range(8):  # keeps growing for ~0.8 s, longer than the settle time
                await asyncio.sleep(SETTLE / 3)
                with target.open("ab") as fh:
                    fh.write(b"y" * 1000)
                last_write = time.monotonic()
            at, payload = await watch.next_timed()
            return at - last_write, payload
        finally:
            await watch.stop()

    waited, payload = run(scenario())
    assert payload["size"] == 9000  # the complete file, never a partial one
    assert waited >= SETTLE * 0.9


def test_temporary_and_hidden_names_are_ignored(tmp_path):
    inbox = tmp_path / "inbox"
    for name in ("~$F1.xlsx", ".F1.xlsx.swp", "F1.xlsx.tmp", "F1.xlsx.part", ".hidden/F1.xlsx", ".DS_Store"):
        write(inbox / "u1" / name, b"temporary")
    write(inbox / "u1" / "F1.xlsx", b"real")

    async def scenario():
        watch = Watch(make_trigger(inbox))
        try:
            first = await watch.next()
            return [first, *await watch.quiet_for(5 * SETTLE)]
        finally:
            await watch.stop()

    assert [e["path"] for e in run(scenario())] == ["u1/F1.xlsx"]
    assert is_ignored("u1/~$a.xlsx") and is_ignored(".git/x") and is_ignored("a.part")
    assert not is_ignored("u1/第1周 F1.xlsx")
    assert set(scan_inbox(str(inbox))) == {"u1/F1.xlsx"}


def test_a_changed_file_is_announced_again(tmp_path):
    inbox = tmp_path / "inbox"
    target = write(inbox / "u1" / "F1.csv", b"v1\n")

    async def scenario():
        watch = Watch(make_trigger(inbox))
        try:
            first = await watch.next()
            await asyncio.sleep(0.05)
            target.write_bytes(b"version 2, corrected\n")
            second = await watch.next()
            return first, second, await watch.quiet_for(5 * SETTLE)
        finally:
            await watch.stop()

    first, second, rest = run(scenario())
    assert first["path"] == second["path"] == "u1/F1.csv"
    assert (first["size"], second["size"]) == (3, 21)
    assert rest == []


def test_what_was_announced_is_remembered_across_a_restart(tmp_path):
    inbox = tmp_path / "inbox"
    write(inbox / "u1" / "a.csv", b"a\n")
    write(inbox / "u1" / "b.csv", b"b\n")
    store = MemoryStateStore()

    async def before_restart():
        watch = Watch(make_trigger(inbox, store))
        try:
            return {(await watch.next())["path"], (await watch.next())["path"]}
        finally:
            await watch.stop()

    assert run(before_restart()) == {"u1/a.csv", "u1/b.csv"}
    assert store.data[state_key("u1/a.csv")]["size"] == 2

    # while the triggerer is down: one file changes, one arrives
    time.sleep(0.01)
    (inbox / "u1" / "b.csv").write_bytes(b"b, second version\n")
    write(inbox / "u2" / "c.csv", b"c\n")

    async def after_restart():
        watch = Watch(make_trigger(inbox, store))  # a new instance, as after a triggerer restart
        try:
            got = {(await watch.next())["path"], (await watch.next())["path"]}
            return got, await watch.quiet_for(5 * SETTLE)
        finally:
            await watch.stop()

    got, rest = run(after_restart())
    assert got == {"u1/b.csv", "u2/c.csv"}  # a.csv is not announced again
    assert rest == []


def test_the_trigger_never_touches_the_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    for i in range(5):
        write(inbox / f"u{i}" / f"F{i}.xlsx", os.urandom(2000))
    write(inbox / "u1" / "~$F1.xlsx", b"lock")
    before = tree(inbox)

    async def scenario():
        watch = Watch(make_trigger(inbox))
        try:
            for _ in range(5):
                await watch.next()
            await watch.quiet_for(3 * SETTLE)
        finally:
            await watch.stop()

    run(scenario())
    assert tree(inbox) == before  # nothing deleted, moved, rewritten or created


def test_a_missing_inbox_is_watched_until_it_appears_and_never_created(tmp_path):
    inbox = tmp_path / "not-yet"

    async def scenario():
        watch = Watch(make_trigger(inbox))
        try:
            assert await watch.quiet_for(4 * POLL) == []
            assert not inbox.exists()
            write(inbox / "u1" / "a.csv", b"a\n")
            return await watch.next()
        finally:
            await watch.stop()

    assert run(scenario())["path"] == "u1/a.csv"


def test_without_a_state_store_the_trigger_remembers_in_memory(tmp_path):
    inbox = tmp_path / "inbox"
    write(inbox / "u1" / "a.csv", b"a\n")
    trigger = InboxTrigger(inbox=str(inbox), settle_seconds=SETTLE, poll_interval=POLL)
    assert trigger.asset_state_store is None  # what BaseEventTrigger sets until the triggerer injects

    async def scenario():
        watch = Watch(trigger)
        try:
            return [await watch.next(), *await watch.quiet_for(4 * SETTLE)]
        finally:
            await watch.stop()

    assert [e["path"] for e in run(scenario())] == ["u1/a.csv"]
    assert isinstance(trigger.asset_state_store, MemoryStateStore)


def test_long_paths_get_a_bounded_state_key():
    short = state_key("u1/a.csv")
    assert short == "inbox:u1/a.csv"
    long_key = state_key("u1/" + "很长的文件名" * 200 + ".xlsx")
    assert len(long_key) <= 512 and long_key.startswith("inbox:#")


def test_serialize_round_trip_and_asset_watcher_accepts_it(tmp_path):
    trigger = InboxTrigger(inbox=str(tmp_path), settle_seconds=2, poll_interval=5)
    classpath, kwargs = trigger.serialize()
    assert classpath == "application.airflow.triggers.InboxTrigger"
    assert kwargs == {"inbox": str(tmp_path), "settle_seconds": 2.0, "poll_interval": 5.0}
    again = InboxTrigger(**kwargs)
    assert again.serialize() == (classpath, kwargs)
    assert isinstance(trigger, BaseEventTrigger)
    assert BaseEventTrigger.hash(classpath, kwargs) == BaseEventTrigger.hash(*again.serialize())
    asset = Asset("roadsafe_inbox", watchers=[AssetWatcher(name="inbox_watcher", trigger=trigger)])
    assert asset.watchers[0].trigger is trigger


@pytest.mark.parametrize("settle", [0.0, 0.2])
def test_settle_time_bounds_the_latency(tmp_path, settle):
    inbox = tmp_path / "inbox"
    trigger = InboxTrigger(inbox=str(inbox), settle_seconds=settle, poll_interval=1.0)
    trigger.asset_state_store = MemoryStateStore()

    async def scenario():
        watch = Watch(trigger)
        try:
            await asyncio.sleep(0.1)
            write(inbox / "u1" / "a.csv", b"a\n")
            t0 = time.monotonic()
            at, _ = await watch.next_timed(timeout=5)
            return at - t0
        finally:
            await watch.stop()

    latency = run(scenario())
    # first sight within one poll interval, then announced right when it settles (not a poll later)
    assert latency < 1.0 + settle + 0.5
