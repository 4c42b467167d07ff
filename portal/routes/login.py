"""``/healthz``, ``/login`` and ``/logout``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from portal.auth import LOGIN_COOKIE, SESSION_COOKIE
from portal.errors import PortalError
from portal.pages import client_address, render, safe_next, set_cookie
from roadsafe.wording import cn_countdown

router = APIRouter()
log = logging.getLogger("roadsafe.portal")


@router.get("/healthz")
def healthz(request: Request):
    portal = request.app.state.portal
    portal.store.get_user("-")
    return JSONResponse(
        {
            "status": "ok",
            "campaign": portal.campaign.code,
            "snapshot": portal.settings.published.is_file(),
        }
    )


@router.get("/login")
def login_form(request: Request, next: str = "/", reason: str | None = None):
    portal = request.app.state.portal
    session, _ = portal.auth.session(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    notice = {"expired": "登录已超时，请重新登录。", "logout": "您已安全退出。"}.get(reason or "")
    return _login_page(request, next=next, notice=notice)


def _login_page(request, *, next="/", notice=None, error=None, status=200, login=""):
    portal = request.app.state.portal
    token, cookie = portal.auth.new_prelogin()
    response = render(
        portal,
        request,
        "login.html",
        status=status,
        login_token=token,
        next=safe_next(next),
        notice=notice,
        error=error,
        login=login,
    )
    set_cookie(portal, response, LOGIN_COOKIE, cookie, 2 * 3600)
    return response


@router.post("/login")
async def login(request: Request):
    portal = request.app.state.portal
    form = await request.form(max_files=0, max_fields=10)
    login_name = str(form.get("login") or "")[:128]
    password = str(form.get("password") or "")[:1024]
    next_url = str(form.get("next") or "/")
    client = client_address(portal, request)
    if not portal.auth.prelogin_ok(request.cookies.get(LOGIN_COOKIE), str(form.get("csrf_token") or "")):
        return _login_page(
            request,
            next=next_url,
            status=403,
            login=login_name,
            error="页面已过期或安全校验未通过，请重新输入账号和密码登录。",
        )
    result = await run_in_threadpool(portal.auth.login, login_name, password, client)
    if result.busy:
        log.warning("login refused (too many logins at once) for %r from %s", login_name, client)
        response = _login_page(
            request, next=next_url, status=429, login=login_name,
            error="系统繁忙，同时登录的人数过多，请稍后再试。",
        )  # fmt: skip
        response.headers["Retry-After"] = "5"
        return response
    if result.wait:
        log.warning("login refused (back-off %.0f s) for %r from %s", result.wait, login_name, client)
        who = "该账号" if result.limited == "login" else "本机"
        response = _login_page(
            request,
            next=next_url,
            status=429,
            login=login_name,
            error=f"登录失败次数过多，{who}需等待{cn_countdown(result.wait)}后再试。"
            f"如忘记密码，请联系{portal.campaign.frame.office_short}重置。",
        )
        response.headers["Retry-After"] = str(int(result.wait) + 1)
        return response
    if result.user is None:
        log.warning("login failed for %r from %s", login_name, client)
        return _login_page(
            request, next=next_url, status=401, login=login_name, error="账号或密码错误，请重新输入。"
        )
    log.info("login %s from %s", result.user.login, client)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_cookie(portal, response, SESSION_COOKIE, result.cookie, None)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request):
    portal = request.app.state.portal
    session = portal.session_of(request)
    form = await request.form(max_files=0, max_fields=5)
    if not portal.auth.csrf_ok(session, form.get("csrf_token")):
        raise PortalError(403, "安全校验未通过（页面已过期），请刷新页面后重试。")
    portal.auth.logout(session)
    response = RedirectResponse("/login?reason=logout", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
