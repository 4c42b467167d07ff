"""``/upload``: 上传 — choose form and week (or let them be detected); the answer on the page.

The dry run of each upload is bounded: at most ``uploads_per_account`` at once per account and
``uploads_total`` in all (:class:`portal.state.WorkLimit`); beyond that the page says 系统繁忙 (503) at once
and nothing is landed."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from portal.auth import Session
from portal.errors import PortalError
from portal.pages import render
from portal.state import Busy
from portal.uploads import UploadRefused, handle_upload

router = APIRouter()
log = logging.getLogger("roadsafe.portal")
BUSY = "系统繁忙，请稍后再试。同时处理的上传文件过多，本次文件未被接收，请稍等片刻后重新上传。"


def upload_context(portal, session: Session, unit_id: str | None, form_code=None, week=None) -> dict:
    data = portal.data()
    period, _ = data.current_period(portal.clock.now())
    return {
        "unit_id": unit_id,
        "unit_name": portal.unit_name(unit_id) if unit_id else None,
        "forms": [(c, portal.campaign.forms[c]) for c in data.forms_of(unit_id)] if unit_id else [],
        "periods": portal.campaign.periods(),
        "current_week": period.no,
        "chosen_form": form_code,
        "chosen_week": week,
        "units": data.reporting_units() if session.user.is_office else [],
        "max_mb": portal.config.max_upload_bytes // (1024 * 1024),
        "max_bytes": portal.config.max_upload_bytes,
        "due_times": portal.due_times,
    }


@router.get("/upload")
def upload_page(request: Request, unit: str | None = None, form: str | None = None, week: int | None = None):
    portal = request.app.state.portal
    session = portal.session_of(request)
    unit_id = portal.scope_unit(session, unit)
    ctx = upload_context(portal, session, unit_id, form, week)
    return render(portal, request, "upload.html", session=session, **ctx)


@router.post("/upload")
async def upload(request: Request):
    portal = request.app.state.portal
    config = portal.config
    session = portal.session_of(request)
    form = await request.form(max_files=1, max_fields=10)
    try:
        if not portal.auth.csrf_ok(session, form.get("csrf_token")):
            raise PortalError(403, "安全校验未通过（页面已过期），请刷新上传页面后重新选择文件上传。")
        unit_id = portal.scope_unit(session, str(form.get("unit") or "") or None)
        if unit_id is None:
            raise PortalError(400, "请选择填报单位。")
        form_code = str(form.get("form") or "").strip().upper() or None
        if form_code in ("AUTO", "") or form_code is None:
            form_code = None
        elif form_code not in portal.data().forms_of(unit_id):
            raise PortalError(
                403, f"{portal.unit_name(unit_id)}不报送报表“{form_code}”，请从列表中选择本单位的报表。"
            )
        week_text = str(form.get("week") or "").strip()
        week = None
        if week_text and week_text != "auto":
            if not week_text.isdigit() or int(week_text) not in portal.due_times:
                raise PortalError(400, "周次选择不正确，请从列表中选择。")
            week = int(week_text)
        upload_file = form.get("file")
        if upload_file is None or isinstance(upload_file, str) or not getattr(upload_file, "filename", None):
            ctx = upload_context(portal, session, unit_id, form_code, week)
            return render(
                portal, request, "upload.html", status=400, session=session,
                refused="请选择要上传的报表文件。", **ctx,
            )  # fmt: skip
        data = await upload_file.read(config.max_upload_bytes + 1)
        filename = upload_file.filename
    finally:
        await form.close()
    ctx = upload_context(portal, session, unit_id, form_code, week)
    received_at = portal.clock.now()
    login = session.user.login
    refused, outcome = await receive(
        portal, request, session, "upload.html", ctx,
        unit_id=unit_id, form=form_code, period=week, filename=filename, data=data, received_at=received_at,
    )  # fmt: skip
    if refused is not None:
        return refused
    log.info(
        "upload %s by %s for %s: %s (%s)",
        outcome.receipt.receipt_id,
        login,
        unit_id,
        outcome.status,
        "event posted" if outcome.notified else f"no event: {outcome.notify_error}",
    )
    return render(
        portal,
        request,
        "upload.html",
        session=session,
        outcome=outcome,
        result=outcome.result,
        airflow_enabled=portal.notifier.enabled,
        **ctx,
    )


async def receive(
    portal, request, session, template: str, ctx: dict, *, unit_id, form, period, filename, data, received_at
):
    """One landed file through :func:`portal.uploads.handle_upload`, one at a time per login: returns
    ``(refusal page, None)`` when the portal is busy or the file is refused, else ``(None, outcome)``."""
    login = session.user.login

    def pending_ids() -> set[str]:
        return {a.receipt_id for a in portal.data().attempts(unit_id) if a.pending}

    try:
        portal.uploads.acquire(login)
    except Busy:
        log.warning("%s refused (busy) for %s", template, login)
        response = render(portal, request, template, status=503, session=session, refused=BUSY, **ctx)
        response.headers["Retry-After"] = "10"
        return response, None
    try:
        outcome = await run_in_threadpool(
            handle_upload,
            config=portal.config,
            campaign=portal.campaign,
            store=portal.store,
            notifier=portal.notifier,
            login=login,
            unit_id=unit_id,
            form=form,
            period=period,
            filename=filename,
            data=data,
            received_at=received_at,
            pending_ids=pending_ids,
        )
    except UploadRefused as exc:
        log.info("%s refused for %s (%s): %s", template, login, exc.status, exc.message)
        page = render(
            portal, request, template, status=exc.status, session=session, refused=exc.message, **ctx
        )
        return page, None
    finally:
        portal.uploads.release(login)
    return None, outcome
