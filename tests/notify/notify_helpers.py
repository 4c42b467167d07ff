"""Shared values of the notification tests (imported by name: ``conftest`` is ambiguous across folders)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
DING_SECRET = "SECtest-ding-secret"


def at(day: int, hour: int) -> dt.datetime:
    """A time in April 2022, campaign time."""
    return dt.datetime(2022, 4, day, hour, tzinfo=TZ)
