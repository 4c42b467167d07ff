"""The recorded folder times that split a fresh clone's ``make test`` over the cores name every folder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

TESTS = Path(__file__).parent
# the suite's own conftest by path: "conftest" alone names whichever folder's conftest was imported first
_spec = importlib.util.spec_from_file_location("roadsafe_suite_conftest", TESTS / "conftest.py")
suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(suite)
FOLDER_SECONDS, folder_weight = suite.FOLDER_SECONDS, suite.folder_weight


def test_every_test_folder_and_top_level_file_has_a_recorded_time():
    units = {p.name for p in TESTS.iterdir() if p.is_dir() and any(p.rglob("test_*.py"))}
    units |= {p.name for p in TESTS.glob("test_*.py")}
    recorded = json.loads(FOLDER_SECONDS.read_text(encoding="utf-8"))
    assert sorted(units - recorded.keys()) == [], "add these to tests/folder_seconds.json"
    assert sorted(recorded.keys() - units) == [], "these folders are gone: remove them"


def test_this_machines_times_come_first_then_the_recorded_ones():
    ids = ["tests/a/test_x.py::one", "tests/a/test_x.py::two", "tests/a/test_x.py::three"]
    assert folder_weight("a", ids, {}, {"a": 90.0}) == 90.0
    assert folder_weight("a", ids, {ids[0]: 4.0, ids[1]: 2.0}, {"a": 90.0}) == 4.0 + 2.0 + 3.0
    assert folder_weight("b", ids, {}, {"a": 90.0}) == 3.0
