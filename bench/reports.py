"""Report times: each of the four editions (通报, 调度单, 排名, 小结) frozen from a built home and rendered
as HTML, PDF and XLSX, ``repeat`` times; the median seconds per format (HTML includes reading the frozen
snapshot and drawing the charts)."""

from __future__ import annotations

import json
import statistics
import sys

from bench.measure import python_step

__all__ = ["RENDER", "run"]

RENDER = """
import datetime as dt, json, sys
from zoneinfo import ZoneInfo
from dashboards.editions import freeze, render_edition
from roadsafe.settings import Settings

settings = Settings.from_env()
campaign = settings.campaign()
frozen_at = dt.datetime(2022, 7, 1, 12, tzinfo=ZoneInfo(campaign.frame.timezone))
out = {}
for kind, ref in (("weekly_bulletin", 12), ("dispatch_list", 12), ("monthly_ranking", "2022-05"),
                  ("monthly_summary", "2022-05")):
    edition = freeze(settings, kind, ref, frozen_at=frozen_at, refreeze=True, campaign=campaign)
    out[kind] = [render_edition(edition).timings for _ in range(int(sys.argv[1]))]
print(json.dumps(out))
"""

KIND_NAMES = {
    "weekly_bulletin": "工作通报",
    "dispatch_list": "工作调度单",
    "monthly_ranking": "工作排名",
    "monthly_summary": "工作小结",
}


def run(env: dict[str, str], repeat: int = 3) -> dict[str, dict[str, float]]:
    """{kind: {format: median seconds}} for the home in ``env``."""
    measured = python_step(RENDER, str(repeat), env=env)
    runs = json.loads(measured.output.strip().splitlines()[-1])
    out = {}
    for kind, timings in runs.items():
        formats = timings[0].keys()
        out[kind] = {f: statistics.median(t[f] for t in timings) for f in formats}
        print(f"  {KIND_NAMES[kind]}: {out[kind]}", file=sys.stderr)
    return out
