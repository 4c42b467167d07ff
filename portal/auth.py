"""Accounts, sessions, CSRF tokens and the login rate limit.

- Passwords: argon2id (argon2-cffi's defaults), rehashed on login when the parameters change. A login
  with an unknown account costs the same as one with a wrong password (a dummy hash is checked).
- Sessions: the cookie holds a random session id signed with itsdangerous (and dated: it is refused after
  ``session_max_seconds``); the server keeps only its sha256 with the login, the CSRF token and the last
  use, and ends the session after ``session_idle_seconds`` without a request, on logout, or when the
  account is disabled. Cookies are HttpOnly and SameSite=Lax.
- CSRF: a synchronizer token per session, in a hidden field of every POST form; the login form, which
  comes before any session, carries a token bound to a short-lived signed pre-login cookie.
- Throttle, per account and per client address separately: the first ``login_failures_per_login``
  (account) / ``login_failures_per_ip`` (address) failures are free; each further one makes the key wait
  ``login_backoff_seconds`` × 2ⁿ (capped at ``login_backoff_max``) — a back-off, not a lock: the right
  password works again once the wait is over. A successful login clears its account's count.
- No race: the attempts on one account are taken one at a time (an in-process lock per account, the
  portal being one process): its wait is read, the password checked and a failure counted before the next
  attempt on that account is looked at, so parallel guesses get no more checks than sequential ones.
- At most ``max_concurrent_hashes`` password checks run at once (argon2 takes 64 MiB each); an attempt
  that finds no free slot within ``hash_wait_seconds`` is answered "busy" (429) and not counted. (Parallel
  guesses on *different* accounts from one address can overshoot that address's allowance by at most
  this number.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.config import PortalConfig
from portal.store import Store, User, normalise_login

__all__ = [
    "MIN_PASSWORD",
    "ROLES",
    "Auth",
    "LoginResult",
    "Session",
    "check_password_rules",
    "may_read_leaders_page",
]

SESSION_COOKIE = "roadsafe_session"
LOGIN_COOKIE = "roadsafe_login"
MIN_PASSWORD = 10
_TOUCH_EVERY = 60.0  # seconds: last_seen is written at most this often
_ACCOUNT_STRIPES = 64  # per-account login locks (striped: bounded memory whatever the logins tried)
_ACCOUNT_WAIT = 30.0  # seconds an attempt waits for the others on its account before "busy"


# Who an account is: a reporting unit (its own pages and uploads), the campaign office (every unit, the
# office's actions), a leader (reads the leaders' pages of every unit; uploads and decides nothing).
ROLES = ("unit", "office", "leader")


def may_read_leaders_page(user, kind: str, units: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether ``user`` may read a leaders' page: the front page (``kind`` "front") only the office and
    leaders; a unit's page (``units`` = {that unit}) or a task's page (``units`` = its lead and co units)
    also the unit concerned."""
    if user.role in ("office", "leader"):
        return True
    return user.role == "unit" and kind in ("unit", "task") and user.unit_id in units


