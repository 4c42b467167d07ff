"""The submission registry (``raw.submissions`` + ``raw.submission_messages``) and ingest's writable
connection (:func:`open_warehouse`, on :mod:`roadsafe.warehouse`).

Every attempt gets one registry row — accepted, rejected or duplicate — with a sequential id ``S000001``.
A later accepted submission for the same (form, unit, period) supersedes the earlier one for the figures
(``superseded_by``); both stay queryable. "Later" means received later: a file landed before a crash and
loaded afterwards does not replace a newer one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from ingest.messages import Message
from ingest.schema import ensure_raw_schema, first
from roadsafe.campaign import Campaign
from roadsafe.settings import Settings
from roadsafe.warehouse import connect, writer_turn

__all__ = [
    "CurrentSubmission",
    "current_accepted",
    "insert_messages",
    "insert_submission",
    "next_submission_id",
    "open_warehouse",
    "supersede",
]


@contextmanager
def open_warehouse(settings: Settings, campaign: Campaign, *, wait: float | None = None) -> Iterator:
    """A writable connection with the raw schema in place, closed afterwards.

    DuckDB lets one process at a time open the file for writing, and refuses the others at once. Ingest
    writers (``roadsafe submit``, the inbox and history runs, any number at the same moment) therefore
    queue first (:func:`roadsafe.warehouse.writer_turn`) and open the warehouse in turn, each holding it for one short load,
    so no lock error reaches a submitter; a process outside the queue holding the file (``dbt build``,
    publishing the snapshot) is waited for with a jittered back-off. Only after ``wait`` seconds
    (:func:`roadsafe.warehouse.lock_wait`) in all is :class:`roadsafe.warehouse.WarehouseBusy` raised.
    """
    with writer_turn(settings, wait=wait) as deadline:
        con = connect(settings, deadline=deadline)
        try:
            con.execute(f"set TimeZone = '{campaign.frame.timezone}'")
            ensure_raw_schema(con, campaign)
            yield con
        finally:
            con.close()


def next_submission_id(con) -> str:
    (n,) = first(
        con.execute(
            "select coalesce(max(cast(substr(submission_id, 2) as integer)), 0) + 1 from raw.submissions"
        )
    )
    return f"S{n:06d}"


@dataclass(frozen=True)
class CurrentSubmission:
    submission_id: str
    file_sha256: str
    received_at: dt.datetime
    row_count: int


def current_accepted(con, form_code: str, unit_id: str, period_no: int) -> CurrentSubmission | None:
    """The accepted, not superseded submission for (form, unit, period), if any."""
    row = first(
        con.execute(
            """
        select submission_id, file_sha256, received_at, row_count from raw.submissions
        where form_code = ? and unit_id = ? and period_no = ?
          and status = 'accepted' and superseded_by is null
        order by received_at desc, submission_id desc limit 1
        """,
            [form_code, unit_id, period_no],
        )
    )
    return CurrentSubmission(*row) if row else None


def insert_submission(con, row: dict) -> None:
    cols = list(row)
    con.execute(
        f"insert into raw.submissions ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
        [row[c] for c in cols],
    )


def insert_messages(con, submission_id: str, messages: Sequence[Message]) -> None:
    if not messages:
        return
    con.execute(
        """
        insert into raw.submission_messages
        select ?, unnest(?::integer[]), unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::integer[]),
               unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::varchar[])
        """,
        [
            submission_id,
            list(range(1, len(messages) + 1)),
            [m.severity for m in messages],
            [m.sheet for m in messages],
            [m.row_no for m in messages],
            [m.column_header for m in messages],
            [m.value for m in messages],
            [m.text for m in messages],
        ],
    )


def supersede(
    con, submission_id: str, form_code: str, unit_id: str, period_no: int, received_at
) -> tuple[list[str], str | None]:
    """Make an accepted submission current for (form, unit, period), by received time.

    Returns (the ids it supersedes, the id that supersedes it when a newer one was already loaded).
    """
    newer = first(
        con.execute(
            """
        select submission_id from raw.submissions
        where form_code = ? and unit_id = ? and period_no = ?
          and status = 'accepted' and superseded_by is null
          and submission_id <> ? and received_at > ?
        order by received_at desc, submission_id desc limit 1
        """,
            [form_code, unit_id, period_no, submission_id, received_at],
        )
    )
    if newer:
        con.execute(
            "update raw.submissions set superseded_by = ? where submission_id = ?", [newer[0], submission_id]
        )
        return [], newer[0]
    older = [
        r[0]
        for r in con.execute(
            """
            select submission_id from raw.submissions
            where form_code = ? and unit_id = ? and period_no = ? and status = 'accepted'
              and superseded_by is null and submission_id <> ?
            order by submission_id
            """,
            [form_code, unit_id, period_no, submission_id],
        ).fetchall()
    ]
    if older:
        con.execute(
            "update raw.submissions set superseded_by = ? "
            "where submission_id in (select unnest(?::varchar[]))",
            [submission_id, older],
        )
    return older, None


def loaded_receipts(con) -> set[str]:
    return {
        r[0]
        for r in con.execute("select receipt_id from raw.submissions where receipt_id is not null").fetchall()
    }


def inbox_records(con) -> dict[str, set[tuple[int, str]]]:
    """Inbox files already recorded: source path → {(size, sha256)}."""
    out: dict[str, set[tuple[int, str]]] = {}
    for path, size, sha in con.execute(
        "select source_path, size_bytes, file_sha256 from raw.submissions where channel = 'inbox'"
    ).fetchall():
        out.setdefault(path, set()).add((size, sha))
    return out
