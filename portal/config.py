"""Configuration of the upload portal, from the environment; :meth:`PortalConfig.check` refuses to start
with a weak secret or with plain-http cookies off loopback.

===================================  ===================================================================
``ROADSAFE_HOME``                    state folder (:class:`roadsafe.settings.Settings`)
``ROADSAFE_PORTAL_SECRET``           key that signs session cookies (at least 32 bytes, not a placeholder);
                                     default: generated once into ``$ROADSAFE_HOME/portal/secret`` (0600)
``ROADSAFE_AIRFLOW_URL``             Airflow api-server (``http://localhost:8080``); unset: no events posted
``ROADSAFE_AIRFLOW_USER``            the portal's own Airflow account (only "create asset events" and
``ROADSAFE_AIRFLOW_PASSWORD``        "read assets"; never the admin account), for ``POST /auth/token``
``ROADSAFE_AIRFLOW_TOKEN``           a ready JWT of that account instead of user/password (optional)
``ROADSAFE_TRUSTED_PROXIES``         reverse proxies (addresses or CIDRs, comma-separated) whose
                                     ``X-Forwarded-For`` names the client; default none (the peer counts)
``ROADSAFE_PORTAL_PLAIN_HTTP``       ``1``: session cookies without ``Secure`` (plain http) — allowed only
                                     when the portal listens on loopback
``ROADSAFE_PORTAL_MAX_UPLOAD_MB``    upload size limit (default 20)
``ROADSAFE_PORTAL_UPLOADS_PER_USER`` concurrent upload checks per account (default 2)
``ROADSAFE_PORTAL_UPLOADS_TOTAL``    concurrent upload checks in all (default 4)
``ROADSAFE_PORTAL_MAX_HASHES``       concurrent password checks (argon2, 64 MiB each; default 4)
``ROADSAFE_PORTAL_HASH_WAIT``        seconds a login waits for a free check before "busy" (default 5)
``ROADSAFE_PORTAL_SESSION_IDLE``     seconds of inactivity after which a session ends (default 8 h)
``ROADSAFE_PORTAL_SESSION_MAX``      seconds after which a session ends in any case (default 12 h)
``ROADSAFE_PORTAL_NOW``              demo / test clock: the portal's "now" starts at this ISO time and runs
                                     on from there (countdowns, the current week and receive times)
===================================  ===================================================================
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from roadsafe.settings import Settings

__all__ = ["Clock", "PortalConfig", "check_secret", "load_secret"]

MIN_SECRET_BYTES = 32
# Values that circulate in examples and must never sign anything (lower-cased substrings).
KNOWN_PLACEHOLDERS = ("change-me", "changeme", "replace-with", "secret-here", "example", "placeholder")
HOW_TO_MAKE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


class ConfigError(ValueError):
    """The portal must not start with this configuration (the message says why and what to do)."""


def check_secret(secret: bytes | str, where: str) -> None:
    """Refuse a missing, short (< 32 bytes), placeholder or low-variety secret (Chinese + English)."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else (secret or b"")
    text = raw.decode("utf-8", "replace").lower()
    problem = None
    if not raw.strip():
        problem = ("未设置", "is missing")
    elif len(raw) < MIN_SECRET_BYTES:
        problem = (f"太短（少于{MIN_SECRET_BYTES}字节）", f"is shorter than {MIN_SECRET_BYTES} bytes")
    elif any(p in text for p in KNOWN_PLACEHOLDERS) or len(set(raw)) < 10:
        problem = ("是示例值或过于简单", "is a well-known placeholder or too simple")
    if problem:
        raise ConfigError(
            f"门户密钥（{where}）{problem[0]}，门户拒绝启动。请用以下命令生成随机密钥后配置：{HOW_TO_MAKE}\n"
            f"The portal secret ({where}) {problem[1]}; refusing to start. Make one with: {HOW_TO_MAKE}"
        )


def parse_networks(text: str | None) -> tuple:
    """``10.0.0.1, 192.168.0.0/24`` → networks; a bad entry is a :class:`ConfigError`."""
    out = []
    for item in (text or "").replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"ROADSAFE_TRUSTED_PROXIES 中的“{item}”不是有效的地址或网段。"
                f"/ {item!r} in ROADSAFE_TRUSTED_PROXIES is not an address or CIDR."
            ) from None
    return tuple(out)


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
    if env is not None:
        check_secret(env, "ROADSAFE_PORTAL_SECRET")
        return env.encode("utf-8")
    folder = settings.home / "portal"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / "secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48))
    text = path.read_text(encoding="ascii").strip()
    check_secret(text, f"{path}; 删除该文件后重新启动门户将自动生成新密钥 / delete it to have a new one made")
    return text.encode("ascii")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


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
    secure_cookies: bool = True
    trusted_proxies: tuple = ()
    login_failures_per_login: int = 5
    login_failures_per_ip: int = 20
    login_backoff_seconds: float = 30.0
    login_backoff_max: float = 3600.0
    max_concurrent_hashes: int = 4
    hash_wait_seconds: float = 5.0
    uploads_per_account: int = 2
    uploads_total: int = 4
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
            airflow_username=os.environ.get("ROADSAFE_AIRFLOW_USER") or None,
            airflow_password=os.environ.get("ROADSAFE_AIRFLOW_PASSWORD") or None,
            airflow_token=os.environ.get("ROADSAFE_AIRFLOW_TOKEN") or None,
            max_upload_bytes=int(_float("ROADSAFE_PORTAL_MAX_UPLOAD_MB", 20) * 1024 * 1024),
            session_idle_seconds=_float("ROADSAFE_PORTAL_SESSION_IDLE", 8 * 3600),
            session_max_seconds=_float("ROADSAFE_PORTAL_SESSION_MAX", 12 * 3600),
            secure_cookies=os.environ.get("ROADSAFE_PORTAL_PLAIN_HTTP", "") not in ("1", "true", "yes"),
            trusted_proxies=parse_networks(os.environ.get("ROADSAFE_TRUSTED_PROXIES")),
            max_concurrent_hashes=_int("ROADSAFE_PORTAL_MAX_HASHES", 4),
            hash_wait_seconds=_float("ROADSAFE_PORTAL_HASH_WAIT", 5.0),
            uploads_per_account=_int("ROADSAFE_PORTAL_UPLOADS_PER_USER", 2),
            uploads_total=_int("ROADSAFE_PORTAL_UPLOADS_TOTAL", 4),
            now_text=os.environ.get("ROADSAFE_PORTAL_NOW") or None,
        )
        values.update(overrides)
        return cls(**values)

    def check(self, host: str | None = None) -> None:
        """Refuse to start with a weak secret, with the Airflow admin account, or (when ``host`` is given)
        with plain-http cookies on a non-loopback address."""
        check_secret(self.secret, "ROADSAFE_PORTAL_SECRET")
        if (self.airflow_username or "").strip().lower() == "admin":
            raise ConfigError(
                "门户不得使用 Airflow 管理员账号发送入库通知，请为门户创建仅能创建资产事件的专用账号"
                "（ROADSAFE_AIRFLOW_USER）。/ The portal must not use the Airflow admin account; create a "
                "dedicated account allowed only to create asset events (ROADSAFE_AIRFLOW_USER)."
            )
        if host is not None and not self.secure_cookies and not _loopback(host):
            raise ConfigError(
                f"ROADSAFE_PORTAL_PLAIN_HTTP 只允许在本机回环地址上使用（当前监听 {host}）；对外服务请经 HTTPS 提供。"
                f"/ ROADSAFE_PORTAL_PLAIN_HTTP is allowed only on loopback (listening on {host}); serve over HTTPS."
            )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
