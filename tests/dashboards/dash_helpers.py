"""Helpers shared by the dashboards tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

__all__ = [
    "FROZEN_AT",
    "REPO",
    "SNAPSHOTS",
    "TEST_OUTPUT",
    "TZ",
    "check_snapshot",
    "copy_out",
    "fetch",
    "html_text",
    "pdf_text",
    "squash",
]

TZ = ZoneInfo("Asia/Shanghai")
# One stated freeze time for every fixture edition: after every issue time of the 2022 campaign.
FROZEN_AT = dt.datetime(2022, 7, 5, 9, 0, tzinfo=TZ)
REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"
TEST_OUTPUT = REPO / "test-output" / "dashboards"


def pdf_text(path: Path) -> str:
    """The PDF's text as pdftotext extracts it (reading order, no layout)."""
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def squash(text: str) -> str:
    """Text without any white space (PDF line breaks fall anywhere in Chinese prose)."""
    return re.sub(r"\s+", "", text)


def html_text(html: str) -> str:
    """The visible text of an HTML page, roughly: tags, styles and entities removed, white space squashed."""
    import html as html_lib

    html = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    html = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    return squash(html_lib.unescape(re.sub(r"<[^>]+>", "", html)))


def fetch(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or {}).fetchall()


def check_snapshot(name: str, text: str) -> None:
    """Compare ``text`` with ``snapshots/<name>``; ``ROADSAFE_UPDATE_SNAPSHOTS=1`` rewrites the file."""
    path = SNAPSHOTS / name
    if os.environ.get("ROADSAFE_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        if os.environ.get("ROADSAFE_UPDATE_SNAPSHOTS") != "1":
            pytest.fail(
                f"snapshot {path} did not exist and was written; run again "
                "(or set ROADSAFE_UPDATE_SNAPSHOTS=1)"
            )
        return
    expected = path.read_text(encoding="utf-8")
    if expected != text:
        out = TEST_OUTPUT / "snapshots" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        pytest.fail(
            f"{name} differs from its snapshot; the new output is in {out}. "
            "If the change is intended, refresh with ROADSAFE_UPDATE_SNAPSHOTS=1 (make snapshots)."
        )


def copy_out(path: Path, name: str) -> Path:
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    target = TEST_OUTPUT / name
    shutil.copy2(path, target)
    return target
