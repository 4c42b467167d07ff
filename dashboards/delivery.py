"""E-mail an edition to the campaign's recipients: the HTML page as the body, the PDF and the workbook
attached, a Chinese subject (RFC 2047, done by :class:`email.message.EmailMessage`).

SMTP comes from the environment:

==========================  ==========================================================
``ROADSAFE_SMTP_HOST``      server (required)
``ROADSAFE_SMTP_PORT``      default 25 (465 with ``ROADSAFE_SMTP_SSL=1``)
``ROADSAFE_SMTP_USER``      login, optional
``ROADSAFE_SMTP_PASSWORD``  password, optional
``ROADSAFE_SMTP_STARTTLS``  ``1``/``true`` to upgrade the connection before logging in
``ROADSAFE_SMTP_SSL``       ``1``/``true`` for SMTP over TLS from the start
``ROADSAFE_SMTP_FROM``      sender address (default the user, else ``roadsafe@localhost``)
==========================  ==========================================================

Weekly editions go to ``recipients.office``; monthly editions to ``office`` and ``leaders``. An edition
that was sent is recorded in its ``delivery.json`` and not sent again unless forced, so a retried DAG
task does not mail everyone twice.

Examples
--------
>>> SmtpConfig.from_env({"ROADSAFE_SMTP_HOST": "127.0.0.1", "ROADSAFE_SMTP_PORT": "2525"}).port
2525
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from dashboards.edition_meta import MONTHLY_KINDS, WEEKLY_KINDS
from dashboards.editions import Edition, open_edition

__all__ = ["SmtpConfig", "build_message", "deliver", "recipients_for", "send_message"]

_TRUE = {"1", "true", "yes", "on", "是"}


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send. Build it with :meth:`from_env`."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    sender: str = "roadsafe@localhost"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig:
        env = os.environ if env is None else env
        host = (env.get("ROADSAFE_SMTP_HOST") or "").strip()
        if not host:
            raise RuntimeError(
                "未配置邮件服务器：请设置环境变量 ROADSAFE_SMTP_HOST（以及 PORT/USER/PASSWORD/FROM）。"
            )
        use_ssl = (env.get("ROADSAFE_SMTP_SSL") or "").strip().lower() in _TRUE
        user = env.get("ROADSAFE_SMTP_USER") or None
        return cls(
            host=host,
            port=int(env.get("ROADSAFE_SMTP_PORT") or (465 if use_ssl else 25)),
            user=user,
            password=env.get("ROADSAFE_SMTP_PASSWORD") or None,
            starttls=(env.get("ROADSAFE_SMTP_STARTTLS") or "").strip().lower() in _TRUE,
            use_ssl=use_ssl,
            sender=env.get("ROADSAFE_SMTP_FROM") or (user if user and "@" in user else "roadsafe@localhost"),
        )


def recipients_for(edition: Edition) -> list[str]:
    """The office for weekly editions; the office and the leaders for monthly ones."""
    groups = ["office"] if edition.meta.kind in WEEKLY_KINDS else ["office", "leaders"]
    recipients = edition.meta.campaign.recipients
    return list(dict.fromkeys(addr for g in groups for addr in recipients.get(g, [])))


def _attachment_name(edition: Edition, ext: str) -> str:
    meta = edition.meta
    return f"{meta.title}（第{meta.issue_no}期，{meta.label}）.{ext}"


def build_message(
    edition: Edition, recipients: list[str], sender: str, now: dt.datetime | None = None
) -> EmailMessage:
    """The message for one rendered edition."""
    meta = edition.meta
    files = edition.outputs()
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"期次尚未生成完整，不能发送：缺少 {'、'.join(missing)}")
    msg = EmailMessage()
    msg["Subject"] = f"{meta.title}（第{meta.issue_no}期，{meta.label}）"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring=f"{meta.kind}.{meta.ref}", domain=domain)
    summary_path = edition.folder / f"{edition.stem}.txt"
    text = summary_path.read_text(encoding="utf-8") if summary_path.is_file() else msg["Subject"]
    msg.set_content(
        f"{text}\n\n附件：PDF 版（A4，可直接打印）和 Excel 数据表。\n——{meta.campaign.office}\n",
        charset="utf-8",
    )
    msg.add_alternative(files["html"].read_text(encoding="utf-8"), subtype="html", charset="utf-8")
    msg.add_attachment(
        files["pdf"].read_bytes(),
        maintype="application",
        subtype="pdf",
        filename=_attachment_name(edition, "pdf"),
    )
    msg.add_attachment(
        files["xlsx"].read_bytes(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=_attachment_name(edition, "xlsx"),
    )
    return msg


def send_message(msg: EmailMessage, config: SmtpConfig, recipients: list[str]) -> dict:
    """Send over SMTP; returns the server's refusals (empty when every recipient was accepted)."""
    if config.use_ssl:
        client = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client as smtp:
        smtp.ehlo()
        if config.starttls and not config.use_ssl:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config.user:
            smtp.login(config.user, config.password or "")
        return smtp.send_message(msg, from_addr=config.sender, to_addrs=recipients)


def _siblings(edition: Edition) -> list[Edition]:
    """The edition and the other report of the same week or month, when frozen and rendered."""
    kinds = WEEKLY_KINDS if edition.meta.kind in WEEKLY_KINDS else MONTHLY_KINDS
    home = edition.folder.parents[2]
    out = [edition]
    for kind in kinds:
        if kind == edition.meta.kind:
            continue
        folder = home / "reports" / kind / edition.meta.ref
        if (folder / "edition.json").is_file():
            sibling = open_edition(folder)
            if sibling.is_rendered():
                out.append(sibling)
    return sorted(out, key=lambda e: kinds.index(e.meta.kind))


def deliver(
    settings,
    folder: Path,
    *,
    force: bool = False,
    config: SmtpConfig | None = None,
    with_siblings: bool = True,
) -> list[dict]:
    """Send a rendered edition (and, by default, its rendered sibling of the same week or month).

    Returns one dict per edition: ``kind``, ``ref``, ``status`` (``sent``/``already_sent``),
    ``recipients``, ``subject``, ``message_id``.
    """
    edition = open_edition(Path(folder))
    config = config or SmtpConfig.from_env()
    results = []
    for item in _siblings(edition) if with_siblings else [edition]:
        record = item.folder / "delivery.json"
        if record.is_file() and not force:
            previous = json.loads(record.read_text(encoding="utf-8"))
            results.append({**previous, "status": "already_sent"})
            continue
        recipients = recipients_for(item)
        if not recipients:
            raise RuntimeError(f"活动定义 campaign.yml 的 recipients 中没有 {item.meta.kind} 的收件人。")
        msg = build_message(item, recipients, config.sender)
        refused = send_message(msg, config, recipients)
        result = {
            "kind": item.meta.kind,
            "ref": item.meta.ref,
            "status": "sent",
            "recipients": recipients,
            "refused": sorted(refused),
            "subject": msg["Subject"],
            "message_id": msg["Message-ID"],
            "sent_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        record.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        results.append(result)
    return results
