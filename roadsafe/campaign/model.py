"""The campaign definition as typed objects.

Each class mirrors one YAML file of a campaign folder (see ``campaigns/jiujiang-2022``). The models only
describe shape and simple value rules; rules that need the whole definition (a task naming an unknown unit,
an indicator on a missing column) live in :mod:`roadsafe.campaign.checks`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "TASK_ROLES",
    "CampaignFrame",
    "ColumnDef",
    "ColumnRole",
    "Condition",
    "DueRule",
    "EditionsPolicy",
    "FormDef",
    "IndicatorDef",
    "OneOff",
    "OmittedBody",
    "PeriodRule",
    "RankingDef",
    "Requirement",
    "Section",
    "TaskDef",
    "Term",
    "Unit",
    "UnitGroup",
    "UnitsDef",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_hhmm(value: str) -> str:
    dt.time.fromisoformat(value)
    return value


ClockTime = Annotated[str, AfterValidator(_parse_hhmm)]


# ---------------------------------------------------------------- units.yml


class Unit(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    code: str | None = None
    aliases: list[str] = []
    kind: Literal["county", "department", "city", "group"] = "county"


class UnitGroup(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    members: list[str]
    # Why these members, when the plan does not list them: the office's assumption (shown as 暂定).
    assumption: str | None = None


class OmittedBody(_Strict):
    """A body the plan addresses that is deliberately not a reporting unit, and why."""

    name: str
    reason: str


class UnitsDef(_Strict):
    city: Unit
    counties: list[Unit]
    departments: list[Unit]
    groups: list[UnitGroup] = []
    omitted: list[OmittedBody] = []
    all_counties_alias: str = "各县(市、区)人民政府"


# ---------------------------------------------------------------- campaign.yml


class PeriodRule(_Strict):
    kind: Literal["week", "month", "quarter", "half_year", "year"]
    label: str


class DueRule(_Strict):
    """When something is due: N days after each period ends, N days after the campaign ends (once, e.g. a
    yearly assessment that needs the last period's forms), or a calendar rule."""

    name: str | None = None
    days_after_period_end: int | None = None
    days_after_campaign_end: int | None = None
    rule: Literal["last_working_day_of_month", "last_working_day_of_year"] | None = None
    time: ClockTime
    roll: Literal["next_working_day", "none"] = "next_working_day"


class OneOff(_Strict):
    code: str
    name: str
    # Who must send it: every lead and co-responsible unit of the campaign.
    from_: Literal["responsible_units"] = Field("responsible_units", alias="from")
    due: dt.date | None = None
    rule: Literal["last_working_day_of_month", "last_working_day_of_year"] | None = None
    time: ClockTime

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Reminders(_Strict):
    before_due_hours: int = 24
    overdue_after_hours: int = 0
    escalate_after_hours: int = 48
    escalate_to: list[str] = ["office"]


class RankingScope(_Strict):
    weights: dict[Literal["attainment", "timeliness", "quality"], float]


class RankingDef(_Strict):
    county: RankingScope
    department: RankingScope
    tie_breakers: list[Literal["attainment", "timeliness", "quality"]] = ["attainment", "timeliness"]
    bottom_marked: int = 3


def _unsigned_policy(value: str) -> str:
    if value not in ("publish", "wait"):
        raise ValueError(
            "应为 publish（到发布时间仍未签发的草稿自动签发）或 wait（等待签发，并邮件提醒整治办）"
        )
    return value


class EditionsPolicy(_Strict):
    """What happens to a draft edition nobody signed by its issue time: ``publish`` (issued automatically,
    recorded as 自动签发; the default) or ``wait`` (not delivered; the office is told a draft awaits
    signature)."""

    unsigned: Annotated[str, AfterValidator(_unsigned_policy)] = "publish"


class CampaignFrame(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    short_name: str | None = None
    document: str
    issued_on: dt.date | None = None
    city: str
    office: str
    office_short: str
    timezone: str = "Asia/Shanghai"
    start: dt.date
    end: dt.date
    goal: str | None = None
    # Figures only the office can enter (e.g. a provincial average a task must reach): name → value, null
    # until entered. Requirements judged by ``office_input`` name them.
    office_inputs: dict[str, float | None] = {}
    # What a co-responsible (协作) unit owes for a task, as the plan's text reads: shown in the dispatch list.
    co_duty: str | None = None
    period: PeriodRule
    due: dict[Literal["form"], DueRule]
    reports: dict[str, DueRule]
    oneoffs: list[OneOff] = []
    reminders: Reminders = Reminders()
    ranking: RankingDef
    recipients: dict[str, list[str]] = {}
    editions: EditionsPolicy = EditionsPolicy()


# ---------------------------------------------------------------- tasks.yml


class Section(_Strict):
    no: int
    title: str


class Requirement(_Strict):
    """One measurable demand of the plan's text for a task, quoted, and how the product judges it:
    by indicators (their codes), by the lead units' task reports (``lead_report``), or by a figure the
    office enters (``office_input``: the names of its ``office_inputs`` in campaign.yml) that no form supplies."""

    quote: str
    judged_by: Literal["indicators", "lead_report", "office_input"]
    indicators: list[str] = []
    inputs: list[str] = []
    # a recurring demand made countable ("每季度…不少于2次" = at_least 2 per quarter)
    at_least: int | None = None
    per: Literal["quarter", "half_year", "year"] | None = None
    note: str | None = None


class TaskDef(_Strict):
    no: int
    section: int
    title: str
    summary: str
    lead: list[str]
    co: list[str] = []
    deadline: dt.date
    frequency: Literal["once", "quarterly", "half_yearly", "yearly"] | None = None
    requirements: list[Requirement] = []


# ---------------------------------------------------------------- forms.yml

ColumnType = Literal["county", "integer", "rate", "date", "text", "enum", "yesno", "task"]

# What a column of a task-grain form (F9) means to the task status: the lead unit's status (an enum whose
# ``values`` run from not started to done), its progress text, its difficulties, its evidence.
ColumnRole = Literal["task_status", "task_progress", "task_difficulties", "task_evidence"]
TASK_ROLES: tuple[str, ...] = ("task_status", "task_progress", "task_difficulties", "task_evidence")


class ColumnDef(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    header: str
    type: ColumnType
    required: bool = False
    synonyms: list[str] = []
    values: list[str] | None = None
    measure: Literal["stock", "flow"] | None = None
    monotone: Literal["error", "warning"] | None = None
    role: ColumnRole | None = None

    @property
    def headers(self) -> list[str]:
        """The official header first, then every synonym."""
        return [self.header, *self.synonyms]


class RowRule(_Strict):
    """A rule within one row. Exactly one of ``le``, ``requires``, ``only_when``, ``not_before``."""

    le: tuple[str, str] | None = None  # left <= right
    not_before: tuple[str, str] | None = None  # date left >= date right
    requires: str | None = None  # column must be filled when `when` holds
    only_when: str | None = None  # column may be filled only when `when` holds
    when: dict[str, str] | None = None


class FormDef(_Strict):
    code: str = ""
    name: str
    submitters: list[str]
    # Units that may also submit the form without being expected to (no reminders, never late or missing).
    optional_submitters: list[str] = []
    grain: Literal["county", "record", "task"]
    key_column: str
    columns: list[ColumnDef]
    rules: list[RowRule] = []

    def column(self, key: str) -> ColumnDef:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def column_keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def county_column(self) -> str | None:
        return next((c.key for c in self.columns if c.type == "county"), None)

    def column_with_role(self, role: str) -> ColumnDef | None:
        """The column that plays ``role`` (see :data:`ColumnRole`), or None."""
        return next((c for c in self.columns if c.role == role), None)


# ---------------------------------------------------------------- indicators.yml


class Condition(_Strict):
    column: str
    eq: str | None = None
    in_: list[str] | None = Field(None, alias="in")
    not_null: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def op(self) -> str:
        if self.eq is not None:
            return "eq"
        if self.in_ is not None:
            return "in"
        return "not_null"

    @property
    def values(self) -> list[str]:
        if self.eq is not None:
            return [self.eq]
        return list(self.in_ or [])


class Term(_Strict):
    form: str
    agg: Literal["sum", "count", "count_distinct"]
    column: str | list[str] | None = None
    where: list[Condition] = []
    window: Literal["to_date", "period"] = "to_date"

    @property
    def columns(self) -> list[str]:
        if self.column is None:
            return []
        return [self.column] if isinstance(self.column, str) else list(self.column)


class IndicatorDef(_Strict):
    code: str = ""
    name: str
    tasks: list[int]
    goal: bool = False
    kind: Literal["rate", "count"]
    value: Literal["ratio", "amount", "decrease", "month_on_month_decrease"]
    numerator: Term
    denominator: Term | None = None
    target: float | dict[str, float | Literal["denominator"]] | None = None
    deadline: dt.date | Literal["month_end"] | None = None
    direction: Literal["up", "none"] = "up"
    scopes: list[str]
    milestones: list[dict[str, float | dt.date]] = []
    # Where the target comes from: the plan's own words (``quote``, checked against the plan's text),
    # and/or what the office assumed where the plan gives no figure (``assumption``). ``assumed_scopes``
    # lists the scopes (county, city or a group id) whose target is the office's; with no quote every
    # target of the indicator is. An assumed target is provisional: reports show it as （暂定）.
    quote: str | None = None
    assumption: str | None = None
    assumed_scopes: list[str] = []

    def target_is_assumption(self, scope_kind: str, scope_id: str) -> bool:
        """Whether the target of one scope is the office's assumption rather than the plan's figure."""
        return self.quote is None or scope_kind in self.assumed_scopes or scope_id in self.assumed_scopes

    def target_for(self, scope_kind: str, scope_id: str) -> float | Literal["denominator"] | None:
        """The target of one scope: ``scope_kind`` is county/city/group, ``scope_id`` the unit id."""
        if self.target is None or isinstance(self.target, float | int):
            return self.target
        return self.target.get(scope_id, self.target.get(scope_kind))
