"""The ``raw`` schema of the warehouse, created from the campaign's form definitions.

Only ingestion writes these tables. dbt reads ``raw.submissions``, ``raw.submission_messages`` and the
``raw.form_values`` view (every form unpivoted to one typed value per row and column).
"""

from __future__ import annotations

from roadsafe.campaign import Campaign
from roadsafe.campaign.model import ColumnDef, FormDef

__all__ = ["DOCUMENTS_DDL", "SQL_TYPES", "ensure_raw_schema", "first", "form_table", "sql_type"]

SQL_TYPES = {"integer": "BIGINT", "rate": "DOUBLE", "date": "DATE"}

_SUBMISSIONS = """
create table if not exists raw.submissions (
    submission_id   varchar primary key,
    campaign_code   varchar not null,
    form_code       varchar,
    unit_id         varchar,
    period_no       integer,
    file_sha256     varchar not null,
    original_name   varchar not null,
    stored_path     varchar not null,
    size_bytes      bigint not null,
    channel         varchar not null,
    submitted_by    varchar,
    received_at     timestamptz not null,
    due_at          timestamptz,
    minutes_late    integer,
    status          varchar not null,
    superseded_by   varchar,
    row_count       integer not null default 0,
    error_count     integer not null default 0,
    warning_count   integer not null default 0,
    receipt_id      varchar,
    source_path     varchar
)
"""

# One row per document submission (ingest.documents): which occurrence it answers (``""``, ``YYYY-MM`` or
# ``YYYY``), its format, pages, title and plain text (accepted files only; null where none could be read).
DOCUMENTS_DDL = """
create table if not exists raw.documents (
    submission_id   varchar primary key,
    document_code   varchar not null,
    oneoff_code     varchar not null,
    occurrence      varchar not null,
    file_format     varchar not null,
    page_count      integer,
    title           varchar,
    body_text       varchar,
    has_macros      boolean not null default false
)
"""

# Columns added after the first release of the table: added to an existing warehouse on the fly.
_SUBMISSIONS_ADDED = {"receipt_id": "varchar", "source_path": "varchar"}

_MESSAGES = """
create table if not exists raw.submission_messages (
    submission_id   varchar not null,
    seq             integer not null,
    severity        varchar not null,
    sheet           varchar,
    row_no          integer,
    column_header   varchar,
    value           varchar,
    message         varchar not null,
    primary key (submission_id, seq)
)
"""


def first(result):
    """The first row of a DuckDB result, or None. Reads the result to the end: DuckDB 2.0 refuses further
    work on a connection while a result is half read (``fetchone()`` leaves it so)."""
    rows = result.fetchall()
    return rows[0] if rows else None


def sql_type(col: ColumnDef) -> str:
    return SQL_TYPES.get(col.type, "VARCHAR")


def form_table(form_code: str) -> str:
    """``raw.form_f1`` for F1."""
    return f"raw.form_{form_code.lower()}"


def _form_ddl(form: FormDef) -> str:
    cols = ",\n    ".join(f'"{c.key}" {sql_type(c)}' for c in form.columns)
    return f"""
create table if not exists {form_table(form.code)} (
    submission_id   varchar not null,
    sheet           varchar not null,
    source_row      integer not null,
    subject_unit_id varchar,
    record_key      varchar not null,
    {cols}
)
"""


def _values_select(form: FormDef) -> str:
    """One form's rows unpivoted: one row per (source row, column) with the value in its typed slot."""
    parts = []
    for col in form.columns:
        num = f'cast("{col.key}" as double)' if col.type in ("integer", "rate") else "null::double"
        text = "null::varchar" if col.type in ("integer", "rate", "date") else f'"{col.key}"'
        date = f'"{col.key}"' if col.type == "date" else "null::date"
        parts.append(
            f"select submission_id, '{form.code}' as form_code, sheet, source_row, subject_unit_id, "
            f"record_key, "
            f"'{col.key}' as column_key, {num} as value_num, {text} as value_text, {date} as value_date "
            f"from {form_table(form.code)}"
        )
    return "\nunion all\n".join(parts)


def _fingerprint(campaign: Campaign) -> str:
    """A hash of everything :func:`ensure_raw_schema` creates for this campaign's forms."""
    import hashlib

    parts = [_SUBMISSIONS, _MESSAGES, DOCUMENTS_DDL, repr(sorted(_SUBMISSIONS_ADDED.items()))]
    parts += [_form_ddl(f) + _values_select(f) for f in campaign.forms.values()]
    return "roadsafe-raw:" + hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


def ensure_raw_schema(con, campaign: Campaign) -> None:
    """Create the raw tables and (re)create the ``raw.form_values`` view. Idempotent.

    A form column added to the definition later is added to its table (existing rows get NULL). When the
    schema already matches the definition (a fingerprint kept as the view's comment), nothing is written.
    """
    fingerprint = _fingerprint(campaign)
    done = con.execute(
        "select comment from duckdb_views() where schema_name = 'raw' and view_name = 'form_values'"
    ).fetchall()
    if done and done[0][0] == fingerprint:
        return
    con.execute("create schema if not exists raw")
    con.execute(_SUBMISSIONS)
    for name, kind in _SUBMISSIONS_ADDED.items():
        con.execute(f"alter table raw.submissions add column if not exists {name} {kind}")
    con.execute(_MESSAGES)
    con.execute(DOCUMENTS_DDL)  # the written documents' texts (ingest.documents)
    for form in campaign.forms.values():
        con.execute(_form_ddl(form))
        table = form_table(form.code)
        existing = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = ?",
                [table.split(".", 1)[1]],
            ).fetchall()
        }
        for col in form.columns:
            if col.key not in existing:
                con.execute(f'alter table {table} add column "{col.key}" {sql_type(col)}')
    union = "\nunion all\n".join(_values_select(f) for f in campaign.forms.values())
    con.execute(f"create or replace view raw.form_values as\n{union}")
    con.execute(f"comment on view raw.form_values is '{fingerprint}'")
