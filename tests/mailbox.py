"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives, shared by the tests that
deliver mail (notices, editions, office decisions, the operator's failure mail)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: ``messages`` holds (sender, recipients, raw bytes) per message, oldest first."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def parsed(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.messages]

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.parsed()]


@contextmanager
def running_mailbox() -> Iterator[Mailbox]:
    """Start the server on a free loopback port (``box.port``) and stop exactly it afterwards."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()
        asyncio.set_event_loop(None)


def use_mailbox(monkeypatch, box: Mailbox, sender: str) -> Mailbox:
    """Point the project's SMTP settings at ``box``."""
    monkeypatch.setenv("ROADSAFE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ROADSAFE_SMTP_PORT", str(box.port))
    monkeypatch.setenv("ROADSAFE_SMTP_FROM", sender)
    return box
