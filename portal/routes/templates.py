"""``/templates``: 下载模板 — the unit's blank forms, prefilled for a week."""

from __future__ import annotations

import shutil
import threading
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal.errors import PortalError
from portal.pages import attachment, render

router = APIRouter()


@router.get("/templates")
def templates_page(request: Request, unit: str | None = None, week: int | None = None):
    portal = request.app.state.portal
    session = portal.session_of(request)
    unit_id = portal.scope_unit(session, unit)
    data = portal.data()
    period, _ = data.current_period(portal.clock.now())
    week = week if week in portal.due_times else period.no
    forms = data.forms_of(unit_id) if unit_id else []
    units = data.reporting_units() if session.user.is_office else []
    return render(
        portal,
        request,
        "templates.html",
        session=session,
        unit_id=unit_id,
        unit_name=portal.unit_name(unit_id) if unit_id else None,
        forms=[(code, portal.campaign.forms[code]) for code in forms],
        week=week,
        periods=portal.campaign.periods(),
        due_times=portal.due_times,
        units=units,
        led=portal.campaign.tasks_led_by(unit_id) if unit_id else [],
    )


@router.get("/templates/{name}")
def template_file(request: Request, name: str, week: int | None = None, unit: str | None = None):
    portal = request.app.state.portal
    session = portal.session_of(request)
    unit_id = portal.scope_unit(session, unit)
    if unit_id is None:
        raise PortalError(400, "请先选择填报单位。")
    code = name.removesuffix(".xlsx").upper()
    if code not in portal.campaign.forms:
        raise PortalError(404, f"报表“{name}”不存在。")
    if code not in portal.data().forms_of(unit_id):
        raise PortalError(
            403, f"{portal.unit_name(unit_id)}不是《{portal.campaign.forms[code].name}》的报送单位。"
        )
    if week is None:
        week = portal.data().current_period(portal.clock.now())[0].no
    if week not in portal.due_times:
        raise PortalError(400, f"周次“{week}”不在本次整治的报送期内。")
    content, filename = _template_bytes(portal, code, unit_id, week)
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": attachment(filename, f"{code}-week{week:02d}.xlsx")},
    )


_TEMPLATE_CACHE: dict[tuple, tuple[bytes, str]] = {}
_TEMPLATE_LOCK = threading.Lock()


def _template_bytes(portal, code: str, unit_id: str, week: int) -> tuple[bytes, str]:
    """The blank form of ``ingest.templates.write_template`` (kept in memory once made)."""
    from ingest.formfile import form_filename
    from ingest.templates import write_template

    key = (portal.campaign.code, code, unit_id, week)
    with _TEMPLATE_LOCK:
        if key in _TEMPLATE_CACHE:
            return _TEMPLATE_CACHE[key]
    folder = portal.settings.tmp / f"portal-template-{uuid.uuid4().hex}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path = write_template(portal.campaign, code, unit_id, week, folder / "template.xlsx")
        content = path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    filename = form_filename(portal.campaign, code, unit_id, week)
    with _TEMPLATE_LOCK:
        if len(_TEMPLATE_CACHE) > 256:
            _TEMPLATE_CACHE.clear()
        _TEMPLATE_CACHE[key] = (content, filename)
    return content, filename
