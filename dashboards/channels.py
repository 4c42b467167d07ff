"""The delivery channels of notices: e-mail over SMTP and the group robots of WeCom, DingTalk and Feishu.

Robots get the vendor's JSON posted to exactly the webhook URL the office pasted (checked against the rule of
:func:`roadsafe.contacts.robot_problem` again here, redirects never followed):

* WeCom ``{"msgtype": "markdown", "markdown": {"content": ...}}``;
* DingTalk ``{"msgtype": "markdown", "markdown": {"title", "text"}}``, with ``timestamp`` and
  ``sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))`` added to the query when the robot has a
  secret (加签);
* Feishu an interactive card holding the markdown, with ``timestamp``/``sign`` in the body when signed.

The vendors answer HTTP 200 with an error code in the body (``errcode``/``code``), so success is HTTP 2xx
and a zero code. :func:`attempt_with_retries` retries a failing send with back-off and returns every
attempt, so the ledger records each one.

Why not Apprise (which knows all three robots and e-mail): its robot plug-ins build the vendor's host name
from a token, so the URL the office pasted (or a 政务钉钉 private deployment, or a test server on loopback)
cannot be the target, and it reports one boolean per notification where the ledger wants each attempt's
answer (the vendors' ``errcode``). Posting the vendor JSON takes a few dozen lines of the standard library.

Examples
--------
>>> dingtalk_sign("SECxyz", 1700000000000)
'0PUR1j8g85Xg3vlFV/UrEcxXfF5HpCAGzcjrNfyJoyg='
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from dashboards.delivery import SmtpConfig, send_message
from roadsafe.contacts import robot_problem, robot_vendor

__all__ = [
    "Attempt",
    "ChannelFailed",
    "attempt_with_retries",
    "dingtalk_sign",
    "feishu_sign",
    "robot_payload",
    "send_mail",
    "send_robot",
]

ROBOT_TIMEOUT_ENV = "ROADSAFE_ROBOT_TIMEOUT"
"""Seconds to wait for a robot's answer (default 10)."""


class ChannelFailed(Exception):
    """A send that did not go through; ``str()`` is a short Chinese reason for the ledger. ``permanent``:
    retrying cannot help (an address refused by the rule, no mail server configured)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class Attempt:
    """One try on one channel: when, ``ok``, and the server's answer or the failure."""

    at: dt.datetime
    ok: bool
    detail: str


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def robot_payload(url: str, title: str, markdown: str, secret: str | None, now: float) -> tuple[str, dict]:
    """The URL to post to and the vendor's JSON for one markdown message."""
    vendor = robot_vendor(url)
    if vendor == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": markdown}}
    if vendor == "dingtalk":
        if secret:
            stamp = int(now * 1000)
            query = urllib.parse.urlencode({"timestamp": stamp, "sign": dingtalk_sign(secret, stamp)})
            url = f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{query}"
        return url, {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    if vendor == "feishu":
        body: dict = {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": title}},
                "elements": [{"tag": "markdown", "content": markdown}],
            },
        }
        if secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
        return url, body
    raise ChannelFailed("不是可识别的群机器人地址", permanent=True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - never follow
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)  # honours HTTPS_PROXY / NO_PROXY like any client


def send_robot(
    url: str, title: str, markdown: str, secret: str | None = None, *, timeout: float | None = None
) -> str:
    """Post one markdown message to a group robot; returns the vendor's answer, :class:`ChannelFailed`
    when the address is refused, the server fails or answers with a non-zero code."""
    problem = robot_problem(url)
    if problem:
        raise ChannelFailed(f"拒绝调用：{problem}", permanent=True)
    target, body = robot_payload(url, title, markdown, secret, time.time())
    if timeout is None:
        timeout = float(os.environ.get(ROBOT_TIMEOUT_ENV) or 10.0)
    request = urllib.request.Request(
        target,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise ChannelFailed(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChannelFailed(f"连接失败：{type(reason).__name__}: {reason}") from exc
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChannelFailed("机器人服务返回的不是 JSON") from exc
    code = (
        answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
        if isinstance(answer, dict)
        else 0
    )
    if code not in (0, "0", None):
        msg = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        raise ChannelFailed(f"机器人服务返回错误 {code}：{msg}")
    return raw.decode("utf-8")[:200]


def send_mail(
    config: SmtpConfig,
    to: list[str],
    subject: str,
    text: str,
    *,
    key: str,
    attachments: tuple[tuple[str, bytes], ...] = (),
) -> str:
    """Send a plain-text Chinese e-mail (PDF attachments by name); returns its Message-ID. Refused
    recipients fail the send."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = config.sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = config.sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring=hashlib.sha256(key.encode()).hexdigest()[:16], domain=domain)
    msg.set_content(text, charset="utf-8")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    try:
        refused = send_message(msg, config, to)
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelFailed(f"邮件发送失败：{type(exc).__name__}: {exc}") from exc
    if refused:
        raise ChannelFailed(f"邮件服务器拒收：{'、'.join(sorted(refused))}")
    return str(msg["Message-ID"])


def attempt_with_retries(
    send: Callable[[], str], delays: tuple[float, ...], sleep: Callable[[float], None] = time.sleep
) -> list[Attempt]:
    """Call ``send`` until it succeeds or fails for good, waiting ``delays[i]`` before retry ``i+1``; every
    attempt is returned."""
    attempts: list[Attempt] = []
    for wait in (None, *delays):
        if wait is not None:
            sleep(wait)
        try:
            detail = send()
        except ChannelFailed as exc:
            attempts.append(Attempt(dt.datetime.now(dt.UTC), False, str(exc)))
            if exc.permanent:
                break
            continue
        attempts.append(Attempt(dt.datetime.now(dt.UTC), True, detail))
        break
    return attempts
