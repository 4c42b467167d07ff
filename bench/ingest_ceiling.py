"""Ingest ceiling: a 1M-row CSV and a 200k-row .xlsx of form F4 through ``roadsafe submit``.

Baselines measured in the same run on the same files:

- CSV: DuckDB's own ``read_csv`` into a table of a new database file (the physical ceiling for loading
  that file into DuckDB; roadsafe also detects, validates, normalises and records provenance per row).
- Excel: ``pandas.read_excel`` (openpyxl) + insert into DuckDB, the common way an .xlsx gets loaded.

Each is a separate process on a fresh ``$ROADSAFE_HOME``/database, repeated ``repeat`` times; the
median is reported with the peak RSS of that process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Measured, python_step, run_measured
from bench.workloads import UNIT, WEEK, write_f4_csv, write_f4_xlsx

__all__ = ["IngestResult", "run"]

ROADSAFE = str(Path(sys.executable).with_name("roadsafe"))

DUCKDB_READ_CSV = """
import sys, duckdb
con = duckdb.connect(sys.argv[2])
con.execute("create table t as select * from read_csv(?, header = true)", [sys.argv[1]])
n = con.execute("select count(*) from t").fetchone()[0]
con.close()
print(n)
"""

PANDAS_OPENPYXL = """
import sys, duckdb, pandas
frame = pandas.read_excel(sys.argv[1], engine="openpyxl", dtype=str)
con = duckdb.connect(sys.argv[2])
con.register("frame", frame)
con.execute("create table t as select * from frame")
n = con.execute("select count(*) from t").fetchone()[0]
con.close()
print(n)
"""


@dataclass(frozen=True)
class IngestResult:
    label: str
    rows: int
    ours: Measured
    baseline_name: str
    baseline: Measured
    goal: str
    goal_ratio: float
    ratio_is_speedup: bool  # True: ours/baseline rate must be >= goal_ratio; shown as "8×" not "50%"

    @property
    def ratio(self) -> float:
        return self.ours.rate(self.rows) / self.baseline.rate(self.rows)

    @property
    def met(self) -> bool:
        return self.ratio >= self.goal_ratio


def _median(runs: list[Measured]) -> Measured:
    return sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]


def _submit(work: Path, path: Path, rows: int) -> Measured:
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "ROADSAFE_HOME": str(home)}
    measured = run_measured(
        [ROADSAFE, "submit", "--unit", UNIT, "--form", "F4", "--week", str(WEEK), str(path)], env=env
    )
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        loaded = con.execute("select count(*) from raw.form_f4").fetchone()[0]
    finally:
        con.close()
    if loaded != rows:
        raise RuntimeError(f"roadsafe submit loaded {loaded} of {rows} rows:\n{measured.output}")
    return measured


def baseline_libs(work: Path) -> Path:
    """pandas + numpy for the baseline, installed once under ``work`` (not in roadsafe's venv)."""
    target = work / "baseline-libs"
    if not (target / "pandas").is_dir():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                str(target),
                "-r",
                str(Path(__file__).with_name("baseline-requirements.txt")),
            ],
            check=True,
        )
    return target


def _baseline(work: Path, code: str, path: Path, rows: int) -> Measured:
    db = work / "baseline.duckdb"
    db.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(baseline_libs(work))}
    measured = python_step(code, str(path), str(db), env=env)
    if int(measured.output.strip().splitlines()[-1]) != rows:
        raise RuntimeError(f"baseline loaded {measured.output!r}, expected {rows}")
    db.unlink(missing_ok=True)
    return measured


def run(
    work: Path, *, csv_rows: int = 1_000_000, xlsx_rows: int = 200_000, repeat: int = 3
) -> list[IngestResult]:
    work.mkdir(parents=True, exist_ok=True)
    csv_path = write_f4_csv(work / "f4-1m.csv", csv_rows)
    xlsx_path = write_f4_xlsx(work / "f4-200k.xlsx", xlsx_rows)
    out = []
    for label, path, rows, code, name, goal, ratio, speedup in (
        (
            "CSV",
            csv_path,
            csv_rows,
            DUCKDB_READ_CSV,
            "DuckDB read_csv → table",
            "≥ 60% of DuckDB",
            0.6,
            False,
        ),
        (
            "Excel .xlsx",
            xlsx_path,
            xlsx_rows,
            PANDAS_OPENPYXL,
            "pandas.read_excel (openpyxl) + insert",
            "≥ 10× the openpyxl baseline",
            10.0,
            True,
        ),
    ):
        ours, base = [], []
        for _ in range(repeat):  # interleaved, so a noisy moment hits both
            base.append(_baseline(work, code, path, rows))
            ours.append(_submit(work, path, rows))
        out.append(IngestResult(label, rows, _median(ours), name, _median(base), goal, ratio, speedup))
    return out
