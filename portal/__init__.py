"""The upload portal for departments and counties (``roadsafe portal``).

Units log in with their own account, see this week's forms and the countdown to the next due time,
download the official blank forms, upload a file and read the answer at once — the Chinese 回执 or the
error list with sheet, row and column from a dry run of ingestion (:mod:`ingest.precheck`) — and look back
at every attempt. The campaign office sees the whole submission matrix and the latest editions.

The portal never writes DuckDB: it lands the file (:mod:`ingest.landing`), writes the pending receipt,
and posts an asset event on ``roadsafe_inbox`` to Airflow, whose ingest DAG loads it. Its own state
(accounts, sessions, the dry-run answers) is a small sqlite file, ``$ROADSAFE_HOME/portal/users.sqlite3``.

Modules: :mod:`.app` (the app factory, middleware, error handlers), :mod:`.routes` (one module per page
group), :mod:`.state` (what the routes share), :mod:`.pages` (rendering, headers, errors), :mod:`.auth`
(passwords, sessions, CSRF, login throttle), :mod:`.store` (sqlite), :mod:`.uploads` (gate, land, dry run,
event), :mod:`.status` (what the pages show), :mod:`.airflow` (REST client), :mod:`.config`; the command
line is :mod:`application.commands.portal` (``roadsafe portal`` / ``roadsafe user``).
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(config=None):
    """The FastAPI application (see :func:`portal.app.create_app`)."""
    from portal.app import create_app as make

    return make(config)
