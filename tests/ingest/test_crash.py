"""Killing the process in the middle of a load (SIGKILL, no clean-up of any kind) leaves no partial
submission, and running again loads the file exactly once.

The load runs in a real subprocess on a real warehouse file. ``ROADSAFE_INGEST_HOLD`` makes that process
pause at a chosen point (every row inserted but not committed; or landed but not yet loaded) and say so, so
the kill lands exactly there; a second test kills at a spread of moments without any hook.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from corpus import F4_HEADER, REPO, query, settings

from ingest.landing import read_receipts
from ingest.service import process_inbox, submit

ROWS = 60_000

_SUBMIT = textwrap.dedent(
    """
    import datetime as dt, sys
    from pathlib import Path
    from roadsafe.settings import Settings
    from ingest.service import submit
    s = Settings(home=Path(sys.argv[1]))
    r = submit(s, sys.argv[2], unit="市公路发展中心", form="F4", period=5,
               received_at=dt.datetime.fromisoformat("2022-05-12T10:00:00+08:00"))
    print(r.status, r.row_count, flush=True)
    """
)


def big_f4_csv(path: Path, rows: int = ROWS) -> Path:
    counties = ["浔阳区", "濂溪区", "柴桑区", "武宁县", "修水县"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["道路交通隐患排查整治台账（第5周）"])
        w.writerow(F4_HEADER)
        for i in range(rows):
            done = i % 3 == 0
            w.writerow(
                [
                    f"GL-{i:07d}",
                    counties[i % 5],
                    f"国道105线K{i % 900}段",
                    "国省道",
                    "护栏缺失",
                    f"2022-05-{1 + i % 9:02d}",
                    "已整改" if done else "整改中",
                    "2022-05-11" if done else "",
                    "市公路发展中心",
                ]
            )
    return path


def _start(home: Path, path: Path, hold: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "ROADSAFE_INGEST_HOLD"}
    if hold:
        env["ROADSAFE_INGEST_HOLD"] = hold
    return subprocess.Popen(
        [sys.executable, "-c", _SUBMIT, str(home), str(path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(marker: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the load ended before the hold point: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the load never reached the hold point")
        time.sleep(0.02)


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(60)
    assert proc.returncode == -signal.SIGKILL


def _counts(s) -> tuple[int, int]:
    if not s.warehouse.exists():
        return 0, 0
    (subs,) = query(s, "select count(*) from raw.submissions")[0] if _has_raw(s) else (0,)
    (rows,) = query(s, "select count(*) from raw.form_f4")[0] if _has_raw(s) else (0,)
    return subs, rows


def _has_raw(s) -> bool:
    return bool(
        query(
            s, "select 1 from information_schema.tables where table_schema = 'raw' and table_name = 'form_f4'"
        )
    )


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    return big_f4_csv(tmp_path_factory.mktemp("big") / "台账.csv")


def test_killed_before_commit_leaves_nothing_and_loads_once_later(tmp_path, big_file):
    s = settings(tmp_path)
    marker = tmp_path / "holding"
    proc = _start(s.home, big_file, f"before_commit:{marker}")
    _wait_for(marker, proc)  # every row is inserted, the transaction is open
    _kill(proc)

    assert _counts(s) == (0, 0)  # no registry row, no form rows
    landed = list(s.landing.glob("??/*.csv"))
    assert len(landed) == 1 and landed[0].read_bytes() == big_file.read_bytes()
    assert [r.original_name for r in read_receipts(s)] == ["台账.csv"]  # on record, pending
    assert list(s.tmp.iterdir()) == []

    (receipt,) = process_inbox(s)
    assert (receipt.status, receipt.row_count) == ("accepted", ROWS)
    assert _counts(s) == (1, ROWS)
    assert query(
        s, "select count(distinct source_row), min(source_row), max(source_row) from raw.form_f4"
    ) == [(ROWS, 3, ROWS + 2)]
    assert process_inbox(s) == []
    again = submit(s, big_file, unit="市公路发展中心", form="F4", period=5)
    assert again.status == "duplicate"
    assert _counts(s) == (2, ROWS)


def test_killed_after_landing_is_picked_up(tmp_path, big_file):
    s = settings(tmp_path)
    marker = tmp_path / "holding"
    proc = _start(s.home, big_file, f"after_landing:{marker}")
    _wait_for(marker, proc)
    _kill(proc)
    assert _counts(s) == (0, 0)
    assert len(read_receipts(s)) == 1
    # the office sends it again before anyone runs the inbox: loaded once, the stale receipt is a duplicate
    first = submit(s, big_file, unit="市公路发展中心", form="F4", period=5)
    assert (first.status, first.row_count) == ("accepted", ROWS)
    (stale,) = process_inbox(s)
    assert stale.status == "duplicate"
    assert _counts(s) == (2, ROWS)
    assert query(s, "select count(*) from raw.submissions where status = 'accepted'") == [(1,)]


def test_killed_at_any_moment_is_all_or_nothing(tmp_path, big_file):
    """No hook: kill the real load at a spread of moments; each time the warehouse holds either nothing of
    it or all of it, and the next run completes it exactly once."""
    s0 = settings(tmp_path / "timing")
    start = time.monotonic()
    proc = _start(s0.home, big_file)
    out, err = proc.communicate(timeout=600)
    full = time.monotonic() - start
    assert proc.returncode == 0, err
    assert out.split() == ["accepted", str(ROWS)]

    outcomes = set()
    for i, fraction in enumerate((0.4, 0.6, 0.8, 0.95)):
        s = settings(tmp_path / f"kill{i}")
        proc = _start(s.home, big_file)
        time.sleep(full * fraction)
        os.kill(proc.pid, signal.SIGKILL)  # a no-op when the load has just finished (not yet reaped)
        proc.communicate(timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), proc.returncode
        subs, rows = _counts(s)
        assert (subs, rows) in {(0, 0), (1, ROWS)}, (fraction, subs, rows)
        outcomes.add(rows)
        if not read_receipts(
            s
        ):  # killed before the file was landed: never received, the office sends it again
            submit(s, big_file, unit="市公路发展中心", form="F4", period=5)
        process_inbox(s)
        assert query(s, "select count(*), sum(row_count) from raw.submissions where status = 'accepted'") == [
            (1, ROWS)
        ]
        assert _counts(s)[1] == ROWS
        assert process_inbox(s) == []
    assert 0 in outcomes  # at least one kill landed before the commit
