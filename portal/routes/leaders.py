"""``/leaders/``: the leaders' view behind the login, rendered on request from the published snapshot.

==================================  ======================================================================
``GET /leaders``                    → ``/leaders/``
``GET /leaders/`` (``index.html``)  the front page: the office and leaders
``GET /leaders/tasks/task-04.html`` a task's page: the office, leaders, and the task's lead and co units
``GET /leaders/units/<id>.html``    a unit's page: the office, leaders, and that unit itself
==================================  ======================================================================

Every other account gets 403 (the portal's Chinese error page); no session → the login page, back here
after. The page bytes are cached per snapshot (:class:`dashboards.leaders.pages.LeadersPages`), so a newly
published snapshot shows on the next request and repeated requests cost no rendering; the reader's bar
(name, log-out) is added per request.
"""

from __future__ import annotations

import logging
import threading

import polars as pl
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from portal.auth import may_read_leaders_page
from portal.errors import PortalError
from portal.pages import security_headers

router = APIRouter()
log = logging.getLogger("roadsafe.portal")
_setup = threading.Lock()


def _pages(portal):
    from dashboards.leaders.pages import LeadersPages

    with _setup:
        pages = getattr(portal, "leaders_pages", None)
        if pages is None:
            pages = portal.leaders_pages = LeadersPages(portal.settings, portal.campaign)
    return pages


def _task_units(data, task_no: int) -> set[str]:
    units = data.site.reference.task_units
    return set(units.filter(pl.col("task_no") == task_no)["unit_id"].to_list())


@router.get("/leaders")
def leaders_root():
    return RedirectResponse("/leaders/", status_code=303)


@router.get("/leaders/{name:path}")
def leaders_page(request: Request, name: str):
    from dashboards.leaders.pages import page_subject
    from dashboards.leaders.render import with_account
    from roadsafe.warehouse import SnapshotMissing

    portal = request.app.state.portal
    session = portal.session_of(request)
    user = session.user
    subject = page_subject(name)
    if subject is None:
        raise PortalError(404, "找不到该页面。")
    kind, which = subject
    if user.role == "unit" and kind == "front":  # decided before reading anything
        raise PortalError(403, "工作进展总览仅限市整治办和领导账号查看；本单位的情况请查看本单位页面。")
    if user.role == "unit" and kind == "unit" and which != user.unit_id:
        raise PortalError(403, "只能查看本单位的工作进展，不能查看其他单位。")
    try:
        html, data = _pages(portal).page(name, portal.clock.now())
    except SnapshotMissing:
        raise PortalError(503, "数据尚未发布，暂无法显示工作进展，请稍后再试。") from None
    units = {which} if kind == "unit" else _task_units(data, which) if kind == "task" else set()
    if not may_read_leaders_page(user, kind, units):
        raise PortalError(403, "只能查看本单位及本单位承担任务的工作进展。")
    if html is None:
        raise PortalError(404, "找不到该任务或单位。")
    if user.role == "unit":
        links = [(f"/leaders/units/{user.unit_id}.html", "本单位进展"), ("/", "返回填报平台")]
    else:
        links = [("/leaders/", "工作进展总览")] + ([("/office", "报送总览")] if user.is_office else [])
    who = portal.unit_name(user.unit_id) if user.unit_id else ("领导" if user.is_leader else "市整治办")
    body = with_account(html, who=f"{who} · {user.login}", csrf=session.csrf, links=links)
    response = Response(body, media_type="text/html; charset=utf-8")
    for key, value in security_headers(None):
        response.headers[key.decode()] = value.decode()
    return response
