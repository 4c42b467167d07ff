"""The leaders' pages rendered on request from the published snapshot, for the portal.

Nothing is rebuilt after a build: each request looks at the snapshot file (device, inode, size, modification
time) and at the issued 排名 editions folder; while both are unchanged (and within the same minute, the pages
counting days and due times), the page's rendered bytes are served from memory; a newly published
snapshot is read on the next request. Page names are those of the static export (``index.html``,
``tasks/task-04.html``, ``units/<id>.html``), so relative links work in both."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading

from dashboards.leaders.front import FrontPage, front_page, render_front
from dashboards.leaders.snapshot import LeadersData, leaders_data
from dashboards.leaders.task_page import render_task
from dashboards.leaders.unit_page import render_unit

__all__ = ["LeadersPages", "collect_front", "page_subject", "read_leaders"]

_TASK = re.compile(r"tasks/task-(\d{1,3})\.html")
_UNIT = re.compile(r"units/([a-z0-9_]{1,64})\.html")


def read_leaders(settings, campaign, as_of: dt.datetime) -> LeadersData:
    """Read everything the leaders' pages show from the published snapshot (and the issued 排名 editions)."""
    from dashboards.site import collect_site
    from roadsafe.warehouse import open_snapshot

    con = open_snapshot(settings.published)
    try:
        return leaders_data(con, settings, campaign, collect_site(con, as_of, settings), as_of)
    finally:
        con.close()


def collect_front(settings, campaign, as_of: dt.datetime) -> FrontPage:
    """The front page's content, read from the published snapshot."""
    return front_page(read_leaders(settings, campaign, as_of), campaign)


def page_subject(name: str) -> tuple[str, str | int] | None:
    """``("front", "")``, ``("task", 4)`` or ``("unit", "xunyang")`` for a page name; None for any other."""
    if name in ("", "index.html"):
        return "front", ""
    if m := _TASK.fullmatch(name):
        return "task", int(m.group(1))
    if m := _UNIT.fullmatch(name):
        return "unit", m.group(1)
    return None


def _identity(path) -> tuple:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class LeadersPages:
    """The rendered pages of the current snapshot (thread-safe; one snapshot's pages kept at a time)."""

    def __init__(self, settings, campaign):
        self.settings = settings
        self.campaign = campaign
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._data: LeadersData | None = None
        self._pages: dict[str, bytes | None] = {}
        self.renders = 0  # pages rendered (not served from memory): for the tests and the log

    def key(self, as_of: dt.datetime) -> tuple:
        editions = self.settings.home / "reports" / "monthly_ranking"
        return (
            _identity(self.settings.published),
            _identity(editions),
            as_of.replace(second=0, microsecond=0),
        )

    def page(self, name: str, as_of: dt.datetime) -> tuple[bytes | None, LeadersData]:
        """The page's HTML (None when there is no such task or unit) and the data it was drawn from.
        Raises :class:`roadsafe.warehouse.SnapshotMissing` before the first build."""
        subject = page_subject(name)
        if subject is None:
            raise KeyError(name)
        with self._lock:
            key = self.key(as_of)
            if key != self._key or self._data is None:
                self._data = read_leaders(self.settings, self.campaign, as_of)
                self._key, self._pages = key, {}
            kind, which = subject
            cache = f"{kind}:{which}"
            if cache not in self._pages:
                html = self._render(kind, which)
                self._pages[cache] = html.encode("utf-8") if html is not None else None
                self.renders += 1
            return self._pages[cache], self._data

    def _render(self, kind: str, which) -> str | None:
        data = self._data
        if kind == "front":
            return render_front(front_page(data, self.campaign), portal=True)
        if kind == "task":
            return render_task(data, which, portal=True)
        return render_unit(data, which, portal=True)
