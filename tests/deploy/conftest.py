"""Shared parts of the deployment tests: a small real home (the sample campaign's first week imported, a real dbt build, one frozen edition)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

if "AIRFLOW_HOME" not in os.environ:  # keep in-process Airflow imports off ~/airflow
    import tempfile

    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="roadsafe-deploy-tests-")

sys.path.insert(0, str(Path(__file__).parent))  # deploy_helpers

WEEK_1 = dt.datetime.fromisoformat("2022-04-17T18:00:00+08:00")


@pytest.fixture(scope="session")
def small_home(tmp_path_factory) -> Path:
    """A home of jiujiang-2022 with week 1 of the sample campaign imported and built, and the week-1
    bulletin frozen (not rendered: the status and backup tests need its files, not its PDF)."""
    from application.build import run_build
    from application.samples import generate_samples
    from dashboards.editions import freeze
    from ingest.history import replay_manifest
    from roadsafe.settings import Settings

    settings = Settings(home=tmp_path_factory.mktemp("small") / "home").ensure()
    samples = settings.samples / settings.campaign_code
    generate_samples(settings.campaign_code, samples, seed=2022)
    receipts = replay_manifest(settings, samples, until=WEEK_1)
    assert len(receipts) > 80
    result = run_build(settings)
    assert result.ok, result.message
    freeze(settings, "weekly_bulletin", 1, frozen_at=dt.datetime.fromisoformat("2022-04-18T17:00:00+08:00"))
    return settings.home
