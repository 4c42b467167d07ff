"""Configuration of the upload portal, from the environment.

=================================  =====================================================================
``ROADSAFE_HOME``                  state folder (:class:`roadsafe.settings.Settings`)
``ROADSAFE_PORTAL_SECRET``         key that signs session cookies; default: generated once into
                                   ``$ROADSAFE_HOME/portal/secret`` (mode 0600)
``ROADSAFE_AIRFLOW_URL``           Airflow api-server (``http://localhost:8080``); unset: no events posted
``ROADSAFE_AIRFLOW_USERNAME``      login for ``POST /auth/token``
``ROADSAFE_AIRFLOW_PASSWORD``
``ROADSAFE_AIRFLOW_TOKEN``         a ready JWT instead of username/password (optional)
``ROADSAFE_PORTAL_MAX_UPLOAD_MB``  upload size limit (default 20)
``ROADSAFE_PORTAL_SESSION_IDLE``   seconds of inactivity after which a session ends (default 8 h)
``ROADSAFE_PORTAL_SESSION_MAX``    seconds after which a session ends in any case (default 12 h)
``ROADSAFE_PORTAL_SECURE_COOKIE``  ``1`` when served over HTTPS (adds ``Secure`` to the cookies)
``ROADSAFE_PORTAL_NOW``            demo / test clock: the portal's "now" starts at this ISO time and runs
                                   on from there (countdowns, the current week and receive times)
=================================  =====================================================================
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from roadsafe.settings import Settings

__all__ = ["Clock", "PortalConfig", "load_secret"]


class Clock:
    """The portal's idea of "now" (campaign time zone). Real time unless started at a stated instant, after
    which it runs on in real time (so a demo of the 2022 campaign shows live countdowns)."""

    def __init__(self, tz, start: dt.datetime | None = None):
        self.tz = tz
        self._start = start
        self._t0 = time.monotonic()

    def now(self) -> dt.datetime:
        if self._start is None:
            return dt.datetime.now(self.tz)
        return (self._start + dt.timedelta(seconds=time.monotonic() - self._t0)).astimezone(self.tz)

    @classmethod
    def from_text(cls, tz, text: str | None) -> Clock:
        if not text:
            return cls(tz)
        start = dt.datetime.fromisoformat(text)
        if start.tzinfo is None:
            start = start.replace(tzinfo=tz)
        return cls(tz, start)


def load_secret(settings: Settings) -> bytes:
    """``ROADSAFE_PORTAL_SECRET``, or the key in ``$ROADSAFE_HOME/portal/secret`` (created once, 0600)."""
    env = os.environ.get("ROADSAFE_PORTAL_SECRET")
    if env:
        return env.encode("utf-8")
    folder = settings.home / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48))
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise RuntimeError(f"门户密钥文件 {path} 内容无效，请删除该文件后重新启动门户（将自动生成新密钥）。")
    return text.encode("ascii")


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass
class PortalConfig:
    settings: Settings
    secret: bytes
    airflow_url: str | None = None
    airflow_username: str | None = None
    airflow_password: str | None = None
    airflow_token: str | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    session_idle_seconds: float = 8 * 3600
    session_max_seconds: float = 12 * 3600
    secure_cookies: bool = False
    login_failures_per_login: int = 5
    login_failures_per_ip: int = 20
    login_failure_window: float = 600
    airflow_timeout: float = 3.0
    notify_retry_seconds: float = 30.0
    now_text: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.settings.home

    @property
    def folder(self) -> Path:
        return self.settings.home / "portal"

    @property
    def users_db(self) -> Path:
        return self.folder / "users.sqlite3"

    @classmethod
    def from_env(cls, settings: Settings | None = None, **overrides) -> PortalConfig:
        settings = settings or Settings.from_env()
        values = dict(
            settings=settings,
            secret=load_secret(settings),
            airflow_url=(os.environ.get("ROADSAFE_AIRFLOW_URL") or "").rstrip("/") or None,
            airflow_username=os.environ.get("ROADSAFE_AIRFLOW_USERNAME") or None,
            airflow_password=os.environ.get("ROADSAFE_AIRFLOW_PASSWORD") or None,
            airflow_token=os.environ.get("ROADSAFE_AIRFLOW_TOKEN") or None,
            max_upload_bytes=int(_float("ROADSAFE_PORTAL_MAX_UPLOAD_MB", 20) * 1024 * 1024),
            session_idle_seconds=_float("ROADSAFE_PORTAL_SESSION_IDLE", 8 * 3600),
            session_max_seconds=_float("ROADSAFE_PORTAL_SESSION_MAX", 12 * 3600),
            secure_cookies=os.environ.get("ROADSAFE_PORTAL_SECURE_COOKIE", "") in ("1", "true", "yes"),
            now_text=os.environ.get("ROADSAFE_PORTAL_NOW") or None,
        )
        values.update(overrides)
        return cls(**values)
