"""Backup and restore of ``$ROADSAFE_HOME``, and the proof of a backup: every figure rebuilt from the
landing zone alone.

What a backup holds (the state that cannot be made again; everything else is derived or transient)::

    MANIFEST.json                            last member: format, version, times, campaign, every file
    home/warehouse.duckdb                    copied under the writer's lock after CHECKPOINT
    home/published/warehouse.duckdb          the read-only snapshot readers had (opened under that lock)
    home/portal/users.sqlite3                the portal's accounts, via sqlite's online backup API
    home/landing/receipts/*.json             every receipt sidecar
    home/landing/ab/abcdef….xlsx             every original file, as received
    home/reports/<kind>/<ref>/…              every frozen edition (snapshot, HTML, PDF, XLSX, manifest)

Left out on purpose: ``site/``, ``dbt/``, ``logs/``, ``tmp/``, ``samples/`` (made again by ``roadsafe
site``/``build``/``samples``), ``inbox/`` (drop folders: every file taken from them is in the landing zone),
``portal/secret`` (the cookie-signing key is a credential; a restored portal makes a new one and users log
in again), Airflow's metadata database and the mail outboxes.

**Why a file copy under the lock, not EXPORT DATABASE.** The warehouse is copied the way
:func:`roadsafe.warehouse.publish_snapshot` publishes the snapshot: take a turn among the warehouse writers
(:func:`roadsafe.warehouse.writer_turn`: a running build is waited for, submissions queue behind), open a
writable connection (DuckDB allows one writing process, so nothing can write meanwhile), ``CHECKPOINT`` (the
WAL is folded into the file), copy the file, release the lock. The copy is the database byte for byte — every schema, view, sequence,
comment and type — it takes well under a second for the sample campaign's warehouse, and writers wait only
that long. ``EXPORT DATABASE`` would need the same lock for longer (it rewrites every table as Parquet/CSV),
and an import re-creates objects from generated SQL, so views, comments and types come back only as well as
that round trip carries them; its one advantage, independence from DuckDB's storage version, is covered
by recording the DuckDB version in the manifest (DuckDB reads files written by older versions).

Consistency while the system runs: under the lock the published snapshot is opened (a later publish replaces
the path, not the open file) and the warehouse copied; only then are the landing zone's receipts listed, and
then its files. Landing happens before loading, so every submission in the copied warehouse has its receipt
and file in the backup (a file landed afterwards is in it as pending, exactly as after a crash).

The archive is a gzip-compressed tar written to a hidden ``.<name>.<pid>.part`` file in the output folder,
fsynced and renamed when complete: a killed backup leaves only that ``.part`` file (no manifest, a truncated
gzip stream), never a file under the archive's name. A later backup removes ``.part`` files of processes
that are gone.

Restore reads the whole archive into a hidden folder beside the target, checking every member's size and
sha256 against the manifest (and the gzip CRC), and only then moves it into place with a rename; the target
is not touched before everything checks out. A target that already holds files is refused unless ``force``;
then the old folder is moved aside (renamed, kept), never deleted.

:func:`rebuild_from_landing` re-ingests every landed original, in the order it was received, with its
receipt (receive time, unit, channel, submitter, names) into a fresh warehouse under ``tmp/``, runs the dbt
build there and compares the registry, the ``ref`` tables and every ``marts`` table row for row with the
warehouse of the home.
"""

from application.backup.archive import backup, copy_warehouse
from application.backup.compare import compare_warehouses
from application.backup.rebuild import rebuild_from_landing
from application.backup.restore import restore
from application.backup.results import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    BackupError,
    BackupResult,
    Comparison,
    RebuildResult,
    RestoreResult,
    TableDiff,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "BackupError",
    "BackupResult",
    "Comparison",
    "RebuildResult",
    "RestoreResult",
    "TableDiff",
    "backup",
    "compare_warehouses",
    "copy_warehouse",
    "rebuild_from_landing",
    "restore",
]
