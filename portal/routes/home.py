"""``/``: 我的填报任务 — this week's forms, their state, the countdown and what is still open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from portal.pages import render
from portal.routes.review import unit_notes
from roadsafe.wording import cn_countdown

router = APIRouter()


@router.get("/")
def home(request: Request, unit: str | None = None):
    portal = request.app.state.portal
    session = portal.session_of(request)
    if session.user.is_leader:  # a leader's home is the leaders' front page
        return RedirectResponse("/leaders/", status_code=303)
    unit_id = portal.scope_unit(session, unit)
    if unit_id is None:
        return RedirectResponse("/office", status_code=303)
    now = portal.clock.now()
    data = portal.data()
    attempts = data.attempts(unit_id)
    cells = data.cells(attempts, now, {unit_id})
    period, ended = data.current_period(now)
    due = portal.due_times[period.no]
    forms = data.forms_of(unit_id)
    rows = []
    for code in forms:
        cell = cells[(code, unit_id, period.no)]
        rows.append({"code": code, "form": portal.campaign.forms[code], "cell": cell})
    past_periods = [p for p in portal.campaign.periods() if p.no <= period.no]
    open_items = [
        (p, code, cells[(code, unit_id, p.no)])
        for p in past_periods
        if p.no < period.no
        for code in forms
        if cells[(code, unit_id, p.no)].state in ("missing", "rejected", "pending_bad")
    ]
    return render(
        portal,
        request,
        "home.html",
        session=session,
        unit_id=unit_id,
        unit_name=portal.unit_name(unit_id),
        office_view=session.user.is_office,
        period=period,
        ended=ended,
        due=due,
        seconds_left=int((due - now).total_seconds()),
        countdown=cn_countdown((due - now).total_seconds()),
        rows=rows,
        forms=forms,
        cells=cells,
        periods=past_periods,
        open_items=open_items,
        first_visit=not attempts,
        snapshot=data.snapshot_available,
        due_times=portal.due_times,
        campaign=portal.campaign,
        office_notes=unit_notes(portal, unit_id, attempts),  # returns and open cases (routes/review.py)
    )
