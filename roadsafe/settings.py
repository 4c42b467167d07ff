"""Where roadsafe keeps its state: everything lives under one folder, ``$ROADSAFE_HOME`` (default ``./var``).

One campaign (``$ROADSAFE_CAMPAIGNS`` unset): the campaign's state is ``$ROADSAFE_HOME`` itself. Several
campaigns on one deployment (``ROADSAFE_CAMPAIGNS=jiujiang-2022,jiujiang-longterm-2022``): each campaign's
state is its own home ``$ROADSAFE_HOME/homes/<code>/``, laid out exactly as a one-campaign ``$ROADSAFE_HOME``;
Airflow's home stays at the deployment's root. See docs/ARCHITECTURE.md, "Several campaigns on one deployment".
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_CAMPAIGN", "HOMES", "Settings", "deployment_campaigns"]

DEFAULT_CAMPAIGN = "jiujiang-2022"
HOMES = "homes"
"""The folder under ``$ROADSAFE_HOME`` that holds one home per campaign when there are several."""
# as roadsafe.campaign.CODE_PATTERN (not imported: the DAG files read this module at parse time)
_CODE = re.compile(r"[a-z0-9][a-z0-9-]*")


def deployment_campaigns(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The campaigns of a deployment of several, from ``$ROADSAFE_CAMPAIGNS`` (comma-separated codes, in
    order); empty when unset: the one-campaign deployment (``$ROADSAFE_CAMPAIGN``, state in ``$ROADSAFE_HOME``).

    Examples
    --------
    >>> deployment_campaigns({"ROADSAFE_CAMPAIGNS": " jiujiang-2022, jiujiang-longterm-2022 "})
    ('jiujiang-2022', 'jiujiang-longterm-2022')
    >>> deployment_campaigns({})
    ()
    """
    text = (os.environ if environ is None else environ).get("ROADSAFE_CAMPAIGNS") or ""
    codes = tuple(c.strip() for c in text.split(",") if c.strip())
    bad = [c for c in codes if not _CODE.fullmatch(c)]
    if bad:
        raise ValueError(f"环境变量 ROADSAFE_CAMPAIGNS 中的“{'、'.join(bad)}”不是有效的活动代码（只能由小写字母、数字和连字符组成）。")
    if len(set(codes)) != len(codes):
        raise ValueError(f"环境变量 ROADSAFE_CAMPAIGNS 重复列出了同一活动：{text}")
    return codes


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
    deployment: Path | None = None
    """The deployment's ``$ROADSAFE_HOME`` when this campaign is one of several (``home`` is then
    ``deployment/homes/<code>``); None when the campaign is the deployment's only one."""

    @classmethod
    def from_env(
        cls,
        *,
        campaign: str | None = None,
        home: str | os.PathLike | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """The settings of ``campaign`` (default ``$ROADSAFE_CAMPAIGN``, else the first of
        ``$ROADSAFE_CAMPAIGNS``, else jiujiang-2022) on ``home`` (default ``$ROADSAFE_HOME`` or ``./var``),
        the variables read from ``environ`` (default ``os.environ``).

        Raises
        ------
        ValueError
            When ``$ROADSAFE_CAMPAIGNS`` is set and does not name the campaign.
        """
        env = os.environ if environ is None else environ
        root = Path(home or env.get("ROADSAFE_HOME") or "var").resolve()
        codes = deployment_campaigns(env)
        code = campaign or env.get("ROADSAFE_CAMPAIGN") or (codes[0] if codes else DEFAULT_CAMPAIGN)
        if not codes:
            return cls(home=root, campaign_code=code)
        if code not in codes:
            raise ValueError(f"活动“{code}”不在环境变量 ROADSAFE_CAMPAIGNS 所列的活动（{'、'.join(codes)}）之中。")
        return cls(home=root / HOMES / code, campaign_code=code, deployment=root)

    @classmethod
    def all_from_env(cls, environ: Mapping[str, str] | None = None) -> list[Settings]:
        """The settings of every campaign of the deployment (one when ``$ROADSAFE_CAMPAIGNS`` is unset)."""
        codes = deployment_campaigns(environ)
        return [cls.from_env(campaign=c, environ=environ) for c in codes] or [cls.from_env(environ=environ)]

    @property
    def root(self) -> Path:
        """The deployment's ``$ROADSAFE_HOME`` (Airflow's home is ``root/airflow``); ``home`` for one campaign."""
        return self.deployment or self.home

    def airflow_name(self, base: str, sep: str = "/") -> str:
        """The name of this campaign's Airflow object ``base`` (an asset, DAG or pool): ``base`` itself when
        the campaign is the deployment's only one, else ``base`` + ``sep`` + code.

        Examples
        --------
        >>> Settings(home=Path("/srv/rs")).airflow_name("roadsafe_inbox")
        'roadsafe_inbox'
        >>> Settings(home=Path("/srv/rs/homes/b"), campaign_code="b", deployment=Path("/srv/rs")).airflow_name("roadsafe_inbox")
        'roadsafe_inbox/b'
        """
        return base if self.deployment is None else f"{base}{sep}{self.campaign_code}"

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
