"""The benchmark's own parts (``make bench`` is not part of ``make test``; these keep it from rotting)."""

from __future__ import annotations

import json
import sys

import pytest

from bench.build_scale import _scaled_campaigns
from bench.measure import run_measured
from bench.workloads import F4_HEADER, write_f4_csv


def test_peak_memory_is_the_process_own():
    small = run_measured([sys.executable, "-c", "print('ok')"])
    big = run_measured(
        [sys.executable, "-c", "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096])"]
    )
    assert small.output.strip() == "ok" and small.peak_mib < 100
    assert 300 <= big.peak_mib < 600
    assert big.seconds > 0


def test_a_failing_step_stops_the_benchmark_with_its_output():
    with pytest.raises(RuntimeError, match="(?s)exited 3.*boom"):
        run_measured([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"])


def test_scaled_campaign_lists_the_generated_counties(tmp_path, monkeypatch):
    from application.samples.world import build_world
    from roadsafe.campaign import load_campaign

    world = build_world(load_campaign("jiujiang-2022"), scale=2)
    extra = [
        {"id": c.id, "name": c.name, "kind": "county", "code": c.code, "aliases": list(c.aliases)}
        for c in world.counties
        if c.synthetic
    ]
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "manifest.json").write_text(
        json.dumps({"extra_units": extra}, ensure_ascii=False), encoding="utf-8"
    )
    root = _scaled_campaigns(tmp_path, samples)
    monkeypatch.setenv("ROADSAFE_CAMPAIGNS_DIR", str(root))
    campaign = load_campaign("jiujiang-2022")
    assert len(campaign.counties) == 30
    assert campaign.resolve_unit("测试县015").id == "test015"
    assert campaign.resolve_unit("浔阳").id == "xunyang"  # the real ones keep their aliases


def test_f4_workload_is_a_valid_ledger(tmp_path):
    from ingest.service import submit
    from roadsafe.settings import Settings

    path = write_f4_csv(tmp_path / "f4.csv", 300)
    assert path.read_text(encoding="utf-8").splitlines()[0].split(",") == F4_HEADER
    settings = Settings(home=tmp_path / "home", campaign_code="jiujiang-2022")
    receipt = submit(settings, path, unit="修水县", form="F4", period=5)
    assert receipt.status == "accepted", receipt
    assert receipt.row_count == 300
