"""``/cases``: 督办案件 — the office's enforcement register (挂牌督办, 约谈主要负责人, 追责问责移送, 检查组督导):
a case is opened against a unit and a task (from the dispatch list, a 督办单 or by hand), its actions are
recorded with their dates, and it is closed (销号) with evidence (a file checked by content and size,
stored read-only, offered back only as an attachment). ``POST /cases/open|action|close`` are office only
and CSRF-checked; a unit sees its own cases read-only; ``/cases/{id}/evidence`` serves the evidence to the
office or the case's unit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse

from portal.errors import PortalError
from portal.pages import attachment, render
from portal.routes.review import actor, office_page, office_post

router = APIRouter()
MEDIA = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/cases")
def case_list(request: Request, unit: str | None = None):
    from roadsafe.office_record import CASE_KINDS, CASE_SOURCES

    portal, view, context = office_page(request, unit)
    return render(
        portal,
        request,
        "cases.html",
        **context,
        cases=view["cases"],
        when=view["when"],
        name_of=view["unit_name"],
        tasks=portal.campaign.tasks,
        kinds=CASE_KINDS,
        sources=CASE_SOURCES,
    )


async def _act(request: Request, run):
    from roadsafe.office_record import OfficeRecordError

    portal = request.app.state.portal
    form = await request.form()
    session = office_post(portal, request, form)
    try:
        await run(portal, form, actor(session))
    except OfficeRecordError as exc:
        raise PortalError(409, str(exc)) from exc
    return RedirectResponse("/cases", status_code=303)


@router.post("/cases/open")
async def do_open(request: Request):
    from dashboards.office_actions import open_case

    async def run(portal, form, by):
        unit = portal.reporting_unit(str(form.get("unit") or ""))
        if unit is None:
            raise PortalError(404, "找不到该单位。")
        open_case(
            portal.settings, unit.id, case_kind=str(form.get("kind") or ""), title=str(form.get("title") or ""),
            by=by, reason=str(form.get("reason") or ""), at=portal.clock.now(),
            task_no=str(form.get("task") or "") or None, source=str(form.get("source") or "manual"),
            source_ref=str(form.get("source_ref") or "") or None,
        )  # fmt: skip

    return await _act(request, run)


@router.post("/cases/action")
async def do_action(request: Request):
    from dashboards.office_actions import case_action

    async def run(portal, form, by):
        case_action(
            portal.settings, str(form.get("case_id") or ""), action=str(form.get("action") or ""),
            on_date=str(form.get("on_date") or ""), by=by,
            reason=str(form.get("reason") or "") or str(form.get("action") or ""), at=portal.clock.now(),
        )  # fmt: skip

    return await _act(request, run)


@router.post("/cases/close")
async def do_close(request: Request):
    from dashboards.office_actions import close_case
    from roadsafe.office_record import MAX_EVIDENCE_BYTES, OfficeRecordError

    async def run(portal, form, by):
        upload = form.get("evidence")
        if upload is None or not hasattr(upload, "read"):
            raise OfficeRecordError("销号须附证明材料（整改报告、检查记录等），请选择文件后再销号。")
        data = await upload.read(MAX_EVIDENCE_BYTES + 1)
        close_case(
            portal.settings, str(form.get("case_id") or ""), evidence=data,
            evidence_name=upload.filename or "证明材料", by=by, reason=str(form.get("reason") or ""),
            at=portal.clock.now(),
        )  # fmt: skip

    return await _act(request, run)


@router.get("/cases/{case_id}/evidence")
def evidence(request: Request, case_id: str):
    from roadsafe.office_record import OfficeRecord, OfficeRecordError, cases

    portal = request.app.state.portal
    session = portal.session_of(request)
    record = OfficeRecord(portal.settings.home)
    found = {c.case_id: c for c in cases(record.entries(portal.campaign.code))}.get(case_id)
    if found is None or found.closed is None:
        raise PortalError(404, "找不到该案件的证明材料。")
    if not session.user.is_office and session.user.unit_id != found.unit_id:
        raise PortalError(403, "只能查看本单位的督办案件。")
    stored = found.closed["evidence"]
    try:
        path = record.evidence_path(stored["sha256"], stored["ext"])
    except OfficeRecordError as exc:
        raise PortalError(404, str(exc)) from exc
    if not path.is_file():
        raise PortalError(404, "证明材料文件不存在。")
    return FileResponse(
        path,
        media_type=MEDIA[stored["ext"]],
        headers={"Content-Disposition": attachment(stored["name"], f"{case_id}-evidence.{stored['ext']}")},
    )
