"""Rendering shared by every route: the Chinese error texts, the security headers, the page renderer,
cookies, the client address and the small formatting filters of the templates."""

from __future__ import annotations

import ipaddress
import secrets
import urllib.parse
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal.auth import Session
from portal.errors import ERROR_TEXT

if TYPE_CHECKING:
    from portal.state import Portal

__all__ = [
    "attachment",
    "client_address",
    "error_html",
    "error_page",
    "render",
    "safe_next",
    "security_headers",
    "set_cookie",
]

# --------------------------------------------------------------------------- headers


def _csp(nonce: str | None) -> str:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"script-src {script}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def security_headers(nonce: str | None) -> list[tuple[bytes, bytes]]:
    """The headers of every answer (pages, files, errors): CSP (scripts only with the page's nonce), no
    sniffing, no framing, no referrer outside the site, nothing kept in caches."""
    return [
        (b"content-security-policy", _csp(nonce).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"cache-control", b"no-store"),
    ]


# --------------------------------------------------------------------------- formatting




def site(portal: Portal) -> dict:
    frame = portal.campaign.frame
    return {
        "name": f"{frame.name}数据报送平台",
        "campaign": frame.name,
        "office": frame.office,
        "office_short": frame.office_short,
        "document": frame.document,
    }


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parsed = urllib.parse.urlsplit(target)
    if parsed.scheme or parsed.netloc:
        return "/"
    return target


def attachment(name: str, fallback: str) -> str:
    ascii_name = "".join(c for c in fallback if c.isascii() and (c.isalnum() or c in "-_.")) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"


# --------------------------------------------------------------------------- rendering


def render(
    portal: Portal, request: Request, template: str, status: int = 200, session: Session | None = None, **ctx
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(12)
    user = session.user if session else None
    nav = None
    if user is not None:
        nav = [
            ("/", "我的填报任务"),
            ("/templates", "下载模板"),
            ("/upload", "上传报表"),
            ("/entry", "在线填报"),
            ("/history", "报送历史"),
            ("/notices", "催报与督办"),
            ("/cases", "督办案件"),
            ("/review", "退回与说明"),
        ]
        if user.is_office:  # the office's "tasks" are the matrix; unit pages take ?unit=
            nav = [("/office", "报送总览")] + nav[1:] + [("/contacts", "联络员名单"), ("/signoff", "审核签发")]
            nav.append(("/leaders/", "工作进展总览"))
            nav.append(("/campaign-setup", "活动设置"))
        if user.is_leader:  # reads the leaders' pages only
            nav = [("/leaders/", "工作进展总览")]
    html = portal.env.get_template(template).render(
        site=site(portal),
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
    for key, value in security_headers(nonce):
        response.headers[key.decode()] = value.decode()
    return response


def error_page(
    portal: Portal, request: Request, status: int, message: str | None = None, session=None, ref=None
) -> HTMLResponse:
    title, default = ERROR_TEXT.get(status, ERROR_TEXT[500])
    return render(
        portal, request, "error.html", status=status, session=session, title=title,
        message=message or default, ref=ref,
    )  # fmt: skip


def error_html(portal: Portal, status: int, message: str | None = None, ref: str | None = None) -> str:
    """An error page without a request (the body-size guard, the last-resort handler)."""
    title, default = ERROR_TEXT.get(status, ERROR_TEXT[500])
    return portal.env.get_template("error.html").render(
        site=site(portal), title=title, message=message or default, status=status, ref=ref,
        user=None, nonce=None, nav=None,
    )  # fmt: skip


def set_cookie(portal: Portal, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=portal.config.secure_cookies,
        path="/",
    )


def client_address(portal: Portal, request: Request) -> str:
    """The client's address: the peer, or — only when the peer is a configured trusted proxy — the
    nearest address in ``X-Forwarded-For`` that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    trusted = portal.config.trusted_proxies
    if not trusted or not _in(peer, trusted):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed header: trust only what we saw
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _in(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
