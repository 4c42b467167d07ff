"""What every route shares (:class:`Portal`): configuration, campaign, accounts, the Airflow client, the
templates, the bounds on concurrent work, and the session and scope checks of the pages."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape

from portal.airflow import ASSET_NAME, AirflowNotifier, NotifyError
from portal.auth import SESSION_COOKIE, Auth, Session
from portal.config import Clock, PortalConfig
from portal.errors import LoginRequired, PortalError
from portal.status import CHANNEL_WORDS, STATE_LABELS, STATUS_WORDS, PortalData
from portal.store import Store
from roadsafe.wording import cn_lateness, cn_short, cn_size, cn_span, cn_time

__all__ = ["Busy", "Portal", "WorkLimit"]

log = logging.getLogger("roadsafe.portal")
TEMPLATES = Path(__file__).parent / "templates"


class Busy(Exception):
    """No slot for the work: answered 503 系统繁忙 at once, never queued."""


class WorkLimit:
    """At most ``per_key`` concurrent pieces of work per key (an account) and ``total`` in all; a request
    beyond either gets :class:`Busy` at once."""

    def __init__(self, per_key: int, total: int):
        self.per_key = per_key
        self.total = total
        self._lock = threading.Lock()
        self._running: dict[str, int] = defaultdict(int)
        self._all = 0

    def acquire(self, key: str) -> None:
        with self._lock:
            if self._all >= self.total or self._running[key] >= self.per_key:
                raise Busy()
            self._all += 1
            self._running[key] += 1

    def release(self, key: str) -> None:
        with self._lock:
            self._all -= 1
            self._running[key] -= 1
            if not self._running[key]:
                del self._running[key]


class Portal:
    def __init__(self, config: PortalConfig):
        from roadsafe.schedule import form_due_at
        from roadsafe.workcalendar import WorkCalendar

        self.config = config
        self.settings = config.settings
        self.campaign = self.settings.campaign()
        self.tz = ZoneInfo(self.campaign.frame.timezone)
        self.clock = Clock.from_text(self.tz, config.now_text)
        calendar = WorkCalendar.load()
        self.due_times = {p.no: form_due_at(self.campaign, calendar, p) for p in self.campaign.periods()}
        self.store = Store(config.users_db)
        self.auth = Auth(config, self.store)
        self.uploads = WorkLimit(config.uploads_per_account, config.uploads_total)
        self.notifier = AirflowNotifier(
            config.airflow_url,
            config.airflow_username,
            config.airflow_password,
            token=config.airflow_token,
            timeout=config.airflow_timeout,
            asset_name=self.settings.airflow_name(ASSET_NAME),
        )
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            cn_time=lambda v: cn_time(v, self.tz),
            cn_short=lambda v: cn_short(v, self.tz),
            cn_size=cn_size,
            late_text=cn_lateness,
            span=lambda p: cn_span(p.start, p.end, with_year=False),
        )
        self.env.globals.update(
            STATE_LABELS=STATE_LABELS, STATUS_WORDS=STATUS_WORDS, CHANNEL_WORDS=CHANNEL_WORDS
        )
        self._stop = threading.Event()
        self._retry_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ helpers

    def data(self) -> PortalData:
        return PortalData(self.settings, self.campaign, self.store, self.due_times)

    def unit_name(self, unit_id: str | None) -> str:
        if unit_id is None:
            return self.campaign.frame.office_short
        unit = self.campaign.units.get(unit_id)
        return unit.name if unit else unit_id

    def reporting_unit(self, unit_id: str):
        unit = self.campaign.units.get(unit_id) or self.campaign.resolve_unit(unit_id)
        if unit is None or unit.kind not in ("county", "department"):
            return None
        return unit

    # ------------------------------------------------------------------ sessions and scope

    def session_of(self, request: Request) -> Session:
        session, why = self.auth.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise LoginRequired(why)
        return session

    def scope_unit(self, session: Session, requested: str | None) -> str | None:
        """The unit a page is about: a unit's own; for the office the requested one (or None)."""
        user = session.user
        if user.is_leader:  # a leader reads the leaders' pages only: no unit's forms, files or uploads
            raise PortalError(403, "领导账号用于查看工作进展总览，不办理报表报送；请从“工作进展总览”查看各单位情况。")
        if not user.is_office:
            if requested and requested != user.unit_id:
                unit = self.reporting_unit(requested)
                if unit is None or unit.id != user.unit_id:
                    raise PortalError(403, "无权查看或报送其他单位的报表，只能查看本单位的报送情况。")
            return user.unit_id
        if not requested:
            return None
        unit = self.reporting_unit(requested)
        if unit is None:
            raise PortalError(404, f"找不到单位“{requested}”。")
        return unit.id

    @staticmethod
    def need_office(session: Session) -> None:
        if not session.user.is_office:
            raise PortalError(403, "该页面仅限市整治办账号访问。")

    # ------------------------------------------------------------------ background retry of events

    def start_retry(self) -> None:
        if not self.notifier.enabled or self._retry_thread is not None:
            return
        self._retry_thread = threading.Thread(
            target=self._retry_loop, name="portal-notify-retry", daemon=True
        )
        self._retry_thread.start()

    def stop_retry(self) -> None:
        self._stop.set()

    def _retry_loop(self) -> None:
        while not self._stop.wait(self.config.notify_retry_seconds):
            self.retry_notifications()

    def retry_notifications(self) -> bool:
        """Post one event for every upload whose event did not get through (one ingest run loads all)."""
        waiting = self.store.unnotified()
        if not waiting or not self.notifier.enabled:
            return False
        try:
            self.notifier.notify({"channel": "portal", "retry": True, "receipts": len(waiting)})
        except NotifyError as exc:
            log.info("Airflow still unreachable (%d uploads waiting): %s", len(waiting), exc)
            return False
        self.store.mark_notified(waiting, None)
        log.info("asset event posted for %d uploads after a retry", len(waiting))
        return True
