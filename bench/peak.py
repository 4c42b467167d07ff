"""Run a command and tell its wall time and peak memory, as the operating system counts them.

A forked child's peak resident set size starts at its parent's size (the pages it shares until
``exec``), so a command started straight from a large process (pytest, the benchmark driver) would be
reported at least that large. The command is therefore forked by a small launcher (a bare ``python -S``),
which reports the peak from ``wait4``: the largest of the command and the children it waited for.
Used by the benchmark and by the tests that bound memory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Finished", "run_with_peak"]

# argv: report-file command… ; forks the command, waits, writes its peak RSS (KiB), exits with its code
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class Finished:
    returncode: int
    seconds: float
    peak_kib: int


def run_with_peak(
    argv: list, *, env=None, cwd=None, stdout=None, stderr=None, timeout: float = 1800
) -> Finished:
    """Run ``argv`` to completion in its own process group; kill the group and raise ``TimeoutError``
    after ``timeout`` seconds."""
    fd, report = tempfile.mkstemp(prefix="roadsafe-peak-")
    os.close(fd)
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, report, *map(str, argv)],
            env=env,
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise TimeoutError(f"{argv[:3]} still running after {timeout:.0f} s") from None
        seconds = time.perf_counter() - started
        text = Path(report).read_text()
        return Finished(returncode, seconds, int(text) if text else 0)
    finally:
        Path(report).unlink(missing_ok=True)
