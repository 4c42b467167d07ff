"""Timing and peak memory of one command, measured from outside as the operating system sees it.

Every step of the benchmark runs as its own process, so the baselines (DuckDB's ``read_csv``, pandas +
openpyxl) and roadsafe pay the same start-up and are measured the same way: wall time around the
process, peak resident set size from ``wait4`` (the largest of the process and the children it waited
for, which covers dbt's subprocess under ``roadsafe build``).

A forked child's peak starts at its parent's size (the pages it shares until ``exec``), so the measured
command is forked by a small launcher process (a bare ``python -S``), not by this one, which may be large.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.peak import run_with_peak

__all__ = ["Measured", "python_step", "run_measured"]


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
    with tempfile.TemporaryFile() as out:
        done = run_with_peak(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv[:4]))} exited {done.returncode}:\n{text[-3000:]}")
    return Measured(done.seconds, done.peak_kib / 1024, text[-3000:])


def python_step(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 1800) -> Measured:
    """``python -c code args…`` in this interpreter, measured."""
    return run_measured([sys.executable, "-c", code, *args], env=env, timeout=timeout)
