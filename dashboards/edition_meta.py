"""What an edition is, apart from its data: kind, period, 期号, times and the campaign words it prints.

Written once, at freeze time, to ``edition.json`` in the edition's folder; renderers read only this and
the frozen snapshot, so an edition rendered again later is the same byte for byte even if the campaign
definition has changed since.

Examples
--------
>>> heading_prefix("九江市道路交通安全专项整治工作领导小组办公室", "九江市", "专项整治")
'九江市道路交通安全专项整治'
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = [
    "KINDS",
    "MONTHLY_KINDS",
    "SPAN_KINDS",
    "WEEKLY_KINDS",
    "CampaignInfo",
    "EditionMeta",
    "PreviousEdition",
    "campaign_info",
    "heading_prefix",
]

WEEKLY_KINDS = ("weekly_bulletin", "dispatch_list")
MONTHLY_KINDS = ("monthly_ranking", "monthly_summary")
# Reports over several periods, issued by campaigns that define them in campaign.yml ``reports``: one per
# half year, or one after the campaign (the yearly assessment of a standing mechanism, the 总结评估).
SPAN_KINDS = ("half_year_summary", "yearly_assessment", "final_assessment")
KINDS = WEEKLY_KINDS + MONTHLY_KINDS + SPAN_KINDS

_DEFAULT_REPORT_NAMES = {
    "weekly_bulletin": "工作通报",
    "dispatch_list": "工作调度单",
    "monthly_ranking": "工作排名",
    "monthly_summary": "工作小结",
    "half_year_summary": "半年工作总结",
    "yearly_assessment": "年度考核",
    "final_assessment": "总结评估",
}


def heading_prefix(office: str, city: str, short_name: str | None) -> str:
    """The red heading's words before the report name, taken from the issuing office's name."""
    for suffix in ("工作领导小组办公室", "领导小组办公室", "工作办公室", "办公室"):
        if office.endswith(suffix) and len(office) > len(suffix):
            return office[: -len(suffix)]
    return f"{city}{short_name or ''}"


@dataclass(frozen=True)
class CampaignInfo:
    """The campaign's words and settings an edition prints or uses, copied at freeze time."""

    code: str
    name: str
    document: str
    city: str
    office: str
    office_short: str
    timezone: str
    heading: str
    salutation: str
    bottom_marked: int
    report_names: dict[str, str] = field(default_factory=dict)
    recipients: dict[str, list[str]] = field(default_factory=dict)
    goal: str | None = None
    key_indicators: tuple[str, ...] = ()
    co_duty: str | None = None


def campaign_info(campaign) -> CampaignInfo:
    """:class:`CampaignInfo` from a loaded :class:`roadsafe.campaign.Campaign`."""
    frame = campaign.frame
    names = dict(_DEFAULT_REPORT_NAMES)
    names.update({k: r.name for k, r in frame.reports.items() if r.name})
    key = _key_indicators(campaign)
    return CampaignInfo(
        code=frame.code,
        name=frame.name,
        document=frame.document,
        city=frame.city,
        office=frame.office,
        office_short=frame.office_short,
        timezone=frame.timezone,
        heading=heading_prefix(frame.office, frame.city, frame.short_name),
        salutation=_full_width_brackets(f"{campaign.units_def.all_counties_alias}，市直有关单位"),
        bottom_marked=frame.ranking.bottom_marked,
        report_names=names,
        recipients={k: list(v) for k, v in frame.recipients.items()},
        goal=frame.goal,
        key_indicators=key,
        co_duty=frame.co_duty,
    )


def _full_width_brackets(text: str) -> str:
    return text.replace("(", "（").replace(")", "）")


def _key_indicators(campaign, limit: int = 3) -> tuple[str, ...]:
    """Indicators to chart: those with a fixed deadline and a target, earliest deadline first, then the
    rest, one per task; the 2022 campaign gives I02, I09, then I10 (4月底) … trimmed to ``limit``."""
    candidates = []
    for code, ind in campaign.indicators.items():
        if ind.direction == "none" or ind.goal or ind.target is None or not isinstance(ind.deadline, dt.date):
            continue
        candidates.append((ind.deadline, ind.kind != "rate", code, tuple(ind.tasks)))
    chosen, seen_tasks = [], set()
    preferred = ("I02", "I09")  # the campaign office's own choice for jiujiang-2022
    for code in preferred:
        if code in campaign.indicators and any(c[2] == code for c in candidates):
            chosen.append(code)
            seen_tasks.update(campaign.indicators[code].tasks)
    for _deadline, _is_count, code, tasks in sorted(candidates):
        if len(chosen) >= limit:
            break
        if code not in chosen and not seen_tasks.intersection(tasks):
            chosen.append(code)
            seen_tasks.update(tasks)
    return tuple(chosen[:limit])


