"""Several campaigns on one deployment: each gets its own DAGs, single-writer pool, assets, inbox watcher and
home, every task carries its campaign's code, and a one-campaign deployment keeps its names and layout."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag

from application.airflow.campaigns import KINDS, pools, wired_campaigns
from roadsafe.settings import Settings, deployment_campaigns

CODES = ("jiujiang-2022", "jiujiang-longterm-2022")


@pytest.fixture
def several(monkeypatch, tmp_path):
    monkeypatch.setenv("ROADSAFE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROADSAFE_CAMPAIGNS", ",".join(CODES))
    monkeypatch.delenv("ROADSAFE_CAMPAIGN", raising=False)
    return tmp_path / "home"


def test_each_campaign_has_its_own_home_and_the_one_campaign_layout_is_unchanged(several, monkeypatch):
    a, b = (Settings.from_env(campaign=c) for c in CODES)
    assert a.home == several / "homes" / CODES[0] and b.home == several / "homes" / CODES[1]
    assert a.root == b.root == several
    assert a.warehouse != b.warehouse and a.inbox != b.inbox and a.landing != b.landing
    assert Settings.from_env().campaign_code == CODES[0]  # the first one, when ROADSAFE_CAMPAIGN is unset
    with pytest.raises(ValueError, match="ROADSAFE_CAMPAIGNS"):
        Settings.from_env(campaign="nowhere-2030")
    monkeypatch.setenv("ROADSAFE_CAMPAIGNS", "jiujiang-2022,jiujiang-2022")
    with pytest.raises(ValueError, match="重复"):
        deployment_campaigns()

    monkeypatch.delenv("ROADSAFE_CAMPAIGNS")
    one = Settings.from_env()
    assert (one.home, one.root, one.deployment) == (several.resolve(), several.resolve(), None)
    assert one.warehouse == several.resolve() / "warehouse.duckdb"
    (wired,) = wired_campaigns()
    assert (wired.dag_id("build"), wired.pool, wired.asset("inbox")) == (
        "roadsafe_build", "roadsafe_duckdb", "roadsafe_inbox",
    )  # fmt: skip


def test_every_campaign_gets_its_own_dags_pool_assets_and_watcher(several):
    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    assert bag.import_errors == {}
    for code in CODES:
        assert {f"roadsafe_{k}__{code}" for k in KINDS} <= set(bag.dag_ids)
        ingest, build = bag.dags[f"roadsafe_ingest__{code}"], bag.dags[f"roadsafe_build__{code}"]
        assert ingest.get_task("ingest_pending").pool == f"roadsafe_duckdb_{code}"
        assert build.get_task("dbt_build").pool == f"roadsafe_duckdb_{code}"
        (inbox,) = ingest.timetable.asset_condition.objects
        assert inbox.name == f"roadsafe_inbox/{code}"
        (watcher,) = inbox.watchers
        assert watcher.trigger.serialize()[1]["inbox"] == str(several / "homes" / code / "inbox")
        assert [a.name for a in ingest.get_task("ingest_pending").outlets] == [f"roadsafe_raw/{code}"]
        assert [a.name for a in build.timetable.asset_condition.objects] == [f"roadsafe_raw/{code}"]
        assert [a.name for a in build.get_task("dbt_build").outlets] == [f"roadsafe_marts/{code}"]
        # the campaign travels with the task, so any worker can run it
        for kind in KINDS:
            dag = bag.dags[f"roadsafe_{kind}__{code}"]
            assert code in dag.tags
            carrying = [t for t in dag.tasks if "campaign" in (getattr(t, "op_kwargs", None) or {})]
            assert carrying and all(t.op_kwargs["campaign"] == code for t in carrying), kind
    assert set(pools()) == {f"roadsafe_duckdb_{c}" for c in CODES}
    assert all(p["slots"] == 1 for p in pools().values())

    # each campaign's schedule comes from its own definition
    span_2022 = bag.dags[f"roadsafe_span__{CODES[0]}"]
    span_long = bag.dags[f"roadsafe_span__{CODES[1]}"]
    assert span_2022.timetable.expression == "0 18 * * *"
    assert span_long.timetable.expression == "0 17,18 * * *"
    at = pendulum.datetime(2022, 7, 15, 17, tz="Asia/Shanghai")
    assert span_long.get_task("spans_due").python_callable(logical_date=at) == [
        {"kind": "half_year_summary", "ref": 1}
    ]
    assert span_2022.get_task("spans_due").python_callable(logical_date=at) == []
    weekly_2022 = bag.dags[f"roadsafe_weekly__{CODES[0]}"].get_task("is_bulletin_day").python_callable
    weekly_long = bag.dags[f"roadsafe_weekly__{CODES[1]}"].get_task("is_bulletin_day").python_callable
    bulletin_day = pendulum.datetime(2022, 5, 12, 17, tz="Asia/Shanghai")  # week 5's bulletin
    assert weekly_2022(logical_date=bulletin_day) is True
    assert weekly_long(logical_date=bulletin_day) is False
