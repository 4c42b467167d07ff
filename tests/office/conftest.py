"""Fixtures for the office's decisions: the dbt tests' hand-made scenario (tests/dbt/dbt_scenario.py) sent
through ingest into a fresh $ROADSAFE_HOME and built once with the real dbt; each test module that changes
decisions gets its own home (module scope) so the builds stay few."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "dbt"))

from dbt_scenario import load_scenario  # noqa: E402

from application.build import run_build  # noqa: E402
from roadsafe.settings import Settings  # noqa: E402
from roadsafe.workcalendar import WorkCalendar  # noqa: E402


@dataclass
class Scenario:
    settings: Settings
    writer: object  # dbt_rawrows.RawWriter: .submit(...) sends another file, .sent the ids

    def build(self):
        result = run_build(self.settings)
        assert result.ok, "\n".join([result.message, *result.failures, f"log: {result.log_file}"])
        return result

    def query(self, sql: str, *params) -> list[dict]:
        import duckdb

        con = duckdb.connect(str(self.settings.published), read_only=True)
        try:
            cur = con.execute(sql, list(params))
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    home = tmp_path_factory.mktemp("office")
    settings = Settings(home=home, campaign_code="jiujiang-2022").ensure()
    writer = load_scenario(settings, WorkCalendar.load())
    out = Scenario(settings, writer)
    out.build()
    return out
