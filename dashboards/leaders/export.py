"""The leaders' pages as static files (the static site's ``leaders/`` folder: the e-mailed editions link to
it and it reads offline): the front page, every task's page and every county's and department's page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dashboards.leaders.front import front_page, render_front
from dashboards.leaders.snapshot import leaders_data
from dashboards.leaders.task_page import render_task, task_file
from dashboards.leaders.unit_page import render_unit

__all__ = ["write_leaders"]


def write_leaders(settings, site, out: Path, as_of: dt.datetime) -> Path:
    """Write the pages under ``out`` from ``site`` (:func:`dashboards.site.collect_site` of the published
    snapshot) and the snapshot itself; returns ``out/index.html``."""
    from roadsafe.warehouse import open_snapshot

    campaign = settings.campaign()
    con = open_snapshot(settings.published)
    try:
        data = leaders_data(con, settings, campaign, site, as_of)
    finally:
        con.close()
    (out / "tasks").mkdir(parents=True, exist_ok=True)
    (out / "units").mkdir(exist_ok=True)
    ref = site.reference
    for task_no in ref.tasks["task_no"].to_list():
        (out / "tasks" / task_file(task_no)).write_text(render_task(data, task_no) or "", encoding="utf-8")
    for unit_id, kind in ref.units.select("unit_id", "kind").iter_rows():
        if kind in ("county", "department"):
            (out / "units" / f"{unit_id}.html").write_text(render_unit(data, unit_id) or "", encoding="utf-8")
    index = out / "index.html"
    index.write_text(render_front(front_page(data, campaign)), encoding="utf-8")
    return index
