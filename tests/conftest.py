"""Suite-wide test settings: how ``make test`` splits the suite over the machine's cores.

``make test`` runs ``pytest -n 3`` (pytest-xdist). Here each top-level folder of ``tests/``
(``airflow``, ``dbt``, ``portal`` …; a file directly under ``tests/`` is a unit of its own) goes whole to
one worker, so a folder's session-scoped fixtures (a built warehouse, a seeded portal home, generated
samples) are built once, exactly as in a serial run, and no two workers share a fixture's files. The
workers share only what the tests already keep apart: temporary homes from ``tmp_path_factory``, free
ports, a fresh PostgreSQL database and Redis number per test.

Folders are handed out longest first, so the longest folder does not start last: by the seconds each test
took last time on this machine (kept in pytest's cache, ``roadsafe/test-seconds``), and on a fresh clone,
which has no cache, by each folder's seconds in ``tests/folder_seconds.json`` (from a full ``-n 2`` run on
the 2-core machine; ``tests/test_suite_split.py`` keeps it listing every folder). xdist's own ``--dist
loadgroup`` does not group under pytest 9: it renames test ids through an attribute pytest 9 no longer
reads. Without ``-n`` nothing here changes how tests run.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

CACHE_KEY = "roadsafe/test-seconds"
FOLDER_SECONDS = Path(__file__).with_name("folder_seconds.json")


def folder_of(nodeid: str) -> str:
    """``tests/airflow/test_x.py::t`` → ``airflow``; ``tests/test_backup.py::t`` → ``test_backup.py``."""
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 else parts[-1]


def _seconds(config) -> dict[str, float]:
    cache = getattr(config, "cache", None)
    return dict(cache.get(CACHE_KEY, {})) if cache is not None else {}


def folder_weight(folder: str, nodeids, timed: dict[str, float], recorded: dict[str, float]) -> float:
    """Expected seconds of one folder: its tests' times from the last run here, else the recorded folder
    time, else one second a test."""
    known = [timed[i] for i in nodeids if i in timed]
    if known:
        return sum(known) + statistics.median(known) * (len(nodeids) - len(known))
    return recorded.get(folder, float(len(nodeids)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "load":  # `-n N` alone means "load"; an explicit other --dist is obeyed
        return None
    from xdist.scheduler import LoadScopeScheduling

    # read once: neither changes while the suite runs (the cache is written at the end)
    timed = _seconds(config)
    recorded = json.loads(FOLDER_SECONDS.read_text(encoding="utf-8"))

    class FolderScheduling(LoadScopeScheduling):
        """xdist's scope scheduling with a folder as the scope, the longest folders queued first."""

        def _split_scope(self, nodeid: str) -> str:
            return folder_of(nodeid)

        def _assign_work_unit(self, node) -> None:
            weight = {s: folder_weight(s, unit, timed, recorded) for s, unit in self.workqueue.items()}
            for scope in sorted(weight, key=weight.__getitem__, reverse=True):
                self.workqueue.move_to_end(scope)  # longest first; a worker's own order stays as collected
            super()._assign_work_unit(node)

    return FolderScheduling(config, log)


_timed: dict[str, float] = {}


def pytest_runtest_logreport(report):
    _timed[report.nodeid] = _timed.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput") or not _timed or getattr(session.config, "cache", None) is None:
        return  # workers report to the controller, which records
    session.config.cache.set(CACHE_KEY, {**_seconds(session.config), **_timed})
