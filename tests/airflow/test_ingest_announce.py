"""The ingest DAG announces `roadsafe_raw` whenever the warehouse holds submissions the published snapshot
lacks, not only when its own try loaded something: a try killed after its load committed but before it
announced (seen on the Celery shape when a worker was SIGKILLed) must not leave the marts stale for good."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from application.airflow.tasks import ingest_announcing_raw, ingest_pending, raw_changed
from application.build import run_build
from ingest.service import submit
from roadsafe.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest"))
from corpus import f1_xlsx  # noqa: E402


def test_a_load_nobody_announced_is_announced_by_the_next_run(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path / "home").ensure()
    monkeypatch.setenv("ROADSAFE_HOME", str(settings.home))
    monkeypatch.delenv("ROADSAFE_CAMPAIGN", raising=False)

    summary = ingest_pending()  # nothing anywhere yet
    assert summary["receipts"] == 0 and not raw_changed(summary)
    with pytest.raises(AirflowSkipException):  # the DAG's task: skipped, so no roadsafe_raw event
        ingest_announcing_raw()

    # the killed try's work: loaded into raw.*, never announced, no build
    assert submit(settings, f1_xlsx(tmp_path / "F1.xlsx"), unit="市公安局", period=5).status == "accepted"
    summary = ingest_announcing_raw()  # the retry finds nothing new in the inbox, and still announces
    assert summary["receipts"] == 0 and summary["unpublished"] and raw_changed(summary)

    assert run_build(settings).ok  # the build that announcement starts publishes the snapshot
    summary = ingest_pending()
    assert not summary["unpublished"] and not raw_changed(summary)
