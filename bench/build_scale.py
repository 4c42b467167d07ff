"""Build at scale: the sample campaign generated at 1×, 10× and 100×, imported, built, then one more file.

1× is the sample (15 counties); 10× has 150 counties (the generator's ``--scale 10``); 100× is a province:
the same 150 counties with every hazard ledger ten times longer (``--scale 10 --ledger-scale 10``),
so 100× the F4 rows of the sample and 10× everything else.

For each scale: generate the sample files (``python -m application.samples --scale``), write a copy of the
campaign definition that also lists the generated extra counties, import every file (``roadsafe
import-history``), run a full ``roadsafe build`` (ref tables, every dbt model
and test, snapshot publish), then send one more file and build again: the incremental case a new weekly
file sets off (here: the last CSV sent again, which supersedes its first copy). The full build is
``roadsafe build --full-refresh``; the one after the new file is the ordinary, incremental ``roadsafe build``.
Each step is a measured process.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from bench.measure import Measured, run_measured
from roadsafe.campaign import campaigns_dir, read_yaml

__all__ = ["ScaleResult", "prepare_home", "run"]

ROADSAFE = str(Path(sys.executable).with_name("roadsafe"))
CAMPAIGN = "jiujiang-2022"
GENERATOR_SCALES = {1: (1, 1), 10: (10, 1), 100: (10, 10)}  # bench scale → (--scale, --ledger-scale)


@dataclass(frozen=True)
class ScaleResult:
    scale: int
    counties: int
    files: int
    values: int  # rows of raw.form_values: every figure the marts are built from
    f4_rows: int
    generate: Measured | None  # None: an earlier run's home reused
    import_all: Measured | None
    full_build: Measured
    import_one: Measured
    incremental_build: Measured
    warehouse_mib: float
    env: dict[str, str]  # the home it built, for the report timings


def _scaled_campaigns(work: Path, samples: Path) -> Path:
    """A campaigns folder whose jiujiang-2022 also lists the generator's extra counties."""
    root = work / "campaigns"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(campaigns_dir() / CAMPAIGN, root / CAMPAIGN)
    extra = json.loads((samples / "manifest.json").read_text(encoding="utf-8"))["extra_units"]
    if extra:
        units_file = root / CAMPAIGN / "units.yml"
        units = read_yaml(units_file)
        units["counties"] += [
            {k: v for k, v in u.items() if k != "kind" and v not in (None, [])} for u in extra
        ]
        units_file.write_text(yaml.safe_dump(units, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def prepare_home(work: Path, scale: int) -> tuple[dict[str, str], Path, Measured]:
    """Generate the samples at ``scale`` under ``work``; the environment for a fresh home on them."""
    samples = work / "samples"
    shutil.rmtree(work / "home", ignore_errors=True)
    counties, ledgers = GENERATOR_SCALES[scale]
    generate = run_measured(
        [
            sys.executable,
            "-m",
            "application.samples",
            str(samples),
            "--scale",
            str(counties),
            "--ledger-scale",
            str(ledgers),
        ]
    )
    _scaled_campaigns(work, samples)
    return _env(work), samples, generate


def _env(work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ROADSAFE_HOME": str(work / "home"),
        "ROADSAFE_CAMPAIGN": CAMPAIGN,
        "ROADSAFE_CAMPAIGNS_DIR": str(work / "campaigns"),
    }


def _resend(samples: Path, work: Path) -> tuple[list[str], Path]:
    """The last CSV file of the campaign sent again with one more line end: new bytes, same figures, so it
    is accepted and supersedes the earlier copy (a correction, as a new weekly file arrives)."""
    entries = [
        json.loads(line) for line in (samples / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    last = next(e for e in reversed(entries) if e["format"].startswith("csv") and e["expect"] == "accepted")
    again = work / f"resent-{len(list(work.glob('resent-*')))}-{Path(last['path']).name}"
    again.write_bytes((samples / last["path"]).read_bytes() + b"\r\n")
    return ["--unit", last["unit_id"], "--week", str(last["period_no"])], again


def _counts(warehouse: Path) -> tuple[int, int, int, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select (select count(*) from raw.submissions), (select count(*) from raw.form_values), "
            "(select count(*) from raw.form_f4), "
            "(select count(*) from ref.units where kind = 'county')"
        ).fetchone()
    finally:
        con.close()


def run_scale(work: Path, scale: int, *, reuse: bool = False) -> ScaleResult:
    """Measure one scale. ``reuse``: a home imported by an earlier run of this scale is built again
    without generating and importing anew (import times are then not measured)."""
    work.mkdir(parents=True, exist_ok=True)
    generate = import_all = None
    if (
        reuse
        and (work / "home" / "warehouse.duckdb").is_file()
        and (work / "samples" / "manifest.json").is_file()
    ):
        env = _env(work)
        samples = work / "samples"
    else:
        env, samples, generate = prepare_home(work, scale)
        import_all = run_measured([ROADSAFE, "import-history", str(samples)], env=env)
    full = run_measured([ROADSAFE, "build", "--full-refresh"], env=env)
    options, again = _resend(samples, work)
    import_one = run_measured([ROADSAFE, "submit", *options, str(again)], env=env)
    incremental = run_measured([ROADSAFE, "build"], env=env)
    warehouse = Path(env["ROADSAFE_HOME"]) / "warehouse.duckdb"
    files, values, f4_rows, counties = _counts(warehouse)
    return ScaleResult(
        scale=scale,
        counties=counties,
        files=files,
        values=values,
        f4_rows=f4_rows,
        generate=generate,
        import_all=import_all,
        full_build=full,
        import_one=import_one,
        incremental_build=incremental,
        warehouse_mib=warehouse.stat().st_size / 2**20,
        env=env,
    )


def run(work: Path, scales: tuple[int, ...] = (1, 10, 100), *, reuse: bool = False) -> list[ScaleResult]:
    return [run_scale(work / f"scale-{s}", s, reuse=reuse) for s in scales]
