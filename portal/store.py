"""The portal's own small database, ``$ROADSAFE_HOME/portal/users.sqlite3`` (stdlib sqlite3).

It holds what only the portal needs — accounts, sessions, failed logins and the dry-run answer given for
each upload — and never anything of the warehouse: the portal does not write DuckDB.

=================  ========================================================================================
``users``          login, unit_id (null for the office and leaders), role ``unit``/``office``/``leader``,
                   argon2 hash, enabled
``sessions``       sha256 of the session id (the cookie holds the id, signed), login, CSRF token, times
``login_throttle`` per account (``login:…``) and per client address (``client:…``): failed attempts
                   and the time before which no further attempt is checked (exponential back-off)
``attempts``       one row per upload: the receipt id, the dry-run status and messages, the Airflow event
=================  ========================================================================================
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Store", "User", "normalise_login"]

_SCHEMA = """
create table if not exists users (
    login          text primary key,
    unit_id        text,
    role           text not null check (role in ('unit', 'office', 'leader')),
    password_hash  text not null,
    enabled        integer not null default 1,
    created_at     text not null,
    updated_at     text not null,
    last_login_at  text
);
create table if not exists sessions (
    id_hash    text primary key,
    login      text not null,
    csrf       text not null,
    created_at real not null,
    last_seen  real not null,
    client     text
);
create index if not exists sessions_login on sessions (login);
create table if not exists login_throttle (
    key       text primary key,
    failures  integer not null,
    next_at   real not null,
    last_at   real not null
);
create table if not exists attempts (
    receipt_id     text primary key,
    login          text not null,
    unit_id        text not null,
    form_code      text,
    period_no      integer,
    original_name  text not null,
    size_bytes     integer not null,
    sha256         text not null,
    received_at    text not null,
    status         text,
    error_count    integer not null default 0,
    warning_count  integer not null default 0,
    row_count      integer not null default 0,
    receipt_text   text,
    messages_json  text,
    notified_at    text,
    notify_error   text
);
create index if not exists attempts_unit on attempts (unit_id, received_at);
"""


def normalise_login(text: str) -> str:
    """Logins compare folded: full-width characters and case do not matter, spaces around are dropped."""
    return unicodedata.normalize("NFKC", text or "").strip().casefold()


@dataclass(frozen=True)
class User:
    login: str
    unit_id: str | None
    role: str
    enabled: bool
    created_at: str
    last_login_at: str | None

    @property
    def is_office(self) -> bool:
        return self.role == "office"

    @property
    def is_leader(self) -> bool:
        """A leader (分管领导): reads the leaders' pages of every unit, submits and decides nothing."""
        return self.role == "leader"


SCHEMA_VERSION = 1  # 1: role 'leader' accepted


