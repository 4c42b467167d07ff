"""``/office`` (the campaign office): the submission matrix, units × forms × weeks, and the editions;
``/editions/{kind}/{ref}/{file}`` an edition's HTML / PDF / XLSX (as an attachment)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from portal.errors import PortalError
from portal.pages import attachment, render
from portal.routes.history import has_macros
from portal.status import STATE_LABELS

router = APIRouter()
log = logging.getLogger("roadsafe.portal")
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/office")
def office(request: Request, week: int | None = None):
    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    now = portal.clock.now()
    data = portal.data()
    attempts = data.attempts(None)
    cells = data.cells(attempts, now)
    period, ended = data.current_period(now)
    week = week if week in portal.due_times else period.no
    units = data.reporting_units()
    forms = list(portal.campaign.forms)
    periods = portal.campaign.periods()
    summary = {}
    for u in units:
        for p in periods:
            mine = [cells[(c, u.id, p.no)] for c in forms if (c, u.id, p.no) in cells]
            summary[(u.id, p.no)] = _summarise(mine)
    counts = {}
    for (_code, _uid, pno), cell in cells.items():
        if pno == week:
            counts[cell.state] = counts.get(cell.state, 0) + 1
    from dashboards.editions import list_editions

    try:
        editions = list_editions(portal.settings)
    except Exception:  # noqa: BLE001 - a broken edition folder must not take the page down
        log.exception("listing editions failed")
        editions = []
    latest = {}
    for e in editions:
        latest[e.meta.kind] = e
    return render(
        portal,
        request,
        "office.html",
        session=session,
        cells=cells,
        units=units,
        forms=forms,
        form_defs=portal.campaign.forms,
        periods=periods,
        week=week,
        current=period,
        ended=ended,
        summary=summary,
        counts=counts,
        snapshot=data.snapshot_available,
        editions=editions,
        latest=list(latest.values()),
        due_times=portal.due_times,
        pending=sum(1 for a in attempts if a.pending),
        macro_files=sum(1 for a in attempts if has_macros(a.original_name)),
        ops=_operations(portal),
    )


def _operations(portal):
    """The campaign's operational status (``roadsafe status``), Airflow read with the portal's own account."""
    from roadsafe.opstatus import AirflowRest, collect

    c = portal.config
    airflow = None
    if c.airflow_url:
        airflow = AirflowRest(c.airflow_url, c.airflow_username, c.airflow_password, c.airflow_token, timeout=2.0)
    try:
        return collect([portal.settings], root=portal.settings.root, airflow=airflow)
    except Exception:  # noqa: BLE001 - the status section must not take the page down
        log.exception("computing the operational status failed")
        return None


@router.get("/editions/{kind}/{ref}/{name}")
def edition_file(request: Request, kind: str, ref: str, name: str):
    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    from dashboards.editions import list_editions

    for e in list_editions(portal.settings):
        if e.meta.kind == kind and e.folder.name == ref:
            for ext, path in e.outputs().items():
                if path.name == name and path.is_file():
                    return FileResponse(
                        path, media_type=MEDIA[ext], headers={"Content-Disposition": attachment(name, name)}
                    )
    raise PortalError(404, "找不到该期报告。")


def _summarise(cells) -> tuple[str, str]:
    """(css class, text) of one unit's week: all forms in, some missing, …"""
    if not cells:
        return "na", ""
    done = sum(1 for c in cells if c.state in ("ok", "late"))
    text = f"{done}/{len(cells)}"
    states = {c.state for c in cells}
    for state in ("missing", "rejected", "pending_bad", "pending", "late", "open"):
        if state in states:
            css = STATE_LABELS[state][1]
            if state == "open" and done:
                css = "partial"
            return css, text
    return "ok", text
