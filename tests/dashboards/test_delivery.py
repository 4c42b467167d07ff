"""Delivery by e-mail to a real SMTP server (aiosmtpd) on 127.0.0.1 that receives and parses the message."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from dashboards.delivery import SmtpConfig, deliver


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = _Inbox()
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"zhengzhiban" and auth_data.password == b"s3cret")

    controller = Controller(
        inbox, hostname="127.0.0.1", port=_free_port(), authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        yield controller, inbox, logins
    finally:
        controller.stop()


def _config(controller, **extra) -> SmtpConfig:
    env = {
        "ROADSAFE_SMTP_HOST": "127.0.0.1",
        "ROADSAFE_SMTP_PORT": str(controller.port),
        "ROADSAFE_SMTP_FROM": "roadsafe@jiujiang.example.gov.cn",
        **extra,
    }
    return SmtpConfig.from_env(env)


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_weekly_edition_reaches_the_office_with_attachments(fixture_settings, weekly5, smtp_server, campaign):
    controller, inbox, _ = smtp_server
    folder = weekly5["weekly_bulletin"].folder
    for kind in ("weekly_bulletin", "dispatch_list"):
        (weekly5[kind].folder / "delivery.json").unlink(missing_ok=True)
    results = deliver(fixture_settings, folder, config=_config(controller))
    assert [r["status"] for r in results] == ["sent", "sent"]  # the bulletin and its dispatch list
    assert len(inbox.messages) == 2
    sender, rcpts, raw = inbox.messages[0]
    assert sender == "roadsafe@jiujiang.example.gov.cn"
    assert rcpts == campaign.frame.recipients["office"]
    msg = _parse(raw)
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0].lower() or b"=?UTF-8?" in raw  # RFC 2047 subject
    assert str(msg["Subject"]) == "九江市道路交通安全专项整治工作通报（第5期，第5周）"
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "九江市道路交通安全专项整治工作通报" in html and "<svg" in html
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "截至5月12日12时" in text
    attachments = {a.get_filename(): a for a in msg.iter_attachments()}
    assert set(attachments) == {
        "九江市道路交通安全专项整治工作通报（第5期，第5周）.pdf",
        "九江市道路交通安全专项整治工作通报（第5期，第5周）.xlsx",
    }
    pdf = next(a for name, a in attachments.items() if name.endswith(".pdf"))
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == weekly5["weekly_bulletin"].outputs()["pdf"].read_bytes()
    assert str(_parse(inbox.messages[1][2])["Subject"]).startswith(
        "九江市道路交通安全专项整治工作调度单（第5期"
    )


def test_an_edition_is_not_sent_twice(fixture_settings, weekly5, smtp_server):
    controller, inbox, _ = smtp_server
    folder = weekly5["dispatch_list"].folder
    (folder / "delivery.json").unlink(missing_ok=True)
    first = deliver(fixture_settings, folder, config=_config(controller), with_siblings=False)
    again = deliver(fixture_settings, folder, config=_config(controller), with_siblings=False)
    assert first[0]["status"] == "sent" and again[0]["status"] == "already_sent"
    assert len(inbox.messages) == 1
    forced = deliver(fixture_settings, folder, config=_config(controller), with_siblings=False, force=True)
    assert forced[0]["status"] == "sent" and len(inbox.messages) == 2


def test_monthly_edition_goes_to_office_and_leaders_with_login(
    fixture_settings, monthly05, smtp_server, campaign
):
    controller, inbox, logins = smtp_server
    folder = monthly05["monthly_ranking"].folder
    (folder / "delivery.json").unlink(missing_ok=True)
    config = _config(controller, ROADSAFE_SMTP_USER="zhengzhiban", ROADSAFE_SMTP_PASSWORD="s3cret")
    deliver(fixture_settings, folder, config=config, with_siblings=False)
    assert logins == [(b"zhengzhiban", b"s3cret")]
    _, rcpts, raw = inbox.messages[0]
    assert rcpts == campaign.frame.recipients["office"] + campaign.frame.recipients["leaders"]
    assert str(_parse(raw)["Subject"]) == "九江市道路交通安全专项整治工作排名（第2期，2022年5月）"


def test_smtp_settings_come_from_the_environment():
    config = SmtpConfig.from_env(
        {
            "ROADSAFE_SMTP_HOST": "mail.example",
            "ROADSAFE_SMTP_PORT": "587",
            "ROADSAFE_SMTP_STARTTLS": "true",
            "ROADSAFE_SMTP_USER": "a@example.gov.cn",
            "ROADSAFE_SMTP_PASSWORD": "p",
        }
    )
    assert (config.host, config.port, config.starttls, config.sender) == (
        "mail.example",
        587,
        True,
        "a@example.gov.cn",
    )
    with pytest.raises(RuntimeError, match="ROADSAFE_SMTP_HOST"):
        SmtpConfig.from_env({})
