"""``/entry``: 在线填报 — the task progress form (the campaign's task-grain form, F9) typed into a web page.

What a unit enters becomes a file like any other: the form's own template (:func:`ingest.templates.
template_layout`, the workbook ``/templates`` offers) with the entered rows filled in, written by the same
writer, so the same bytes come out of the same entry (the receipt's sha256 names the entry). That workbook
then takes the upload's path (:func:`portal.uploads.handle_upload`): landed as the original, receipt
(channel ``portal``, ``submitted_by`` the login), the ingest dry run on the page, the asset event; ingestion
loads it as it loads an uploaded file. Nothing is checked here that the file checks do not check: a missing
完成状态 is the same error, with the same row and column, as in an uploaded workbook.

A unit is offered its own tasks: those it leads as rows to fill; those it only co-leads (协作) listed with
what a co-responsible unit owes (``co_duty``), since the form is the lead units' report. The office may enter
for a unit as it may upload for one (``?unit=``); the receipt and the portal's record name the office login.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from portal.errors import PortalError
from portal.pages import render
from portal.routes.upload import receive

__all__ = ["MAX_CHARS", "entry_form", "entry_workbook", "router"]

router = APIRouter()
log = logging.getLogger("roadsafe.portal")

MAX_CHARS = 2000  # one text field (a page of Chinese); the request itself is limited to 64 KiB
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def entry_form(campaign) -> str | None:
    """The code of the campaign's task-grain form (the progress report), or None."""
    return next((code for code, form in campaign.forms.items() if form.grain == "task"), None)


def _task_column(form) -> str:
    return next(c.key for c in form.columns if c.type == "task")


def _fields(form) -> list:
    """The columns a unit types in (every column but the prefilled task number)."""
    return [c for c in form.columns if c.type != "task"]


def _own_tasks(campaign, unit_id: str) -> tuple[list, list]:
    """(tasks the unit leads, tasks it only co-leads), in task order."""
    led = set(campaign.tasks_led_by(unit_id))
    co = [t for t in campaign.tasks if t.no not in led and unit_id in campaign.expand_units(list(t.co))]
    return [t for t in campaign.tasks if t.no in led], co


