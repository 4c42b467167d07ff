"""审核签发 (the office only): the drafts of the scheduled editions and the published ones.

==========================================  ====================================================================
``GET  /signoff``                           drafts (待签发) and published editions (签发人, 更正); make a draft
``POST /signoff/draft``                     freeze the draft of a scheduled edition now
``GET  /signoff/{kind}/{ref}``              one edition: the page as it will be issued, its 按语 and paragraphs,
                                            its record; sign it (draft) or issue a 更正 (published)
``POST /signoff/{kind}/{ref}/note``         set the 按语
``POST /signoff/{kind}/{ref}/reword``       correct a paragraph's wording (figures and units cannot change)
``POST /signoff/{kind}/{ref}/sign``         sign: publish as 第N期 and e-mail it
``POST /signoff/{kind}/{ref}/correct``      issue a 更正 of a published edition
==========================================  ====================================================================

Every action goes through :mod:`dashboards.signoff` / :mod:`dashboards.correction`, as the CLI's
``roadsafe edition``, and is recorded with the office account's login and the reason given.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from portal.errors import PortalError
from portal.pages import render

router = APIRouter()
log = logging.getLogger("roadsafe.portal")

_DONE = {
    "draft": "已生成草稿。",
    "note": "已保存按语。",
    "reword": "已保存段落修改。",
    "sign": "已签发并发送。",
    "correct": "已发布更正通报并发送。",
}


def _office(request: Request):
    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    return portal, session


async def _form(request: Request, portal, session) -> dict:
    form = await request.form(max_files=0, max_fields=10)
    try:
        if not portal.auth.csrf_ok(session, form.get("csrf_token")):
            raise PortalError(403, "安全校验未通过（页面已过期），请刷新页面后重新操作。")
        return {k: str(v) for k, v in form.items() if isinstance(v, str)}
    finally:
        await form.close()


def _upcoming(portal) -> list[dict]:
    """Scheduled weekly and monthly editions around now (a week either side) not drafted or published."""
    from dashboards.edition_meta import MONTHLY_KINDS, WEEKLY_KINDS
    from dashboards.signoff import find_edition, normal_ref
    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import WorkCalendar

    campaign = portal.campaign
    labels = {p.label: p.no for p in campaign.periods()}
    now = portal.clock.now()
    out = []
    for item in build_schedule(campaign, WorkCalendar.load()):
        if item.kind not in WEEKLY_KINDS + MONTHLY_KINDS or abs(item.due_at - now) > dt.timedelta(days=7):
            continue
        ref = normal_ref(item.kind, labels[item.ref] if item.kind in WEEKLY_KINDS else item.ref)
        try:
            find_edition(portal.settings, item.kind, ref)
            continue
        except ValueError:
            pass
        name = campaign.frame.reports[item.kind].name or item.kind
        out.append(
            {"value": f"{item.kind}/{ref}", "text": f"{name}（{item.ref}，{item.due_at:%m月%d日}发布）"}
        )
    return out


@router.get("/signoff")
def signoff_list(request: Request, done: str | None = None):
    from dashboards.correction import list_corrections
    from dashboards.signoff import edition_states

    portal, session = _office(request)
    states = edition_states(portal.settings)
    corrections = {(s.kind, s.ref): list_corrections(portal.settings, s.kind, s.ref) for s in states}
    return render(
        portal, request, "signoff.html", session=session, drafts=[s for s in states if s.state == "draft"],
        published=[s for s in states if s.state != "draft"], corrections=corrections, upcoming=_upcoming(portal),
        done=_DONE.get(done or ""), policy=portal.campaign.frame.editions.unsigned,
    )  # fmt: skip


@router.post("/signoff/draft")
async def make_draft(request: Request):
    from dashboards.signoff import prepare_draft

    portal, session = _office(request)
    fields = await _form(request, portal, session)
    kind, _, ref = fields.get("edition", "").partition("/")
    try:
        state = await run_in_threadpool(
            prepare_draft, portal.settings, kind, ref, frozen_at=portal.clock.now(), who=session.user.login
        )
    except ValueError as exc:
        raise PortalError(400, str(exc)) from None
    return _back(state.kind, state.ref, "draft")


def _back(kind: str, ref: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/signoff/{kind}/{ref}?done={done}", status_code=303)


_SHADOW_PARTS = re.compile(r"(<style>.*?</style>).*?(<article class=\"paper\">.*</article>)", re.S)


def _embedded(edition) -> Markup | None:
    """The edition's page (its style and paper) for a declarative shadow root: shown as issued, its styles
    kept apart from the portal's."""
    page = edition.folder / f"{edition.stem}.html"
    if not page.is_file():
        return None
    match = _SHADOW_PARTS.search(page.read_text(encoding="utf-8"))
    if not match:
        return None
    # the report's own title is an <h1>: inside the preview it is a heading of the portal page's section
    article = match.group(2).replace('<h1 class="title">', '<h2 class="title" style="font-size:16pt">', 1)
    article = article.replace("</h1>", "</h2>", 1)
    phone = "<style>@media (max-width:640px){.paper{padding:4mm 3mm;margin:0}}</style>"  # A4 margins off on a phone
    return Markup(match.group(1) + phone + article)  # generated by the report templates, autoescaped there


