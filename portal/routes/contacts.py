"""``/contacts`` (the office only): the units' 联络员名单 — see it, download it as Excel, replace it by uploading
an edited list (checked as ``roadsafe contacts import`` does: every problem in Chinese with its row and
column, nothing stored while any remains). The list is personal data: units never see it."""

from __future__ import annotations

import os
import tempfile

from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal.errors import PortalError
from portal.pages import attachment, render

router = APIRouter()

_MAX_BYTES = 2 * 1024 * 1024


def _page(portal, request, session, status: int = 200, **ctx):
    from roadsafe.contacts import load_contacts

    contacts = load_contacts(portal.settings)
    units = [u for u in portal.campaign.units.values() if u.kind in ("county", "department")]
    return render(
        portal,
        request,
        "contacts.html",
        status=status,
        session=session,
        contacts=list(contacts.values()),
        without=[u.name for u in units if u.id not in contacts],
        **ctx,
    )


@router.get("/contacts")
def contacts(request: Request):
    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    return _page(portal, request, session)


@router.get("/contacts.xlsx")
def contacts_xlsx(request: Request):
    from roadsafe.contacts import export_xlsx, load_contacts

    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    portal.settings.tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=portal.settings.tmp) as work:
        path = export_xlsx(load_contacts(portal.settings), os.path.join(work, "contacts.xlsx"))
        data = path.read_bytes()
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": attachment("联络员名单.xlsx", "contacts.xlsx")},
    )


@router.post("/contacts")
async def replace(request: Request):
    from roadsafe.contacts import ContactsError, import_xlsx, save_contacts

    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    form = await request.form(max_files=1, max_fields=5)
    try:
        if not portal.auth.csrf_ok(session, form.get("csrf_token")):
            raise PortalError(403, "安全校验未通过（页面已过期），请刷新页面后重新上传。")
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not getattr(upload, "filename", None):
            return _page(portal, request, session, status=400, problems=["请选择联络员名单 Excel 文件。"])
        data = await upload.read(_MAX_BYTES + 1)
    finally:
        await form.close()
    if len(data) > _MAX_BYTES:
        return _page(portal, request, session, status=413, problems=["文件超过 2 MB，不像联络员名单。"])
    portal.settings.tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=portal.settings.tmp) as work:
        path = os.path.join(work, "联络员名单.xlsx")
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            contacts = import_xlsx(portal.campaign, path)
        except ContactsError as exc:
            return _page(portal, request, session, status=400, problems=exc.problems)
    save_contacts(portal.settings, contacts)
    return _page(portal, request, session, saved=len(contacts))
