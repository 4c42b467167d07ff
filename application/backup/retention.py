"""Backups on a schedule (the ``roadsafe_backup`` DAG): one archive per campaign a day, then the old ones
pruned — the newest archive of each of the last ``keep_daily`` days and of each of the last ``keep_monthly``
months are kept, every other archive of that campaign in the folder is removed.

===============================  ============================================================
``ROADSAFE_BACKUP_DIR``          where the archives go (default ``$ROADSAFE_HOME/backups``); in
                                 production another disk or a mounted share, never the data volume alone
``ROADSAFE_BACKUP_KEEP_DAILY``   daily archives kept (default 7)
``ROADSAFE_BACKUP_KEEP_MONTHLY``  monthly archives kept (default 12): the newest of each month
===============================  ============================================================

Only files named as :func:`application.backup.backup` names them (``roadsafe-<campaign>-<YYYYmmddTHHMMSS>.tar.gz``)
for the campaign at hand are ever removed; anything else in the folder is left alone. The archive just
made is always kept. Several campaigns may share the folder: the names tell them apart.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from application.backup.archive import backup
from roadsafe.settings import Settings

__all__ = ["Retention", "archives", "backup_campaign", "prune", "scheduled_backup", "select_kept"]

_NAME = re.compile(r"roadsafe-(?P<code>[a-z0-9][a-z0-9-]*)-(?P<stamp>\d{8}T\d{6})\.tar\.gz")


@dataclass(frozen=True)
class Retention:
    keep_daily: int = 7
    keep_monthly: int = 12

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Retention:
        env = os.environ if environ is None else environ
        daily = int(env.get("ROADSAFE_BACKUP_KEEP_DAILY") or cls.keep_daily)
        monthly = int(env.get("ROADSAFE_BACKUP_KEEP_MONTHLY") or cls.keep_monthly)
        if daily < 1 or monthly < 0:
            raise ValueError("ROADSAFE_BACKUP_KEEP_DAILY must be at least 1 and ROADSAFE_BACKUP_KEEP_MONTHLY at least 0")
        return cls(daily, monthly)


def archives(folder: Path, campaign: str) -> dict[Path, dt.datetime]:
    """The campaign's archives in ``folder`` and the time in their names."""
    out = {}
    if folder.is_dir():
        for path in folder.iterdir():
            m = _NAME.fullmatch(path.name)
            if m and m["code"] == campaign and path.is_file() and not path.is_symlink():
                out[path] = dt.datetime.strptime(m["stamp"], "%Y%m%dT%H%M%S")
    return out


def select_kept(times: Mapping[Path, dt.datetime], retention: Retention) -> set[Path]:
    """The newest archive of each of the ``keep_daily`` most recent days that have one, and of each of the
    ``keep_monthly`` most recent months that have one."""
    newest_first = sorted(times, key=lambda p: (times[p], p.name), reverse=True)

    def newest_per(key, limit: int) -> Iterable[Path]:
        seen: list = []
        for path in newest_first:
            k = key(times[path])
            if k not in seen:
                seen.append(k)
                if len(seen) > limit:
                    return
                yield path

    kept = set(newest_per(lambda t: t.date(), retention.keep_daily))
    kept |= set(newest_per(lambda t: (t.year, t.month), retention.keep_monthly))
    return kept


def prune(folder: Path, campaign: str, retention: Retention, *, keep: Iterable[Path] = ()) -> list[Path]:
    """Remove the campaign's archives that :func:`select_kept` does not keep; returns the removed paths."""
    times = archives(folder, campaign)
    kept = select_kept(times, retention) | {Path(p) for p in keep}
    removed = []
    for path in sorted(set(times) - kept):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


@dataclass
class ScheduledBackup:
    campaign: str
    archive: str
    size: int
    seconds: float
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def scheduled_backup(settings: Settings, *, folder: Path | None = None, retention: Retention | None = None,
                     wait: float = 1800.0) -> dict:  # fmt: skip
    """Back up the campaign's home into ``folder`` (``$ROADSAFE_BACKUP_DIR`` or ``home/backups``), then prune;
    returns what was made, kept and removed (JSON-able, for the task's return value)."""
    retention = retention or Retention.from_env()
    env_dir = os.environ.get("ROADSAFE_BACKUP_DIR")
    folder = Path(folder or env_dir or settings.home / "backups")
    result = backup(settings, str(folder) + os.sep, wait=wait)
    removed = prune(folder, settings.campaign_code, retention, keep=[result.path])
    kept = sorted(p.name for p in archives(folder, settings.campaign_code))
    done = ScheduledBackup(settings.campaign_code, str(result.path), result.bytes_out, result.seconds, kept,
                           [p.name for p in removed])  # fmt: skip
    return done.__dict__


def backup_campaign(code: str) -> dict:
    """The ``roadsafe_backup`` DAG's task: :func:`scheduled_backup` of one campaign of the deployment."""
    return scheduled_backup(Settings.from_env(campaign=code))
