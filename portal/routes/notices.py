"""``/notices``: 催报与督办 — a unit's reminders (every delivery attempt, as of the last published snapshot)
and its 督办单; for the office, the 督办 candidates with the button that issues a 督办单, the 督办单 issued
and the notices that reached nobody. ``POST /duban`` issues and sends one (office only, CSRF-checked);
``/duban/{no}.pdf`` downloads one (the office, or the unit it is addressed to)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse

from portal.errors import PortalError
from portal.pages import attachment, render

router = APIRouter()
log = logging.getLogger("roadsafe.portal")

_STATE = {"sent": "已送达", "failed": "发送失败", "no_contact": "无联络方式"}
_ROUTE = {"email": "邮件", "robot": "群机器人", "office_robot": "办公室群机器人", "none": "—"}
_RUNG = {
    "reminder": "报送提醒",
    "overdue": "逾期通知",
    "escalation": "逾期督促",
    "receipt": "报送回执",
    "duban": "督办单",
}


def _ledger(portal, unit_id: str | None) -> tuple[list[dict], list[dict], list[dict]]:
    """(attempts, undelivered, candidates) from the published snapshot; empty without one."""
    from dashboards.duban import duban_candidates
    from dashboards.outreach import ledger_rows, undelivered
    from roadsafe.warehouse import SnapshotMissing, open_snapshot

    try:
        con = open_snapshot(portal.settings.published)
    except SnapshotMissing:
        return [], [], []
    try:
        rows = [r for r in ledger_rows(con, portal.campaign.code) if r["state"] != "claimed"]
        rows = [r for r in rows if unit_id is None or r["unit_id"] == unit_id]
        missing = undelivered(con, portal.campaign.code) if unit_id is None else []
        candidates = duban_candidates(con, portal.campaign, portal.clock.now()) if unit_id is None else []
    finally:
        con.close()
    return rows, missing, candidates


@router.get("/notices")
def notices(request: Request, unit: str | None = None):
    from dashboards.duban import list_duban

    portal = request.app.state.portal
    session = portal.session_of(request)
    unit_id = portal.scope_unit(session, unit)
    rows, missing, candidates = _ledger(portal, unit_id)
    issued = list_duban(portal.settings, unit_id)
    return render(
        portal,
        request,
        "notices.html",
        session=session,
        unit_id=unit_id,
        unit_name=portal.unit_name(unit_id) if unit_id else None,
        rows=rows[:500],
        missing=missing,
        candidates=candidates,
        issued=issued,
        STATE=_STATE,
        ROUTE=_ROUTE,
        RUNG=_RUNG,
    )


@router.post("/duban")
async def issue(request: Request):
    from dashboards.duban import DubanRefused, issue_duban
    from dashboards.outreach import deliver_duban

    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    form = await request.form()
    if not portal.auth.csrf_ok(session, form.get("csrf_token")):
        raise PortalError(403, "安全校验未通过（页面已过期），请刷新页面后重试。")
    unit = portal.reporting_unit(str(form.get("unit") or ""))
    if unit is None:
        raise PortalError(404, "找不到该单位。")
    now = portal.clock.now()
    try:
        duban = issue_duban(portal.settings, unit.id, issued_at=now)
    except DubanRefused as exc:
        raise PortalError(409, str(exc)) from exc
    try:
        deliver_duban(portal.settings, duban)
    except Exception:  # noqa: BLE001 - the document stands; delivery is retried with `roadsafe duban`
        log.exception("delivering %s failed", duban.number)
    return RedirectResponse(f"/notices?unit={unit.id}", status_code=303)


@router.get("/duban/{no}.pdf")
def duban_pdf(request: Request, no: int):
    from dashboards.duban import list_duban

    portal = request.app.state.portal
    session = portal.session_of(request)
    found = [d for d in list_duban(portal.settings) if d.no == no]
    if not found:
        raise PortalError(404, "找不到该督办单。")
    duban = found[0]
    if not session.user.is_office and session.user.unit_id != duban.unit_id:
        raise PortalError(403, "只能查看本单位的督办单。")
    return FileResponse(
        duban.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": attachment(f"{duban.number}.pdf", f"duban-{duban.no}.pdf")},
    )