def check_password_rules(password: str) -> str | None:
    """Why a password may not be used (Chinese), or None."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少需要{MIN_PASSWORD}个字符。"
    if password.strip() != password:
        return "密码首尾不能是空格。"
    kinds = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if kinds < 2:
        return "密码需至少包含字母、数字、符号中的两类。"
    return None


@dataclass(frozen=True)
class Session:
    id_hash: str
    user: User
    csrf: str


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    limited: str | None = None  # "login" / "client": which key must wait
    wait: float = 0.0  # seconds before that key may try again
    busy: bool = False  # too many password checks at once
    cookie: str | None = None


def _hash_id(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


class Auth:
    def __init__(self, config: PortalConfig, store: Store, *, clock=time.time):
        self.config = config
        self.store = store
        self.clock = clock
        self.hasher = PasswordHasher()
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        self._sessions = URLSafeTimedSerializer(config.secret, salt="roadsafe-portal-session")
        self._prelogin = URLSafeTimedSerializer(config.secret, salt="roadsafe-portal-login")
        self._hashing = threading.BoundedSemaphore(max(1, config.max_concurrent_hashes))
        self._accounts = [threading.Lock() for _ in range(_ACCOUNT_STRIPES)]

    # ------------------------------------------------------------------ passwords

    def hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    def _verify(self, login: str, password: str) -> User | None:
        found = self.store.password_hash(login)
        stored, enabled = found if found else (self._dummy, False)
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not found or not enabled:
            return None
        if self.hasher.check_needs_rehash(stored):
            self.store.set_password_hash(login, self.hasher.hash(password), end_sessions=False)
        return self.store.get_user(login)

    # ------------------------------------------------------------------ login / logout

    def _delay(self, key: str, failures: int) -> float:
        """Seconds a key waits after ``failures`` counted attempts (exponential beyond the free ones)."""
        cfg = self.config
        free = cfg.login_failures_per_login if key.startswith("login:") else cfg.login_failures_per_ip
        if failures < free:
            return 0.0
        return min(cfg.login_backoff_seconds * 2 ** (failures - free), cfg.login_backoff_max)

    def login(self, login: str, password: str, client: str) -> LoginResult:
        """Check a login under the throttle; on success start a session (``cookie`` is its value)."""
        cfg = self.config
        login = normalise_login(login)[:128]
        keys = [f"login:{login or '-'}", f"client:{client}"]
        account = self._accounts[int(hashlib.sha256(keys[0].encode()).hexdigest()[:8], 16) % _ACCOUNT_STRIPES]
        if not account.acquire(timeout=_ACCOUNT_WAIT):
            return LoginResult(None, busy=True)
        try:
            if not self._hashing.acquire(timeout=cfg.hash_wait_seconds):
                return LoginResult(None, busy=True)
            try:
                now = self.clock()
                waiting = self.store.throttle_wait(keys, now)
                if waiting is not None:
                    key, wait = waiting
                    return LoginResult(None, limited=key.split(":", 1)[0], wait=wait)
                user = self._verify(login, password) if login and password else None
            finally:
                self._hashing.release()
            if user is None:
                self.store.record_failure(keys, now, self._delay)
                return LoginResult(None)
            self.store.clear_throttle(keys[0])
        finally:
            account.release()
        self.store.touch_login(user.login)
        raw = secrets.token_urlsafe(32)
        self.store.create_session(_hash_id(raw), user.login, secrets.token_urlsafe(32), now, client)
        self.store.purge_sessions(now - cfg.session_idle_seconds, now - cfg.session_max_seconds)
        return LoginResult(user, cookie=self._sessions.dumps(raw))

    def session(self, cookie: str | None) -> tuple[Session | None, str | None]:
        """The live session of a cookie, or (None, why) with why ``expired``/``invalid``/None (no cookie)."""
        if not cookie:
            return None, None
        cfg = self.config
        try:
            raw = self._sessions.loads(cookie, max_age=cfg.session_max_seconds)
        except SignatureExpired:
            return None, "expired"
        except BadSignature:
            return None, "invalid"
        if not isinstance(raw, str):
            return None, "invalid"
        id_hash = _hash_id(raw)
        row = self.store.get_session(id_hash)
        if row is None:
            return None, "expired"
        now = self.clock()
        if (
            now - row["last_seen"] > cfg.session_idle_seconds
            or now - row["created_at"] > cfg.session_max_seconds
        ):
            self.store.delete_session(id_hash)
            return None, "expired"
        user = self.store.get_user(row["login"])
        if user is None or not user.enabled:
            self.store.delete_session(id_hash)
            return None, "expired"
        if now - row["last_seen"] > _TOUCH_EVERY:
            self.store.touch_session(id_hash, now)
        return Session(id_hash, user, row["csrf"]), None

    def logout(self, session: Session) -> None:
        self.store.delete_session(session.id_hash)

    # ------------------------------------------------------------------ CSRF

    @staticmethod
    def csrf_ok(session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(session.csrf.encode(), str(token).encode())

    def new_prelogin(self) -> tuple[str, str]:
        """(token for the login form, value of the pre-login cookie)."""
        token = secrets.token_urlsafe(24)
        return token, self._prelogin.dumps(token)

    def prelogin_ok(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        try:
            expected = self._prelogin.loads(cookie, max_age=2 * 3600)
        except BadSignature:
            return False
        return isinstance(expected, str) and hmac.compare_digest(expected.encode(), str(token).encode())
