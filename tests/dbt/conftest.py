"""Fixtures for the dbt tests: the hand-made scenario (dbt_scenario.py) sent through ingest into a fresh
$ROADSAFE_HOME, then one real ``roadsafe build`` (dbt in a subprocess) shared by every test of the session."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dbt_scenario import load_scenario  # noqa: E402

from application.build import BuildResult, run_build  # noqa: E402
from roadsafe.settings import Settings  # noqa: E402
from roadsafe.workcalendar import WorkCalendar  # noqa: E402


@dataclass
class Built:
    settings: Settings
    result: BuildResult
    sent: dict  # (form, unit, period) -> submission ids, in the order sent
    via_ingest: bool  # sent through ingest.service.submit (else straight SQL, see dbt_rawrows.py)


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    return WorkCalendar.load()


@pytest.fixture(scope="session")
def built(tmp_path_factory, calendar) -> Built:
    home = tmp_path_factory.mktemp("dbt-scenario")
    settings = Settings(home=home, campaign_code="jiujiang-2022").ensure()
    writer = load_scenario(settings, calendar)
    result = run_build(settings, unit_tests=True)
    assert result.ok, "\n".join([result.message, *result.failures, f"log: {result.log_file}"])
    return Built(settings, result, writer.sent, writer.use_ingest)


@pytest.fixture(scope="session")
def snapshot(built):
    """A read-only connection to the published snapshot."""
    import duckdb

    con = duckdb.connect(str(built.settings.published), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def query(snapshot):
    """``query(sql, *params)`` → list of dicts."""

    def run(sql: str, *params):
        cur = snapshot.execute(sql, list(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    return run
