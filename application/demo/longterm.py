"""The demo's second campaign: the long-term mechanism plan (九府办发[2022]11号) next to the 2022 campaign.

Its own home (``$ROADSAFE_HOME/homes/<code>``, the layout of a deployment of several campaigns), its own
sample submissions (:func:`application.samples.longterm.generate_task_samples`: the half-yearly task
reports and the units' 年度工作总结), then through the same DAGs as production, at its report times:

1. ``roadsafe_ingest`` imports every sample submission received up to the last report time, with its
   original receive time (the plan's data all arrive before its first report is due to be re-read: one
   import and one build keep the demo short);
2. ``roadsafe_build`` runs dbt and publishes the snapshot;
3. ``roadsafe_span`` at each report time (each 半年工作总结, then the 年度考核) freezes and renders the
   editions that its schedule says are due then, and e-mails them.

``run_dag(dag_id, when, conf)`` runs one DAG; the demo passes Airflow's ``dag.test()`` on a DagBag parsed
for this campaign (:func:`second_campaign_env` names the variables to parse it with).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from roadsafe.settings import HOMES, Settings

__all__ = ["SECOND_CAMPAIGN", "SecondCampaign", "run_second_campaign", "second_campaign_env", "span_times"]

SECOND_CAMPAIGN = "jiujiang-longterm-2022"
_SPAN_KINDS = ("half_year_summary", "yearly_assessment", "final_assessment")


@dataclass(frozen=True)
class SecondCampaign:
    """What the second campaign's part of the demo did."""

    settings: Settings
    files: int
    editions: list[Path]
    seconds: float

    def text(self) -> str:
        names = "、".join(f"{p.parent.name}/{p.name}" for p in self.editions)
        return (
            f"第二个活动 {self.settings.campaign_code}：{self.files} 份报送文件，"
            f"报告 {len(self.editions)} 期（{names}），用时 {self.seconds:.0f} 秒 → {self.settings.reports}"
        )


def second_settings(settings: Settings, code: str = SECOND_CAMPAIGN) -> Settings:
    """The second campaign's home beside the demo's first."""
    return Settings(home=settings.home / HOMES / code, campaign_code=code)


def second_campaign_env(second: Settings) -> dict[str, str]:
    """The variables the DAG files and their tasks read for the second campaign."""
    return {"ROADSAFE_HOME": str(second.home), "ROADSAFE_CAMPAIGN": second.campaign_code}


def span_times(campaign, calendar) -> list[tuple[dt.datetime, str, str]]:
    """(time, report kind, what) of every span report of the campaign, in order."""
    from roadsafe.schedule import build_schedule

    return [(i.due_at, i.kind, i.ref) for i in build_schedule(campaign, calendar) if i.kind in _SPAN_KINDS]


def run_second_campaign(
    settings: Settings,
    run_dag: Callable[[str, dt.datetime, dict | None], object],
    *,
    code: str = SECOND_CAMPAIGN,
) -> SecondCampaign:
    """Generate, import, build and report the second campaign (see the module text)."""
    import time

    from application.samples.longterm import generate_task_samples
    from dashboards.editions import list_editions
    from roadsafe.workcalendar import WorkCalendar

    started = time.monotonic()
    second = second_settings(settings, code)
    if second.home.exists():  # start from nothing, as the first campaign does
        shutil.rmtree(second.home)
    second.ensure()
    campaign = second.campaign()
    calendar = WorkCalendar.load()
    samples = second.samples / code
    entries = generate_task_samples(campaign, samples, seed=2022, calendar=calendar)
    times = span_times(campaign, calendar)
    if not times:
        raise ValueError(f"活动 {code} 没有半年总结或年度考核等报告，无法演示。")
    last = times[-1][0]
    run_dag("roadsafe_ingest", last, {"history_manifest": str(samples), "until": last.isoformat()})
    run_dag("roadsafe_build", last, None)
    for when in dict.fromkeys(t[0] for t in times):
        run_dag("roadsafe_span", when, None)
    editions = sorted(e.folder for e in list_editions(second))
    return SecondCampaign(second, len(entries), editions, time.monotonic() - started)
