"""``/history``: 报送历史 — every attempt with its file, status and messages; ``/files/{id}`` the original
file of one of them (always an attachment, never shown inline; macro workbooks are flagged)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from portal.errors import PortalError
from portal.pages import attachment, render

router = APIRouter()

MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlsb", ".xlam")


def has_macros(name: str | None) -> bool:
    """Whether a file name is that of a macro-enabled workbook (offered only as an attachment, flagged)."""
    return bool(name) and name.lower().endswith(MACRO_SUFFIXES)


def _receipt_no(receipt_id: str | None) -> str:
    from portal.uploads import receipt_no

    return receipt_no(receipt_id) if receipt_id else "—"


@router.get("/history")
def history(request: Request, unit: str | None = None):
    portal = request.app.state.portal
    session = portal.session_of(request)
    unit_id = portal.scope_unit(session, unit)
    data = portal.data()
    if unit_id is None:
        attempts = data.attempts(None)
    else:
        attempts = data.attempts(unit_id, with_messages=True)
    attempts.sort(key=lambda a: a.received_at, reverse=True)
    return render(
        portal,
        request,
        "history.html",
        session=session,
        unit_id=unit_id,
        unit_name=portal.unit_name(unit_id) if unit_id else "全部单位",
        attempts=attempts[:1000],
        total=len(attempts),
        snapshot=data.snapshot_available,
        campaign=portal.campaign,
        units={u.id: u.name for u in portal.campaign.units.values()},
        receipt_no=_receipt_no,
        has_macros=has_macros,
    )


@router.get("/files/{key}")
def original_file(request: Request, key: str):
    portal = request.app.state.portal
    session = portal.session_of(request)
    unit_id = portal.scope_unit(session, None) if not session.user.is_office else None
    found = next((a for a in portal.data().attempts(unit_id) if key in (a.submission_id, a.receipt_id)), None)
    if found is None or not found.stored_path:
        raise PortalError(404, "找不到该文件，或该文件不属于本单位。")
    landing = portal.settings.landing.resolve()
    path = (portal.settings.home / found.stored_path).resolve()
    if not path.is_relative_to(landing) or not path.is_file():
        raise PortalError(404, "找不到该文件。")
    return FileResponse(
        path,
        media_type="application/octet-stream",
        headers={"Content-Disposition": attachment(found.original_name, f"{key}{path.suffix}")},
    )
