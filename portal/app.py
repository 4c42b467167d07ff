"""The upload portal: a small FastAPI application with server-rendered Chinese pages.

==============================  ========================================================================
``GET  /healthz``               200 ``{"status": "ok"}`` once the campaign, templates and accounts are loaded
``GET  /login`` ``POST /login`` log in (CSRF token bound to a pre-login cookie; rate-limited)
``POST /logout``                log out
``GET  /``                      我的填报任务: this week's forms, received or not, on time or late,
                                accepted or rejected, the countdown to the next due time, earlier weeks
``GET  /templates``             下载模板: the unit's forms; ``/templates/F1.xlsx?week=5`` the file
``GET  /upload`` ``POST``       上传: choose form and week (or let them be detected); the answer on the page
``GET  /entry`` ``POST``        在线填报: the task progress form typed in, landed as its generated workbook
``GET  /history``               报送历史: every attempt with its file, status and messages
``GET  /files/{id}``            the original file of one of the unit's attempts
``GET  /office``                (office) the submission matrix, units × forms × weeks, and the editions
``GET  /campaign-setup`` ``POST`` (office) import a 责任分工表 as a draft, see the report, confirm to write it
``GET  /editions/{kind}/{ref}/{file}``  (office) an edition's HTML / PDF / XLSX
``GET  /review`` ``POST``       退回与情况说明: (office) return a file / excuse a late one; a unit sees its own
``GET  /cases`` ``POST``        督办案件: (office) open, act on, close (销号, with evidence) a case; a unit reads its own
==============================  ========================================================================

A unit sees and submits only its own forms (every unit-scoped page refuses another unit with 403); the
office role sees everything and may pick a unit (``?unit=``). The portal reads the published snapshot
read-only and writes only its own sqlite file and, through :mod:`ingest.landing`, the landing zone, and
the office's decisions to their append-only record (:mod:`roadsafe.office_record`).
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.auth import SESSION_COOKIE
from portal.config import PortalConfig
from portal.errors import ERROR_TEXT, LoginRequired, PortalError
from portal.pages import error_html, error_page, security_headers
from portal.routes import (
    campaign_setup,
    cases,
    contacts,
    editions,
    entry,
    history,
    home,
    login,
    notices,
    office,
    review,
    templates,
    upload,
)
from portal.routes import leaders as leaders_view
from portal.state import Portal
from portal.uploads import too_large_message

__all__ = ["create_app", "serve"]

log = logging.getLogger("roadsafe.portal")


def create_app(config: PortalConfig | None = None) -> FastAPI:
    """The portal application (``config`` defaults to :meth:`PortalConfig.from_env`)."""
    config = config or PortalConfig.from_env()
    config.check()
    portal = Portal(config)

    @asynccontextmanager
    async def lifespan(app):
        portal.start_retry()
        try:
            yield
        finally:
            portal.stop_retry()

    app = FastAPI(title="roadsafe portal", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.portal = portal
    app.add_middleware(_BodyLimit, portal=portal)
    app.add_middleware(_SecurityHeaders)
    for module in (login, home, templates, upload, history, office, notices, contacts):
        app.include_router(module.router)
    for module in (entry, campaign_setup):  # 在线填报; the office's campaign set-up
        app.include_router(module.router)
    for module in (review, cases):  # the office's decisions and enforcement register
        app.include_router(module.router)
    app.include_router(editions.router)  # 审核签发: drafts, 按语, signing, 更正

    app.include_router(leaders_view.router)  # the leaders' view (/leaders/)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        if request.method != "GET":
            response = error_page(
                portal, request, 401, "登录已超时或尚未登录，请重新登录后再操作（本次提交未被接收）。"
            )
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            query = {"next": target}
            if exc.reason == "expired":
                query["reason"] = "expired"
            response = RedirectResponse("/login?" + urllib.parse.urlencode(query), status_code=303)
        if exc.reason:
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(PortalError)
    async def _portal_error(request: Request, exc: PortalError):
        session, _ = portal.auth.session(request.cookies.get(SESSION_COOKIE))
        return error_page(portal, request, exc.status, exc.message, session=session)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        status = exc.status_code if exc.status_code in ERROR_TEXT else 500
        return error_page(portal, request, status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return error_page(portal, request, 400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        ref = uuid.uuid4().hex[:8]
        log.error("unexpected error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        message = f"系统处理您的请求时出错，请稍后重试。如问题持续，请联系{portal.campaign.frame.office_short}技术人员（错误编号 {ref}）。"
        # answered by the outermost (server-error) middleware, so the headers are set here
        headers = {k.decode(): v.decode() for k, v in security_headers(None)}
        return HTMLResponse(error_html(portal, 500, message, ref), status_code=500, headers=headers)

    return app


class _SecurityHeaders:
    """Add the security headers (:func:`portal.pages.security_headers`) to every answer that does not
    carry its own (pages rendered with a script nonce set their CSP themselves)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in security_headers(None) if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class _BodyLimit:
    """Refuse request bodies above the limit with 413 before reading them (Content-Length), or as soon as
    the streamed body passes it (chunked uploads)."""

    def __init__(self, app, portal: Portal):
        self.app = app
        self.portal = portal

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        limit = self.portal.config.max_upload_bytes + 256 * 1024  # the multipart envelope and fields
        if scope["path"] not in ("/upload", "/cases/close", "/campaign-setup"):  # pages that receive a file
            limit = 64 * 1024
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        refused = False

        async def limited():
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            if refused:
                await self._refuse(scope, receive, send, drain=False)

    async def _refuse(self, scope, receive, send, drain: bool = True):
        portal = self.portal
        html = error_html(portal, 413, too_large_message(portal.config.max_upload_bytes))
        body = html.encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    *security_headers(None),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def serve(config: PortalConfig | None = None, *, host: str = "127.0.0.1", port: int = 8510) -> None:
    """Run the portal with uvicorn (one process; blocking)."""
    import uvicorn

    config = config or PortalConfig.from_env()
    config.check(host)
    app = create_app(config)
    uv = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False, access_log=True)
    server = uvicorn.Server(uv)
    asyncio.run(server.serve())