def _view(portal, request, session, kind: str, ref: str, status: int = 200, error: str | None = None, **ctx):
    from dashboards.audit import ACTION_WORDS, read_audit
    from dashboards.correction import list_corrections
    from dashboards.signoff import find_edition, read_paragraphs

    try:
        state = find_edition(portal.settings, kind, ref)
    except ValueError:
        raise PortalError(404, "找不到该期报告的草稿或已发布的期次。") from None
    rewordings = state.review.get("rewordings") or {}
    paragraphs = [
        {
            **p,
            "current": rewordings.get(p["key"], {}).get("text", p["text"]),
            "changed": p["key"] in rewordings,
        }
        for p in read_paragraphs(state.edition)
    ]
    entries = [
        {**e, "at": dt.datetime.fromisoformat(e["at"])}
        for e in read_audit(portal.settings, kind=state.kind, ref=state.ref)
    ]
    return render(
        portal, request, "signoff_edition.html", status=status, session=session, s=state, meta=state.edition.meta,
        paragraphs=paragraphs, preview=_embedded(state.edition), error=error,
        files={ext: p for ext, p in state.edition.outputs().items() if p.is_file()} if state.state != "draft" else {},
        corrections=list_corrections(portal.settings, state.kind, state.ref), audit=entries,
        words=ACTION_WORDS, tz=portal.tz, **ctx,
    )  # fmt: skip


@router.get("/signoff/{kind}/{ref}")
def signoff_view(request: Request, kind: str, ref: str, done: str | None = None):
    portal, session = _office(request)
    return _view(portal, request, session, kind, ref, done=_DONE.get(done or ""))


async def _act(request: Request, kind: str, ref: str, action: str, call):
    portal, session = _office(request)
    fields = await _form(request, portal, session)
    try:
        await run_in_threadpool(call, portal, session.user.login, fields)
    except (ValueError, RuntimeError, OSError) as exc:
        log.info("signoff %s %s/%s refused: %s", action, kind, ref, exc)
        message = str(exc)
        if action == "sign" and not isinstance(exc, ValueError):
            message = f"已签发，但邮件发送失败：{exc}。请联系技术人员检查邮件服务器后重新发送。"
        return _view(portal, request, session, kind, ref, status=400, error=message, fields=fields)
    return _back(kind, ref, action)


@router.post("/signoff/{kind}/{ref}/note")
async def note(request: Request, kind: str, ref: str):
    from dashboards.signoff import set_note

    def call(portal, who, f):
        set_note(portal.settings, kind, ref, f.get("note", ""), who=who, reason=f.get("reason"))

    return await _act(request, kind, ref, "note", call)


@router.post("/signoff/{kind}/{ref}/reword")
async def reword(request: Request, kind: str, ref: str):
    from dashboards.signoff import reword as change

    def call(portal, who, f):
        change(
            portal.settings, kind, ref, f.get("key", ""), f.get("text", ""), who=who, reason=f.get("reason")
        )

    return await _act(request, kind, ref, "reword", call)


@router.post("/signoff/{kind}/{ref}/sign")
async def sign(request: Request, kind: str, ref: str):
    from dashboards.signoff import sign as do_sign

    def call(portal, who, f):
        if f.get("confirm") != "yes":
            raise ValueError("请勾选“已审阅，同意签发”后再签发。")
        do_sign(portal.settings, kind, ref, who=who, reason=f.get("reason"))

    return await _act(request, kind, ref, "sign", call)


@router.post("/signoff/{kind}/{ref}/correct")
async def correct(request: Request, kind: str, ref: str):
    from dashboards.correction import correct as do_correct

    def call(portal, who, f):
        do_correct(portal.settings, kind, ref, who=who, reason=f.get("reason", ""))

    return await _act(request, kind, ref, "correct", call)


@router.get("/signoff/{kind}/{ref}/corrections/{number}/{name}")
def correction_file(request: Request, kind: str, ref: str, number: int, name: str):
    from fastapi.responses import FileResponse

    from dashboards.correction import list_corrections
    from portal.pages import attachment
    from portal.routes.office import MEDIA

    portal, _session = _office(request)
    for c in list_corrections(portal.settings, kind, ref):
        if c.data["number"] == number:
            for ext, path in c.outputs().items():
                if path.name == name and path.is_file():
                    label = f"{c.data.get('title') or kind}-{ref}-更正{number}.{ext}"
                    headers = {"Content-Disposition": attachment(label, name)}
                    return FileResponse(path, media_type=MEDIA[ext], headers=headers)
    raise PortalError(404, "找不到该更正通报。")
