"""Helpers for the Airflow tests: a throw-away Airflow environment and bounded process management.

Every process started through :class:`Processes` runs in its own session (process group); the
fixture's finalizer sends SIGTERM to each group leader, waits, then SIGKILLs whatever is left of
each group, so a failing test never leaves a scheduler or triggerer behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

# Keep in-process Airflow (DagBag, triggers) off ~/airflow: a private, throw-away AIRFLOW_HOME.
if "AIRFLOW_HOME" not in os.environ:
    import tempfile

    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="roadsafe-airflow-tests-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
BIN = Path(sys.executable).parent
AIRFLOW = str(BIN / "airflow")

HEAVY_MODULES = ("duckdb", "dbt", "great_tables", "weasyprint", "fastexcel", "polars", "pyarrow")

from application.airflow.stack import (  # noqa: E402, F401 - after AIRFLOW_HOME is set; re-exported through aflib
    Proc,
    Processes,
    api,
    free_port,
    tail,
    wait_for,
)
from application.airflow.stack import fast_airflow_env as airflow_env  # noqa: E402, F401


def run_cli(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``airflow <args>`` to completion (bounded); raise with its output when it fails."""
    proc = subprocess.run(
        [AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=env["ROADSAFE_HOME"]
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"airflow {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def aflib():
    """This module's helpers, so tests use them without importing a module named ``conftest``
    (several test folders have one, so the name is not unique)."""
    return types.SimpleNamespace(**{k: v for k, v in globals().items() if not k.startswith("__")})


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()


@pytest.fixture(scope="session")
def sample_campaign(tmp_path_factory):
    """The generated sample campaign (jiujiang-2022, seed 2022): (folder, manifest entries)."""
    from application.samples import generate_samples

    out = tmp_path_factory.mktemp("samples")
    manifest = generate_samples("jiujiang-2022", out)
    return out, manifest.entries


def pick_samples(sample_campaign, n: int, period_no: int | None = None) -> list[tuple[str, Path]]:
    """``n`` sample files expected to be accepted (messy as real ones, no special role) of distinct
    (unit, form, period): (unit_id, path)."""
    out, entries = sample_campaign
    picked, seen = [], set()
    for e in entries:
        key = (e.unit_id, e.form_code, e.period_no)
        if period_no is not None and e.period_no != period_no:
            continue
        if e.expect == "accepted" and not e.special and key not in seen:
            seen.add(key)
            picked.append((e.unit_id, out / e.path))
        if len(picked) == n:
            break
    return picked


def api_auth(method: str, url: str, token: str, body: dict | None = None, timeout: float = 10) -> dict:
    """JSON call with a bearer token (from ``POST /auth/token``)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)
