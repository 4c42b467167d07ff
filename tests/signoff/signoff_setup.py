"""Helpers shared by the sign-off tests and their fixtures (a module of its own: test files import it, never
``conftest``, whose module name is not unique across the suite)."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def campaign_with(tmp_path: Path, extra_yaml: str) -> Path:
    """A copy of the shipped campaigns folder whose jiujiang-2022/campaign.yml ends with ``extra_yaml``."""
    root = tmp_path / "campaigns"
    shutil.copytree(REPO / "campaigns" / "jiujiang-2022", root / "jiujiang-2022")
    with (root / "jiujiang-2022" / "campaign.yml").open("a", encoding="utf-8") as fh:
        fh.write("\n" + extra_yaml + "\n")
    return root
