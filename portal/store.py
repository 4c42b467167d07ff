"""The portal's own small database, ``$ROADSAFE_HOME/portal/users.sqlite3`` (stdlib sqlite3).

It holds what only the portal needs — accounts, sessions, failed logins and the dry-run answer given for
each upload — and never anything of the warehouse: the portal does not write DuckDB.

=================  ========================================================================================
``users``          login, unit_id (null for the office), role ``unit``/``office``, argon2 hash, enabled
``sessions``       sha256 of the session id (the cookie holds the id, signed), login, CSRF token, times
``login_failures`` one row per failed login (login, client address, time) for the rate limit
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
    role           text not null check (role in ('unit', 'office')),
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
create table if not exists login_failures (
    id     integer primary key,
    login  text not null,
    client text not null,
    at     real not null
);
create index if not exists login_failures_login on login_failures (login, at);
create index if not exists login_failures_client on login_failures (client, at);
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


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    """Thin wrapper over the sqlite file; one short connection per operation (safe across threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.path.parent, 0o700)
        except OSError:
            pass
        if not self.path.exists():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        with self.connect() as con:
            con.executescript(_SCHEMA)

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

    def set_password_hash(self, login: str, password_hash: str) -> bool:
        with self.connect() as con:
            cur = con.execute(
                "update users set password_hash = ?, updated_at = ? where login = ?",
                [password_hash, _now_text(), normalise_login(login)],
            )
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

    # ------------------------------------------------------------------ failed logins

    def failures(self, login: str, client: str, since: float) -> tuple[int, int]:
        with self.connect() as con:
            by_login = con.execute(
                "select count(*) from login_failures where login = ? and at >= ?",
                [normalise_login(login), since],
            ).fetchone()[0]
            by_client = con.execute(
                "select count(*) from login_failures where client = ? and at >= ?", [client, since]
            ).fetchone()[0]
        return by_login, by_client

    def record_failure(self, login: str, client: str, now: float, keep_after: float) -> None:
        with self.connect() as con:
            con.execute(
                "insert into login_failures (login, client, at) values (?, ?, ?)",
                [normalise_login(login), client, now],
            )
            con.execute("delete from login_failures where at < ?", [keep_after])

    def clear_failures(self, login: str) -> None:
        with self.connect() as con:
            con.execute("delete from login_failures where login = ?", [normalise_login(login)])

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
