"""``/review``: 退回与情况说明 — the office returns an accepted file (退回, with its reason; the unit is told
by e-mail and group robot) or records a 情况说明 for a late or missing one; a unit sees its own, read-only.
``POST /review/return`` and ``POST /review/excuse`` are office only and CSRF-checked; each decision goes to
the office's record (who, when, why) through :mod:`dashboards.office_actions` and counts in the figures
from the next build (shown 待生效 until then)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from portal.errors import PortalError
from portal.pages import render

router = APIRouter()
log = logging.getLogger("roadsafe.portal")


def office_post(portal, request: Request, form) -> object:
    """The office session behind a POST, CSRF checked (403 for a unit or a stale page)."""
    session = portal.session_of(request)
    portal.need_office(session)
    if not portal.auth.csrf_ok(session, form.get("csrf_token")):
        raise PortalError(403, "安全校验未通过（页面已过期），请刷新页面后重试。")
    return session


def actor(session) -> str:
    return f"portal:{session.user.login}"


def office_page(request: Request, unit: str | None):
    """What the review and case pages share: the portal, the unit in scope (a unit only its own), the
    office's record as that unit may see it, and the context every such page renders with."""
    from dashboards.office_actions import office_view

    portal = request.app.state.portal
    session = portal.session_of(request)
    unit_id = portal.scope_unit(session, unit)
    campaign = portal.campaign
    context = {
        "session": session,
        "unit_id": unit_id,
        "unit_name": portal.unit_name(unit_id) if unit_id else None,
        "office": session.user.is_office,
        "units": [u for u in campaign.units.values() if u.kind in ("county", "department")],
    }
    return portal, office_view(portal.settings, unit_id), context


@router.get("/review")
def review(request: Request, unit: str | None = None):
    portal, view, context = office_page(request, unit)
    return render(
        portal,
        request,
        "review.html",
        **context,
        decisions=view["decisions"],
        forms=list(portal.campaign.forms.items()),
        periods=portal.campaign.periods(),
    )


@router.post("/review/return")
async def do_return(request: Request):
    from dashboards.office_actions import deliver_return, return_submission
    from roadsafe.office_record import OfficeRecordError

    portal = request.app.state.portal
    form = await request.form()
    session = office_post(portal, request, form)
    try:
        entry = return_submission(
            portal.settings,
            str(form.get("submission_id") or ""),
            by=actor(session),
            reason=str(form.get("reason") or ""),
            at=portal.clock.now(),
        )
    except OfficeRecordError as exc:
        raise PortalError(409, str(exc)) from exc
    try:
        deliver_return(portal.settings, entry)
    except Exception:  # noqa: BLE001 - the decision stands; the notice can be sent again from the record
        log.exception("telling %s of return %s failed", entry["unit_id"], entry["id"])
    return RedirectResponse("/review", status_code=303)


@router.post("/review/excuse")
async def do_excuse(request: Request):
    from dashboards.office_actions import excuse_submission
    from roadsafe.office_record import OfficeRecordError

    portal = request.app.state.portal
    form = await request.form()
    session = office_post(portal, request, form)
    unit = portal.reporting_unit(str(form.get("unit") or ""))
    if unit is None:
        raise PortalError(404, "找不到该单位。")
    try:
        period = int(str(form.get("period") or ""))
    except ValueError:
        raise PortalError(400, "请在“周次”中选择一周。") from None
    try:
        excuse_submission(
            portal.settings,
            unit.id,
            str(form.get("form") or ""),
            period,
            by=actor(session),
            reason=str(form.get("reason") or ""),
            at=portal.clock.now(),
        )
    except OfficeRecordError as exc:
        raise PortalError(409, str(exc)) from exc
    return RedirectResponse("/review", status_code=303)


def unit_notes(portal, unit_id: str, attempts) -> dict:
    """For the unit's own page: its returns still standing (no file for the same form and week received
    after the return) and its open 督办案件."""
    import datetime as dt

    from dashboards.office_actions import office_view

    view = office_view(portal.settings, unit_id)
    standing = []
    for d in view["decisions"]:
        if d["kind"] != "return":
            continue
        at = dt.datetime.fromisoformat(d["at"])
        if not any(
            a.form_code == d["form_code"] and a.period_no == d["period_no"] and a.received_at > at
            and a.status in ("accepted", "pending")
            for a in attempts
        ):  # fmt: skip
            standing.append(d)
    return {"returns": standing, "cases": view["open_cases"], "when": view["when"]}
