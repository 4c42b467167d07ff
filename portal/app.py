"""The upload portal: a small FastAPI application with server-rendered Chinese pages.

==============================  ========================================================================
``GET  /healthz``               200 ``{"status": "ok"}`` once the campaign, templates and accounts are loaded
``GET  /login`` ``POST /login`` log in (CSRF token bound to a pre-login cookie; rate-limited)
``POST /logout``                log out
``GET  /``                      我的填报任务: this week's forms, received or not, on time or late,
                                accepted or rejected, the countdown to the next due time, earlier weeks
``GET  /templates``             下载模板: the unit's forms; ``/templates/F1.xlsx?week=5`` the file
``GET  /upload`` ``POST``       上传: choose form and week (or let them be detected); the answer on the page
``GET  /history``               报送历史: every attempt with its file, status and messages
``GET  /files/{id}``            the original file of one of the unit's attempts
``GET  /office``                (office) the submission matrix, units × forms × weeks, and the editions
``GET  /editions/{kind}/{ref}/{file}``  (office) an edition's HTML / PDF / XLSX
==============================  ========================================================================

A unit sees and submits only its own forms (every unit-scoped page refuses another unit with 403); the
office role sees everything and may pick a unit (``?unit=``). The portal reads the published snapshot
read-only and writes only its own sqlite file and, through :mod:`ingest.landing`, the landing zone.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import threading
import urllib.parse
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.airflow import AirflowNotifier, NotifyError
from portal.auth import LOGIN_COOKIE, SESSION_COOKIE, Auth, Session
from portal.config import Clock, PortalConfig
from portal.status import CHANNEL_WORDS, STATE_LABELS, STATUS_WORDS, PortalData
from portal.store import Store
from portal.uploads import UploadRefused, handle_upload, too_large_message
from roadsafe.wording import cn_countdown, cn_short, cn_time

__all__ = ["Portal", "create_app"]

log = logging.getLogger("roadsafe.portal")
TEMPLATES = Path(__file__).parent / "templates"

ERROR_TEXT = {
    400: ("请求有误", "提交的内容不完整或格式不正确，请返回上一页重新操作。"),
    401: ("需要登录", "请先登录。"),
    403: ("无权访问", "您没有访问该页面或执行该操作的权限。"),
    404: ("页面不存在", "您访问的页面不存在，请从导航栏进入。"),
    405: ("请求方式不正确", "请从页面上的按钮或链接进行操作。"),
    413: ("文件过大", "上传的文件超过大小上限。"),
    415: ("文件类型不符合要求", "只接受 Excel 工作簿或 CSV 文件。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("系统内部错误", "系统处理您的请求时出错，请稍后重试。"),
    503: ("服务暂不可用", "系统暂时无法处理，请稍后重试。"),
}


class LoginRequired(Exception):
    def __init__(self, reason: str | None):
        self.reason = reason


class PortalError(Exception):
    """An error shown to the user as a Chinese page with ``status``."""

    def __init__(self, status: int, message: str | None = None):
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- formatting


def cn_size(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 1024:
        return f"{n} 字节"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def period_span(period) -> str:
    """``5月5日至5月11日`` (one day: ``6月30日``)."""
    first = f"{period.start.month}月{period.start.day}日"
    return first if period.start == period.end else f"{first}至{period.end.month}月{period.end.day}日"


def late_text(minutes: int | None) -> str:
    if minutes is None:
        return "—"
    if minutes == 0:
        return "按时"
    return "逾期" + cn_countdown(minutes * 60)


# --------------------------------------------------------------------------- the application state


class Portal:
    """Everything the routes share: configuration, campaign, accounts, the Airflow client, templates."""

    def __init__(self, config: PortalConfig):
        from roadsafe.schedule import form_due_at
        from roadsafe.workcalendar import WorkCalendar

        self.config = config
        self.settings = config.settings
        self.campaign = self.settings.campaign()
        self.tz = ZoneInfo(self.campaign.frame.timezone)
        self.clock = Clock.from_text(self.tz, config.now_text)
        calendar = WorkCalendar.load()
        self.due_times = {p.no: form_due_at(self.campaign, calendar, p) for p in self.campaign.periods()}
        self.store = Store(config.users_db)
        self.auth = Auth(config, self.store)
        self.notifier = AirflowNotifier(
            config.airflow_url,
            config.airflow_username,
            config.airflow_password,
            token=config.airflow_token,
            timeout=config.airflow_timeout,
        )
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            cn_time=lambda v: cn_time(v, self.tz),
            cn_short=lambda v: cn_short(v, self.tz),
            cn_size=cn_size,
            late_text=late_text,
            span=period_span,
        )
        self.env.globals.update(
            STATE_LABELS=STATE_LABELS, STATUS_WORDS=STATUS_WORDS, CHANNEL_WORDS=CHANNEL_WORDS
        )
        self._stop = threading.Event()
        self._retry_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ helpers

    def data(self) -> PortalData:
        return PortalData(self.settings, self.campaign, self.store, self.due_times)

    def unit_name(self, unit_id: str | None) -> str:
        if unit_id is None:
            return self.campaign.frame.office_short
        unit = self.campaign.units.get(unit_id)
        return unit.name if unit else unit_id

    def reporting_unit(self, unit_id: str):
        unit = self.campaign.units.get(unit_id) or self.campaign.resolve_unit(unit_id)
        if unit is None or unit.kind not in ("county", "department"):
            return None
        return unit

    # ------------------------------------------------------------------ background retry of events

    def start_retry(self) -> None:
        if not self.notifier.enabled or self._retry_thread is not None:
            return
        self._retry_thread = threading.Thread(
            target=self._retry_loop, name="portal-notify-retry", daemon=True
        )
        self._retry_thread.start()

    def stop_retry(self) -> None:
        self._stop.set()

    def _retry_loop(self) -> None:
        while not self._stop.wait(self.config.notify_retry_seconds):
            self.retry_notifications()

    def retry_notifications(self) -> bool:
        """Post one event for every upload whose event did not get through (one ingest run loads all)."""
        waiting = self.store.unnotified()
        if not waiting or not self.notifier.enabled:
            return False
        try:
            self.notifier.notify({"channel": "portal", "retry": True, "receipts": len(waiting)})
        except NotifyError as exc:
            log.info("Airflow still unreachable (%d uploads waiting): %s", len(waiting), exc)
            return False
        self.store.mark_notified(waiting, None)
        log.info("asset event posted for %d uploads after a retry", len(waiting))
        return True


# --------------------------------------------------------------------------- the app


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
        if scope["path"] != "/upload":
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
        html = _error_html(portal, 413, too_large_message(portal.config.max_upload_bytes))
        body = html.encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    *_security_headers(None),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _csp(nonce: str | None) -> str:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"script-src {script}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def _security_headers(nonce: str | None) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", _csp(nonce).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"cache-control", b"no-store"),
    ]


def _error_html(portal: Portal, status: int, message: str | None = None, ref: str | None = None) -> str:
    title, default = ERROR_TEXT.get(status, ERROR_TEXT[500])
    return portal.env.get_template("error.html").render(
        site=_site(portal),
        title=title,
        message=message or default,
        status=status,
        ref=ref,
        user=None,
        nonce=None,
        nav=None,
    )


def _site(portal: Portal) -> dict:
    frame = portal.campaign.frame
    return {
        "name": f"{frame.name}数据报送平台",
        "campaign": frame.name,
        "office": frame.office,
        "office_short": frame.office_short,
        "document": frame.document,
    }


def create_app(config: PortalConfig | None = None) -> FastAPI:
    """The portal application (``config`` defaults to :meth:`PortalConfig.from_env`)."""
    from contextlib import asynccontextmanager

    config = config or PortalConfig.from_env()
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

    # ------------------------------------------------------------------ rendering

    def render(request: Request, template: str, status: int = 200, session: Session | None = None, **ctx):
        nonce = secrets.token_urlsafe(12)
        user = session.user if session else None
        nav = None
        if user is not None:
            nav = [
                ("/", "我的填报任务"),
                ("/templates", "下载模板"),
                ("/upload", "上传报表"),
                ("/history", "报送历史"),
            ]
            if user.is_office:  # the office's "tasks" are the matrix; unit pages take ?unit=
                nav = [("/office", "报送总览")] + nav[1:]
        html = portal.env.get_template(template).render(
            site=_site(portal),
            user=user,
            user_unit=portal.unit_name(user.unit_id) if user else None,
            csrf=session.csrf if session else None,
            nonce=nonce,
            nav=nav,
            path=request.url.path,
            now=portal.clock.now(),
            **ctx,
        )
        response = HTMLResponse(html, status_code=status)
        for key, value in _security_headers(nonce):
            response.headers[key.decode()] = value.decode()
        return response

    def error_page(request: Request, status: int, message: str | None = None, session=None, ref=None):
        title, default = ERROR_TEXT.get(status, ERROR_TEXT[500])
        return render(
            request,
            "error.html",
            status=status,
            session=session,
            title=title,
            message=message or default,
            ref=ref,
        )

    def set_cookie(response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=config.secure_cookies,
            path="/",
        )

    def client_of(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    # ------------------------------------------------------------------ sessions and scope

    def session_of(request: Request) -> Session:
        session, why = portal.auth.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise LoginRequired(why)
        return session

    def scope_unit(session: Session, requested: str | None) -> str | None:
        """The unit a page is about: a unit's own; for the office the requested one (or None)."""
        user = session.user
        if not user.is_office:
            if requested and requested != user.unit_id:
                unit = portal.reporting_unit(requested)
                if unit is None or unit.id != user.unit_id:
                    raise PortalError(403, "无权查看或报送其他单位的报表，只能查看本单位的报送情况。")
            return user.unit_id
        if not requested:
            return None
        unit = portal.reporting_unit(requested)
        if unit is None:
            raise PortalError(404, f"找不到单位“{requested}”。")
        return unit.id

    def need_office(session: Session) -> None:
        if not session.user.is_office:
            raise PortalError(403, "该页面仅限市整治办账号访问。")

    # ------------------------------------------------------------------ error handlers

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        if request.method != "GET":
            response = error_page(
                request, 401, "登录已超时或尚未登录，请重新登录后再操作（本次提交未被接收）。"
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
        return error_page(request, exc.status, exc.message, session=session)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        status = exc.status_code if exc.status_code in ERROR_TEXT else 500
        return error_page(request, status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return error_page(request, 400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        ref = uuid.uuid4().hex[:8]
        log.error("unexpected error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        message = f"系统处理您的请求时出错，请稍后重试。如问题持续，请联系{portal.campaign.frame.office_short}技术人员（错误编号 {ref}）。"
        return HTMLResponse(_error_html(portal, 500, message, ref), status_code=500)

    # ------------------------------------------------------------------ health, login, logout

    @app.get("/healthz")
    def healthz():
        portal.store.get_user("-")
        return JSONResponse(
            {
                "status": "ok",
                "campaign": portal.campaign.code,
                "snapshot": portal.settings.published.is_file(),
            }
        )

    @app.get("/login")
    def login_form(request: Request, next: str = "/", reason: str | None = None):
        session, _ = portal.auth.session(request.cookies.get(SESSION_COOKIE))
        if session is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
        notice = {"expired": "登录已超时，请重新登录。", "logout": "您已安全退出。"}.get(reason or "")
        return _login_page(request, next=next, notice=notice)

    def _login_page(request, *, next="/", notice=None, error=None, status=200, login=""):
        token, cookie = portal.auth.new_prelogin()
        response = render(
            request,
            "login.html",
            status=status,
            login_token=token,
            next=_safe_next(next),
            notice=notice,
            error=error,
            login=login,
        )
        set_cookie(response, LOGIN_COOKIE, cookie, 2 * 3600)
        return response

    @app.post("/login")
    async def login(request: Request):
        form = await request.form(max_files=0, max_fields=10)
        login_name = str(form.get("login") or "")[:128]
        password = str(form.get("password") or "")[:1024]
        next_url = str(form.get("next") or "/")
        if not portal.auth.prelogin_ok(request.cookies.get(LOGIN_COOKIE), str(form.get("csrf_token") or "")):
            return _login_page(
                request,
                next=next_url,
                status=403,
                login=login_name,
                error="页面已过期或安全校验未通过，请重新输入账号和密码登录。",
            )
        result = await run_in_threadpool(portal.auth.login, login_name, password, client_of(request))
        if result.limited:
            log.warning("login refused (rate limit) for %r from %s", login_name, client_of(request))
            minutes = int(config.login_failure_window // 60)
            return _login_page(
                request,
                next=next_url,
                status=429,
                login=login_name,
                error=f"登录失败次数过多，该账号或本机已被暂时锁定，请{minutes}分钟后再试。"
                f"如忘记密码，请联系{portal.campaign.frame.office_short}重置。",
            )
        if result.user is None:
            log.warning("login failed for %r from %s", login_name, client_of(request))
            return _login_page(
                request, next=next_url, status=401, login=login_name, error="账号或密码错误，请重新输入。"
            )
        log.info("login %s from %s", result.user.login, client_of(request))
        response = RedirectResponse(_safe_next(next_url), status_code=303)
        set_cookie(response, SESSION_COOKIE, result.cookie, None)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    @app.post("/logout")
    async def logout(request: Request):
        session = session_of(request)
        form = await request.form(max_files=0, max_fields=5)
        if not portal.auth.csrf_ok(session, form.get("csrf_token")):
            raise PortalError(403, "安全校验未通过（页面已过期），请刷新页面后重试。")
        portal.auth.logout(session)
        response = RedirectResponse("/login?reason=logout", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ------------------------------------------------------------------ 我的填报任务

    @app.get("/")
    def home(request: Request, unit: str | None = None):
        session = session_of(request)
        unit_id = scope_unit(session, unit)
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
        )

    # ------------------------------------------------------------------ 下载模板

    @app.get("/templates")
    def templates_page(request: Request, unit: str | None = None, week: int | None = None):
        session = session_of(request)
        unit_id = scope_unit(session, unit)
        data = portal.data()
        period, _ = data.current_period(portal.clock.now())
        week = week if week in portal.due_times else period.no
        forms = data.forms_of(unit_id) if unit_id else []
        units = data.reporting_units() if session.user.is_office else []
        return render(
            request,
            "templates.html",
            session=session,
            unit_id=unit_id,
            unit_name=portal.unit_name(unit_id) if unit_id else None,
            forms=[(code, portal.campaign.forms[code]) for code in forms],
            week=week,
            periods=portal.campaign.periods(),
            due_times=portal.due_times,
            units=units,
            led=portal.campaign.tasks_led_by(unit_id) if unit_id else [],
        )

    @app.get("/templates/{name}")
    def template_file(request: Request, name: str, week: int | None = None, unit: str | None = None):
        session = session_of(request)
        unit_id = scope_unit(session, unit)
        if unit_id is None:
            raise PortalError(400, "请先选择填报单位。")
        code = name.removesuffix(".xlsx").upper()
        if code not in portal.campaign.forms:
            raise PortalError(404, f"报表“{name}”不存在。")
        if code not in portal.data().forms_of(unit_id):
            raise PortalError(
                403, f"{portal.unit_name(unit_id)}不是《{portal.campaign.forms[code].name}》的报送单位。"
            )
        if week is None:
            week = portal.data().current_period(portal.clock.now())[0].no
        if week not in portal.due_times:
            raise PortalError(400, f"周次“{week}”不在本次整治的报送期内。")
        content, filename = _template_bytes(portal, code, unit_id, week)
        return Response(
            content,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": _attachment(filename, f"{code}-week{week:02d}.xlsx")},
        )

    # ------------------------------------------------------------------ 上传

    def upload_context(session: Session, unit_id: str | None, form_code=None, week=None) -> dict:
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
            "max_mb": config.max_upload_bytes // (1024 * 1024),
            "max_bytes": config.max_upload_bytes,
            "due_times": portal.due_times,
        }

    @app.get("/upload")
    def upload_page(
        request: Request, unit: str | None = None, form: str | None = None, week: int | None = None
    ):
        session = session_of(request)
        unit_id = scope_unit(session, unit)
        return render(request, "upload.html", session=session, **upload_context(session, unit_id, form, week))

    @app.post("/upload")
    async def upload(request: Request):
        session = session_of(request)
        form = await request.form(max_files=1, max_fields=10)
        try:
            if not portal.auth.csrf_ok(session, form.get("csrf_token")):
                raise PortalError(403, "安全校验未通过（页面已过期），请刷新上传页面后重新选择文件上传。")
            unit_id = scope_unit(session, str(form.get("unit") or "") or None)
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
            if (
                upload_file is None
                or isinstance(upload_file, str)
                or not getattr(upload_file, "filename", None)
            ):
                ctx = upload_context(session, unit_id, form_code, week)
                return render(
                    request,
                    "upload.html",
                    status=400,
                    session=session,
                    refused="请选择要上传的报表文件。",
                    **ctx,
                )
            data = await upload_file.read(config.max_upload_bytes + 1)
            filename = upload_file.filename
        finally:
            await form.close()
        ctx = upload_context(session, unit_id, form_code, week)
        received_at = portal.clock.now()

        def pending_ids() -> set[str]:
            return {a.receipt_id for a in portal.data().attempts(unit_id) if a.pending}

        try:
            outcome = await run_in_threadpool(
                handle_upload,
                config=config,
                campaign=portal.campaign,
                store=portal.store,
                notifier=portal.notifier,
                login=session.user.login,
                unit_id=unit_id,
                form=form_code,
                period=week,
                filename=filename,
                data=data,
                received_at=received_at,
                pending_ids=pending_ids,
            )
        except UploadRefused as exc:
            log.info("upload refused for %s (%s): %s", session.user.login, exc.status, exc.message)
            return render(
                request, "upload.html", status=exc.status, session=session, refused=exc.message, **ctx
            )
        log.info(
            "upload %s by %s for %s: %s (%s)",
            outcome.receipt.receipt_id,
            session.user.login,
            unit_id,
            outcome.status,
            "event posted" if outcome.notified else f"no event: {outcome.notify_error}",
        )
        return render(
            request,
            "upload.html",
            session=session,
            outcome=outcome,
            result=outcome.result,
            airflow_enabled=portal.notifier.enabled,
            **ctx,
        )

    # ------------------------------------------------------------------ 历史

    @app.get("/history")
    def history(request: Request, unit: str | None = None):
        session = session_of(request)
        unit_id = scope_unit(session, unit)
        data = portal.data()
        if unit_id is None:
            attempts = data.attempts(None)
        else:
            attempts = data.attempts(unit_id, with_messages=True)
        attempts.sort(key=lambda a: a.received_at, reverse=True)
        return render(
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
        )

    @app.get("/files/{key}")
    def original_file(request: Request, key: str):
        session = session_of(request)
        unit_id = scope_unit(session, None) if not session.user.is_office else None
        data = portal.data()
        found = next((a for a in data.attempts(unit_id) if key in (a.submission_id, a.receipt_id)), None)
        if found is None or not found.stored_path:
            raise PortalError(404, "找不到该文件，或该文件不属于本单位。")
        landing = portal.settings.landing.resolve()
        path = (portal.settings.home / found.stored_path).resolve()
        if not path.is_relative_to(landing) or not path.is_file():
            raise PortalError(404, "找不到该文件。")
        return FileResponse(
            path,
            media_type="application/octet-stream",
            headers={"Content-Disposition": _attachment(found.original_name, f"{key}{path.suffix}")},
        )

    # ------------------------------------------------------------------ 整治办: matrix and editions

    @app.get("/office")
    def office(request: Request, week: int | None = None):
        session = session_of(request)
        need_office(session)
        now = portal.clock.now()
        data = portal.data()
        attempts = data.attempts(None)
        cells = data.cells(attempts, now)
        period, ended = data.current_period(now)
        week = week if week in portal.due_times else period.no
        units = data.reporting_units()
        forms = list(portal.campaign.forms)
        periods = portal.campaign.periods()
        summary = {}
        for u in units:
            for p in periods:
                mine = [cells[(c, u.id, p.no)] for c in forms if (c, u.id, p.no) in cells]
                summary[(u.id, p.no)] = _summarise(mine)
        counts = {}
        for (_code, _uid, pno), cell in cells.items():
            if pno == week:
                counts[cell.state] = counts.get(cell.state, 0) + 1
        from dashboards.editions import list_editions

        try:
            editions = list_editions(portal.settings)
        except Exception:  # noqa: BLE001 - a broken edition folder must not take the page down
            log.exception("listing editions failed")
            editions = []
        latest = {}
        for e in editions:
            latest[e.meta.kind] = e
        return render(
            request,
            "office.html",
            session=session,
            cells=cells,
            units=units,
            forms=forms,
            form_defs=portal.campaign.forms,
            periods=periods,
            week=week,
            current=period,
            ended=ended,
            summary=summary,
            counts=counts,
            snapshot=data.snapshot_available,
            editions=editions,
            latest=list(latest.values()),
            due_times=portal.due_times,
            pending=sum(1 for a in attempts if a.pending),
        )

    @app.get("/editions/{kind}/{ref}/{name}")
    def edition_file(request: Request, kind: str, ref: str, name: str):
        session = session_of(request)
        need_office(session)
        from dashboards.editions import list_editions

        for e in list_editions(portal.settings):
            if e.meta.kind == kind and e.folder.name == ref:
                for ext, path in e.outputs().items():
                    if path.name == name and path.is_file():
                        media = {
                            "html": "text/html; charset=utf-8",
                            "pdf": "application/pdf",
                            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        }[ext]
                        headers = {}
                        if ext != "html":
                            headers["Content-Disposition"] = _attachment(name, name)
                        return FileResponse(path, media_type=media, headers=headers)
        raise PortalError(404, "找不到该期报告。")

    return app


# --------------------------------------------------------------------------- small helpers


def _receipt_no(receipt_id: str | None) -> str:
    from portal.uploads import receipt_no

    return receipt_no(receipt_id) if receipt_id else "—"


def _summarise(cells) -> tuple[str, str]:
    """(css class, text) of one unit's week: all forms in, some missing, …"""
    if not cells:
        return "na", ""
    done = sum(1 for c in cells if c.state in ("ok", "late"))
    text = f"{done}/{len(cells)}"
    states = {c.state for c in cells}
    for state in ("missing", "rejected", "pending_bad", "pending", "late", "open"):
        if state in states:
            css = STATE_LABELS[state][1]
            if state == "open" and done:
                css = "partial"
            return css, text
    return "ok", text


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parsed = urllib.parse.urlsplit(target)
    if parsed.scheme or parsed.netloc:
        return "/"
    return target


def _attachment(name: str, fallback: str) -> str:
    ascii_name = "".join(c for c in fallback if c.isascii() and (c.isalnum() or c in "-_.")) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"


_TEMPLATE_CACHE: dict[tuple, tuple[bytes, str]] = {}
_TEMPLATE_LOCK = threading.Lock()


def _template_bytes(portal: Portal, code: str, unit_id: str, week: int) -> tuple[bytes, str]:
    """The blank form of ``ingest.templates.write_template`` (kept in memory once made)."""
    from ingest.formfile import form_filename
    from ingest.templates import write_template

    key = (portal.campaign.code, code, unit_id, week)
    with _TEMPLATE_LOCK:
        if key in _TEMPLATE_CACHE:
            return _TEMPLATE_CACHE[key]
    folder = portal.settings.tmp / f"portal-template-{uuid.uuid4().hex}"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path = write_template(portal.campaign, code, unit_id, week, folder / "template.xlsx")
        content = path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    filename = form_filename(portal.campaign, code, unit_id, week)
    with _TEMPLATE_LOCK:
        if len(_TEMPLATE_CACHE) > 256:
            _TEMPLATE_CACHE.clear()
        _TEMPLATE_CACHE[key] = (content, filename)
    return content, filename


def serve(config: PortalConfig | None = None, *, host: str = "127.0.0.1", port: int = 8510) -> None:
    """Run the portal with uvicorn (one process; blocking)."""
    import uvicorn

    app = create_app(config)
    uv = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False, access_log=True)
    server = uvicorn.Server(uv)
    asyncio.run(server.serve())
