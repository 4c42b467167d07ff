"""Helpers shared by the sign-off tests and their fixtures (a module of its own: test files import it, never
``conftest``, whose module name is not unique across the suite)."""

from __future__ import annotations

import shutil
from pathlib import Path

from roadsafe.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def campaign_with(tmp_path: Path, extra_yaml: str) -> Path:
    """A copy of the shipped campaigns folder whose jiujiang-2022/campaign.yml ends with ``extra_yaml``."""
    root = tmp_path / "campaigns"
    shutil.copytree(REPO / "campaigns" / "jiujiang-2022", root / "jiujiang-2022")
    with (root / "jiujiang-2022" / "campaign.yml").open("a", encoding="utf-8") as fh:
        fh.write("\n" + extra_yaml + "\n")
    return root


def home_with(root: Path, published: Path) -> Settings:
    """A new ``$ROADSAFE_HOME`` at ``root`` whose published snapshot is a copy of ``published``."""
    settings = Settings(home=root, campaign_code="jiujiang-2022").ensure()
    settings.published.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(published, settings.published)
    return settings