def _clean(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def entry_workbook(campaign, form_code: str, unit_id: str, week: int, entries: dict[int, dict]) -> tuple:
    """The workbook of an entry: the form's template for the unit and week with one row per entered task.

    ``entries`` maps task number → {column key: text}. Returns (bytes, file name). The same entry gives the
    same bytes (the writer stamps the week's fixed creation time)."""
    from ingest.formfile import form_filename, write_form_xlsx
    from ingest.templates import template_layout, template_rows

    form = campaign.forms[form_code]
    key = _task_column(form)
    rows_all, comments_all = template_rows(campaign, form_code, unit_id)
    _, layout = template_layout(campaign, form_code, unit_id, week)
    rows, comments = [], {}
    for i, row in enumerate(rows_all):
        entered = entries.get(int(row[key]))
        if not entered:
            continue
        j = len(rows)
        rows.append({**row, **entered})
        comments.update({(j, k): text for (n, k), text in comments_all.items() if n == i})
    layout = dataclasses.replace(layout, cell_comments=comments, validation_rows=len(rows))
    with tempfile.TemporaryDirectory(prefix="roadsafe-entry-") as folder:
        path = Path(folder) / "entry.xlsx"
        write_form_xlsx(path, campaign, form_code, unit_id, week, rows, layout=layout)
        content = path.read_bytes()
    name = form_filename(campaign, form_code, unit_id, week).removesuffix(".xlsx") + "（在线填报）.xlsx"
    return content, name


def _context(portal, session, unit_id: str | None, week: int | None, values: dict | None = None) -> dict:
    campaign = portal.campaign
    code = entry_form(campaign)
    data = portal.data()
    period, _ = data.current_period(portal.clock.now())
    led, co = _own_tasks(campaign, unit_id) if unit_id else ([], [])
    form = campaign.forms[code] if code else None
    return {
        "unit_id": unit_id,
        "unit_name": portal.unit_name(unit_id) if unit_id else None,
        "units": [u for u in data.reporting_units() if campaign.tasks_led_by(u.id)]
        if session.user.is_office
        else [],
        "form_code": code,
        "form": form,
        "fields": _fields(form) if form else [],
        "led": led if code and unit_id and code in data.forms_of(unit_id) else [],
        "co": co,
        "co_duty": campaign.frame.co_duty,
        "leads_of": {t.no: "、".join(portal.unit_name(u) for u in campaign.task_leads(t.no)) for t in co},
        "periods": campaign.periods(),
        "week": week if week in portal.due_times else period.no,
        "current_week": period.no,
        "values": values or {},
        "max_chars": MAX_CHARS,
    }


@router.get("/entry")
def entry_page(request: Request, unit: str | None = None, week: int | None = None):
    portal = request.app.state.portal
    session = portal.session_of(request)
    unit_id = portal.scope_unit(session, unit)
    return render(portal, request, "entry.html", session=session, **_context(portal, session, unit_id, week))


def _read_entries(form, fields, led, posted) -> tuple[dict[int, dict], dict]:
    """The entered rows (tasks with at least one field filled) and every posted value (to show again)."""
    entries, values = {}, {}
    for task in led:
        row = {}
        for col in fields:
            raw = posted.get(f"t{task.no}-{col.key}")
            text = _clean(raw) if isinstance(raw, str) else ""
            if len(text) > MAX_CHARS:
                raise PortalError(
                    400, f"任务{task.no}的“{col.header}”超过{MAX_CHARS}字，请精简后再提交（本次未提交）。"
                )
            values[(task.no, col.key)] = text
            if text:
                row[col.key] = text
        if row:
            entries[task.no] = row
    return entries, values


@router.post("/entry")
async def entry_submit(request: Request):
    portal = request.app.state.portal
    session = portal.session_of(request)
    posted = await request.form(max_files=0, max_fields=400)
    try:
        if not portal.auth.csrf_ok(session, posted.get("csrf_token")):
            raise PortalError(403, "安全校验未通过（页面已过期），请刷新在线填报页面后重新填写提交。")
        unit_id = portal.scope_unit(session, str(posted.get("unit") or "") or None)
        if unit_id is None:
            raise PortalError(400, "请选择填报单位。")
        week_text = str(posted.get("week") or "").strip()
        if not week_text.isdigit() or int(week_text) not in portal.due_times:
            raise PortalError(400, "周次选择不正确，请从列表中选择。")
        week = int(week_text)
        ctx = _context(portal, session, unit_id, week)
        if not ctx["led"]:
            raise PortalError(
                403, f"{portal.unit_name(unit_id)}不是任何重点任务的牵头单位，无需在线填报推进情况。"
            )
        entries, values = _read_entries(ctx["form"], ctx["fields"], ctx["led"], posted)
    finally:
        await posted.close()
    ctx["values"] = values
    if not entries:
        return render(
            portal, request, "entry.html", status=400, session=session,
            refused="请至少填写一项任务的推进情况后再提交。", **ctx,
        )  # fmt: skip
    login = session.user.login
    content, name = await run_in_threadpool(
        entry_workbook, portal.campaign, ctx["form_code"], unit_id, week, entries
    )

    refused, outcome = await receive(
        portal, request, session, "entry.html", ctx,
        unit_id=unit_id, form=ctx["form_code"], period=week, filename=name, data=content,
        received_at=portal.clock.now(),
    )  # fmt: skip
    if refused is not None:
        return refused
    log.info(
        "online entry %s by %s for %s (%s, week %s, %d tasks, sha256 %s): %s",
        outcome.receipt.receipt_id,
        login,
        unit_id,
        ctx["form_code"],
        week,
        len(entries),
        outcome.receipt.sha256,
        outcome.status,
    )
    return render(
        portal,
        request,
        "entry.html",
        session=session,
        outcome=outcome,
        result=outcome.result,
        airflow_enabled=portal.notifier.enabled,
        on_behalf=session.user.is_office,
        **ctx,
    )