@dataclass(frozen=True)
class PreviousEdition:
    """The edition before this one of the same kind (for the correction log)."""

    ref: str
    issue_no: int
    until: dt.datetime
    max_period: int


@dataclass(frozen=True)
class EditionMeta:
    """One edition's identity and times.

    Attributes
    ----------
    kind : str
        ``weekly_bulletin``, ``dispatch_list``, ``monthly_ranking`` or ``monthly_summary``.
    ref : str
        ``week-05`` or ``2022-05``: the folder name.
    issue_no : int
        期号: the position of this period among the kind's editions (第1期 is the first week / month).
    period_no : int
        The last reporting period the edition covers.
    period_nos : tuple of int
        Periods the edition reports on (one week, or the weeks ending in the month).
    month : str or None
        ``YYYY-MM`` for monthly editions.
    issue_at : datetime
        When the campaign schedule issues it (the date printed under the heading).
    form_due_at : datetime or None
        When the period's forms were due (weekly editions).
    frozen_at : datetime
        When the snapshot was copied: the only clock time an edition holds.
    cutoff : datetime
        The moment of the coverage stamp (form due time for weekly, issue time for monthly, never
        after ``frozen_at``).
    until : datetime
        End of the data window: ``min(issue_at, frozen_at)``; the next edition's corrections start here.
    """

    kind: str
    ref: str
    issue_no: int
    period_no: int
    period_nos: tuple[int, ...]
    month: str | None
    label: str
    start: dt.date
    end: dt.date
    issue_at: dt.datetime
    form_due_at: dt.datetime | None
    frozen_at: dt.datetime
    cutoff: dt.datetime
    until: dt.datetime
    campaign: CampaignInfo
    previous: PreviousEdition | None = None

    @property
    def report_name(self) -> str:
        return self.campaign.report_names.get(self.kind, _DEFAULT_REPORT_NAMES[self.kind])

    @property
    def title(self) -> str:
        """The red heading: ``九江市道路交通安全专项整治工作通报``."""
        return f"{self.campaign.heading}{self.report_name}"

    @property
    def campaign_words(self) -> str:
        """The campaign's name without a leading year when the edition's label already says it:
        ``2022年5月`` + ``全市道路交通安全专项整治``."""
        name = self.campaign.name
        year = f"{self.start.year}年"
        if self.label.startswith(year) and name.startswith(year):
            return name[len(year) :]
        return name

    @property
    def is_weekly(self) -> bool:
        return self.kind in WEEKLY_KINDS

    # ------------------------------------------------------------------ json

    def to_json(self) -> str:
        return json.dumps(_encode(asdict(self)), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> EditionMeta:
        raw = json.loads(text)
        camp = CampaignInfo(**{**raw["campaign"], "key_indicators": tuple(raw["campaign"]["key_indicators"])})
        prev = raw.get("previous")
        previous = None
        if prev:
            previous = PreviousEdition(
                prev["ref"], prev["issue_no"], dt.datetime.fromisoformat(prev["until"]), prev["max_period"]
            )
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = raw.get(f.name)
            if f.name == "campaign":
                value = camp
            elif f.name == "previous":
                value = previous
            elif f.name == "period_nos":
                value = tuple(value)
            elif f.name in ("start", "end"):
                value = dt.date.fromisoformat(value)
            elif f.name in ("issue_at", "frozen_at", "cutoff", "until") or (
                f.name == "form_due_at" and value
            ):
                value = dt.datetime.fromisoformat(value)
            values[f.name] = value
        return cls(**values)

    def write(self, folder: Path) -> Path:
        path = folder / "edition.json"
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: Path) -> EditionMeta:
        return cls.from_json((folder / "edition.json").read_text(encoding="utf-8"))


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
