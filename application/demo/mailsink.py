"""A mail sink on loopback: an SMTP server that keeps every message it receives as an .eml file.

The demo and local runs deliver editions to it, so e-mail delivery runs for real (SMTP, MIME,
attachments) without a mail server. Production points ``ROADSAFE_SMTP_*`` at the real one.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MailSink"]


class MailSink:
    """``with MailSink(folder) as sink:`` serves SMTP on ``sink.host:sink.port`` until the block ends.

    Examples
    --------
    >>> import smtplib, tempfile
    >>> with MailSink(Path(tempfile.mkdtemp())) as sink:
    ...     with smtplib.SMTP(sink.host, sink.port) as smtp:
    ...         _ = smtp.sendmail("a@example.org", ["b@example.org"], "Subject: hi\\n\\nbody")
    ...     sink.count
    1
    """

    host = "127.0.0.1"

    def __init__(self, folder: Path, port: int = 0):
        self.folder = Path(folder)
        self.port = port
        self._controller = None

    @property
    def count(self) -> int:
        return len(list(self.folder.glob("*.eml")))

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        number = self.count + 1
        (self.folder / f"{number:04d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 OK"

    def __enter__(self) -> MailSink:
        import socket

        from aiosmtpd.controller import Controller

        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.port:
            with socket.socket() as s:
                s.bind((self.host, 0))
                self.port = s.getsockname()[1]
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()
