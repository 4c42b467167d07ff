"""Backups on a schedule: the retention rule, and the real ``roadsafe_backup`` DAG run with ``airflow dags
test`` on a small real home — it writes an archive, prunes the old ones by the rule, leaves everything
else alone, and the archive it made restores (``roadsafe restore``, a real process) into a home whose
warehouse, snapshot and landing zone are the source's."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from application.backup.retention import Retention, archives, select_kept

REPO = Path(__file__).resolve().parents[2]


def _name(t: dt.datetime, code: str = "jiujiang-2022") -> str:
    return f"roadsafe-{code}-{t:%Y%m%dT%H%M%S}.tar.gz"


def test_the_newest_of_each_recent_day_and_month_is_kept():
    start = dt.datetime(2025, 1, 1, 2, 30)
    times = {Path(_name(start + dt.timedelta(days=i))): start + dt.timedelta(days=i) for i in range(439)}
    last = start + dt.timedelta(days=438)  # 2026-03-15 02:30
    assert last.date() == dt.date(2026, 3, 15)
    later = last.replace(hour=14)
    times[Path(_name(later))] = later
    kept = select_kept(times, Retention(keep_daily=7, keep_monthly=12))
    days = {t.date() for p, t in times.items() if p in kept}
    # daily: 15 March (its 14:00 archive, not the 02:30 one) and the six days before
    assert Path(_name(later)) in kept and Path(_name(last)) not in kept
    assert {dt.date(2026, 3, d) for d in range(9, 16)} <= days
    # monthly: the last day of each of the 11 months before March 2026, back to April 2025
    month_ends = {dt.date(2026, 2, 28), dt.date(2026, 1, 31), dt.date(2025, 12, 31), dt.date(2025, 4, 30)}
    assert month_ends <= days and dt.date(2025, 3, 31) not in days
    assert len(kept) == 7 + 11
    # keep_monthly=0: the daily ones only
    assert len(select_kept(times, Retention(keep_daily=3, keep_monthly=0))) == 3


def test_retention_settings_are_checked():
    assert Retention.from_env({"ROADSAFE_BACKUP_KEEP_DAILY": "14", "ROADSAFE_BACKUP_KEEP_MONTHLY": "6"}) == Retention(14, 6)
    with pytest.raises(ValueError, match="KEEP_DAILY"):
        Retention.from_env({"ROADSAFE_BACKUP_KEEP_DAILY": "0"})


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.mark.slow
def test_the_scheduled_backup_prunes_by_the_rule_and_its_archive_restores(small_home, tmp_path):
    from application.airflow.local import AIRFLOW, airflow_env, run_airflow
    from application.backup import compare_warehouses

    folder = tmp_path / "backups"
    folder.mkdir()
    now = dt.datetime.now().replace(hour=2, minute=30, second=0, microsecond=0)
    seeded = [now - dt.timedelta(days=d) for d in (1, 2, 3, 4, 5, 6, 10, 40, 70)]
    for t in seeded:
        (folder / _name(t)).write_bytes(b"an older archive")
    strangers = [folder / _name(now - dt.timedelta(days=3), "other-campaign"), folder / "notes.txt"]
    for p in strangers:
        p.write_text("not ours")

    env = airflow_env(small_home)
    env.pop("ROADSAFE_CAMPAIGNS", None)
    env.update(ROADSAFE_BACKUP_DIR=str(folder), ROADSAFE_BACKUP_KEEP_DAILY="3", ROADSAFE_BACKUP_KEEP_MONTHLY="2")
    run_airflow(["db", "migrate"], env, timeout=300)
    proc = subprocess.run([AIRFLOW, "dags", "test", "roadsafe_backup"], env=env, capture_output=True, text=True,
                          timeout=400, cwd=small_home)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "state=success" in out, out[-3000:]

    left = archives(folder, "jiujiang-2022")
    made = [p for p in left if p.stat().st_size > 1000]
    assert len(made) == 1, sorted(p.name for p in left)
    (archive,) = made
    # kept: the new one (today) and the two days before it that have one; the newest of the month before
    # the current month; nothing else of this campaign
    this_month = (left[archive].year, left[archive].month)
    previous_month = max(t for t in seeded if (t.year, t.month) != this_month)
    expected = {archive.name, _name(seeded[0]), _name(seeded[1]), _name(previous_month)}
    assert {p.name for p in left} == expected
    assert all(p.exists() for p in strangers)

    # the restore drill of docs/DEPLOY.md, on the archive the schedule made
    target = tmp_path / "restored"
    restore = subprocess.run([sys.executable, "-m", "application.cli", "--home", str(target), "restore", str(archive)],
                             cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert compare_warehouses(small_home / "warehouse.duckdb", target / "warehouse.duckdb").identical
    for sub in ("landing", "published", "reports"):
        assert _files(target / sub) == _files(small_home / sub), sub
    manifest = json.loads(subprocess.run(["tar", "-xzOf", str(archive), "MANIFEST.json"], capture_output=True,
                                         check=True).stdout)  # fmt: skip
    assert manifest["counts"]["receipts"] == len(list((small_home / "landing" / "receipts").glob("*.json")))
