"""Where roadsafe keeps its state: everything lives under one folder, ``$ROADSAFE_HOME`` (default ``./var``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]

DEFAULT_CAMPAIGN = "jiujiang-2022"


@dataclass(frozen=True)
class Settings:
    """Paths and choices of one roadsafe installation.

    Examples
    --------
    >>> s = Settings(home=Path("/srv/roadsafe"))
    >>> str(s.warehouse)
    '/srv/roadsafe/warehouse.duckdb'
    """

    home: Path
    campaign_code: str = DEFAULT_CAMPAIGN

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("ROADSAFE_HOME") or "var").resolve()
        return cls(home=home, campaign_code=os.environ.get("ROADSAFE_CAMPAIGN") or DEFAULT_CAMPAIGN)

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        """The read-only snapshot that reports, the site and the portal read."""
        return self.home / "published" / "warehouse.duckdb"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def site(self) -> Path:
        return self.home / "site"

    @property
    def samples(self) -> Path:
        return self.home / "samples"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def tmp(self) -> Path:
        """Scratch space on the same file system as the landing zone (atomic renames)."""
        return self.home / "tmp"

    def ensure(self) -> Settings:
        """Create the folders; returns self so it chains. Those roadsafe alone reads are 0700 whatever the
        umask; ``inbox/`` (the units' drop folders, often a share) keeps the operator's umask."""
        from roadsafe.durable import private_dir

        for path in (self.home, self.landing, self.reports, self.logs, self.tmp):
            private_dir(path)
        self.inbox.mkdir(parents=True, exist_ok=True)
        return self

    def campaign(self):
        """The active campaign definition (loaded and validated)."""
        from roadsafe.campaign import load_campaign

        return load_campaign(self.campaign_code, home=self.home)
