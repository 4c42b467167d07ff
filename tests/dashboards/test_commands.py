"""``roadsafe report weekly|monthly|all``, ``roadsafe site`` through the real command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from dash_helpers import REPO


def _run(home, *args, timeout=600):
    env = {**os.environ, "ROADSAFE_HOME": str(home), "ROADSAFE_CAMPAIGN": "jiujiang-2022"}
    return subprocess.run(
        [sys.executable, "-m", "application.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


@pytest.fixture
def home(tmp_path, fixture_settings):
    """A fresh home with the fixture's published snapshot (editions of other tests stay out)."""
    target = tmp_path / "home"
    (target / "published").mkdir(parents=True)
    shutil.copy2(fixture_settings.published, target / "published" / "warehouse.duckdb")
    return target


def test_help_lists_the_commands():
    result = subprocess.run(
        [sys.executable, "-m", "application.cli", "--help"], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0
    for word in ("report", "site", "serve"):
        assert word in result.stdout


def test_report_weekly_prints_the_paths(home):
    result = _run(home, "report", "weekly", "--week", "2", "--frozen-at", "2022-04-22T09:00:00+08:00")
    assert result.returncode == 0, result.stderr
    assert "九江市道路交通安全专项整治工作通报（第2期，第2周）" in result.stdout
    for name in (
        "bulletin.html",
        "bulletin.pdf",
        "bulletin.xlsx",
        "dispatch.html",
        "dispatch.pdf",
        "dispatch.xlsx",
    ):
        line = next(line.strip() for line in result.stdout.splitlines() if line.strip().endswith(name))
        assert os.path.isfile(line) and line.startswith(str(home / "reports"))


def test_report_all_makes_every_edition_already_due(home):
    # frozen on 04-21 09:00: only week 1's bulletin and dispatch list (due 04-14) have been issued
    result = _run(home, "report", "all", "--frozen-at", "2022-04-21T09:00:00+08:00", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert "共 2 期" in result.stdout
    assert (home / "reports" / "weekly_bulletin" / "week-01" / "bulletin.pdf").is_file()
    assert not (home / "reports" / "weekly_bulletin" / "week-02").exists()


def test_errors_are_plain_chinese(home):
    result = _run(home, "report", "weekly", "--week", "20")
    assert result.returncode != 0
    assert "第20周不在活动期内" in result.stderr
    empty = home.parent / "empty"
    result = _run(empty, "report", "monthly", "--month", "2022-05")
    assert result.returncode != 0 and "请先运行 roadsafe build" in result.stderr


def test_site_command(home):
    result = _run(home, "site")
    assert result.returncode == 0, result.stderr
    assert (home / "site" / "index.html").is_file()