def _migrate(con: sqlite3.Connection) -> None:
    """Bring an older accounts file up to :data:`SCHEMA_VERSION` (``pragma user_version``), each step in one
    transaction taken with ``BEGIN IMMEDIATE`` (a second process opening the file waits, then finds it done).

    1. sqlite cannot alter a CHECK constraint: ``users`` is rebuilt under the new one, rows copied as they are.
    """
    if con.execute("pragma user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    con.execute("begin immediate")
    try:
        if con.execute("pragma user_version").fetchone()[0] < 1:
            sql = con.execute("select sql from sqlite_master where type = 'table' and name = 'users'").fetchone()[0]
            if "'leader'" not in sql:
                con.execute("alter table users rename to users_v0")
                con.execute(_SCHEMA.split(";")[0])  # create table users … (the current definition)
                con.execute("insert into users select * from users_v0")
                con.execute("drop table users_v0")
        con.execute(f"pragma user_version = {SCHEMA_VERSION}")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    """Thin wrapper over the sqlite file; one short connection per operation (safe across threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)  # 0600 whatever the umask
        os.close(fd)
        os.chmod(self.path, 0o600)
        with self.connect() as con:
            con.executescript(_SCHEMA)
            _migrate(con)

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            con.execute("pragma journal_mode = wal")
            con.execute("pragma synchronous = normal")
            con.execute("pragma foreign_keys = on")
            yield con
        finally:
            con.close()

    # ------------------------------------------------------------------ users

    def add_user(self, login: str, unit_id: str | None, role: str, password_hash: str) -> User:
        login = normalise_login(login)
        now = _now_text()
        with self.connect() as con:
            try:
                con.execute(
                    "insert into users (login, unit_id, role, password_hash, enabled, created_at, updated_at) "
                    "values (?, ?, ?, ?, 1, ?, ?)",
                    [login, unit_id, role, password_hash, now, now],
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"账号“{login}”已存在。") from None
        user = self.get_user(login)
        assert user is not None
        return user

    def get_user(self, login: str) -> User | None:
        with self.connect() as con:
            row = con.execute(
                "select login, unit_id, role, enabled, created_at, last_login_at from users where login = ?",
                [normalise_login(login)],
            ).fetchone()
        return User(row[0], row[1], row[2], bool(row[3]), row[4], row[5]) if row else None

    def password_hash(self, login: str) -> tuple[str, bool] | None:
        with self.connect() as con:
            row = con.execute(
                "select password_hash, enabled from users where login = ?", [normalise_login(login)]
            ).fetchone()
        return (row[0], bool(row[1])) if row else None

    def set_password_hash(self, login: str, password_hash: str, *, end_sessions: bool = True) -> bool:
        """A new password; its sessions end too (not when a login merely rehashes the same password)."""
        login = normalise_login(login)
        with self.connect() as con:
            cur = con.execute(
                "update users set password_hash = ?, updated_at = ? where login = ?",
                [password_hash, _now_text(), login],
            )
            if end_sessions:
                con.execute("delete from sessions where login = ?", [login])
            return cur.rowcount == 1

    def set_enabled(self, login: str, enabled: bool) -> bool:
        login = normalise_login(login)
        with self.connect() as con:
            cur = con.execute(
                "update users set enabled = ?, updated_at = ? where login = ?",
                [1 if enabled else 0, _now_text(), login],
            )
            if not enabled:
                con.execute("delete from sessions where login = ?", [login])
            return cur.rowcount == 1

    def list_users(self) -> list[User]:
        with self.connect() as con:
            rows = con.execute(
                "select login, unit_id, role, enabled, created_at, last_login_at from users order by role, login"
            ).fetchall()
        return [User(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows]

    def touch_login(self, login: str) -> None:
        with self.connect() as con:
            con.execute("update users set last_login_at = ? where login = ?", [_now_text(), login])

    # ------------------------------------------------------------------ sessions

    def create_session(self, id_hash: str, login: str, csrf: str, now: float, client: str | None) -> None:
        with self.connect() as con:
            con.execute(
                "insert into sessions (id_hash, login, csrf, created_at, last_seen, client) values (?, ?, ?, ?, ?, ?)",
                [id_hash, login, csrf, now, now, client],
            )

    def get_session(self, id_hash: str) -> sqlite3.Row | None:
        with self.connect() as con:
            return con.execute(
                "select id_hash, login, csrf, created_at, last_seen from sessions where id_hash = ?",
                [id_hash],
            ).fetchone()

    def touch_session(self, id_hash: str, now: float) -> None:
        with self.connect() as con:
            con.execute("update sessions set last_seen = ? where id_hash = ?", [now, id_hash])

    def delete_session(self, id_hash: str) -> None:
        with self.connect() as con:
            con.execute("delete from sessions where id_hash = ?", [id_hash])

    def purge_sessions(self, idle_before: float, created_before: float) -> None:
        with self.connect() as con:
            con.execute(
                "delete from sessions where last_seen < ? or created_at < ?", [idle_before, created_before]
            )

    # ------------------------------------------------------------------ login throttle

    def throttle_wait(self, keys: list[str], now: float) -> tuple[str, float] | None:
        """(key, seconds) of the first key that must still wait, or None."""
        marks = ", ".join("?" for _ in keys)
        with self.connect() as con:
            rows = dict(
                con.execute(
                    f"select key, next_at from login_throttle where key in ({marks})", keys
                ).fetchall()
            )
        for key in keys:
            if rows.get(key, 0.0) > now:
                return key, rows[key] - now
        return None

    def record_failure(self, keys: list[str], now: float, delay) -> None:
        """Count a failed attempt against every key, atomically (``BEGIN IMMEDIATE``); ``delay(key,
        failures)`` gives the wait after that many failures (0: none). Old idle rows are dropped."""
        with self.connect() as con:
            con.execute("begin immediate")
            try:
                for key in keys:
                    row = con.execute("select failures from login_throttle where key = ?", [key]).fetchone()
                    failures = (row[0] if row else 0) + 1
                    con.execute(
                        "insert into login_throttle (key, failures, next_at, last_at) values (?, ?, ?, ?) "
                        "on conflict (key) do update set failures = excluded.failures, "
                        "next_at = excluded.next_at, last_at = excluded.last_at",
                        [key, failures, now + delay(key, failures), now],
                    )
                con.execute(
                    "delete from login_throttle where last_at < ? and next_at < ?", [now - 86400, now]
                )
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise

    def clear_throttle(self, key: str) -> None:
        with self.connect() as con:
            con.execute("delete from login_throttle where key = ?", [key])

    # ------------------------------------------------------------------ upload attempts

    def record_attempt(self, row: dict) -> None:
        cols = list(row)
        with self.connect() as con:
            con.execute(
                f"insert or replace into attempts ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
                [row[c] for c in cols],
            )

    def attempts(self, unit_id: str | None = None) -> list[sqlite3.Row]:
        with self.connect() as con:
            if unit_id is None:
                return con.execute("select * from attempts order by received_at").fetchall()
            return con.execute(
                "select * from attempts where unit_id = ? order by received_at", [unit_id]
            ).fetchall()

    def attempt(self, receipt_id: str) -> sqlite3.Row | None:
        with self.connect() as con:
            return con.execute("select * from attempts where receipt_id = ?", [receipt_id]).fetchone()

    def mark_notified(self, receipt_ids: list[str], error: str | None) -> None:
        if not receipt_ids:
            return
        marks = ", ".join("?" for _ in receipt_ids)
        with self.connect() as con:
            if error is None:
                con.execute(
                    f"update attempts set notified_at = ?, notify_error = null where receipt_id in ({marks})",
                    [_now_text(), *receipt_ids],
                )
            else:
                con.execute(
                    f"update attempts set notify_error = ? where receipt_id in ({marks})",
                    [error, *receipt_ids],
                )

    def unnotified(self) -> list[str]:
        with self.connect() as con:
            return [r[0] for r in con.execute("select receipt_id from attempts where notified_at is null")]
