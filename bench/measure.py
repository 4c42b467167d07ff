"""Timing and peak memory of one command, measured from outside as the operating system sees it.

Every step of the benchmark runs as its own process, so the baselines (DuckDB's ``read_csv``, pandas +
openpyxl) and roadsafe pay the same start-up and are measured the same way: wall time around the
process, peak resident set size from ``wait4`` (the largest of the process and the children it waited
for, which covers dbt's subprocess under ``roadsafe build``).

A forked child's peak starts at its parent's size (the pages it shares until ``exec``), so the measured
command is forked by a small launcher process (a bare ``python -S``), not by this one, which may be large.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measured", "python_step", "run_measured"]

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
class Measured:
    """One measured process: wall seconds, peak RSS in MiB, and the tail of its output."""

    seconds: float
    peak_mib: float
    output: str

    def rate(self, rows: int) -> float:
        return rows / self.seconds if self.seconds > 0 else float("inf")


def run_measured(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 1800
) -> Measured:
    """Run ``argv`` to completion; raise ``RuntimeError`` with its output when it fails."""
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"roadsafe-bench-{os.getpid()}.log"
    peak = log.with_suffix(".peak")
    with log.open("w+b") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(peak), *map(str, argv)],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = started + timeout
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, 9)
                raise RuntimeError(f"{argv[:3]} still running after {timeout:.0f} s")
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    log.unlink(missing_ok=True)
    peak_kib = int(peak.read_text()) if peak.exists() else 0
    peak.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv[:4]))} exited {proc.returncode}:\n{text[-3000:]}")
    return Measured(seconds, peak_kib / 1024, text[-3000:])


def python_step(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 1800) -> Measured:
    """``python -c code args…`` in this interpreter, measured."""
    return run_measured([sys.executable, "-c", code, *args], env=env, timeout=timeout)
