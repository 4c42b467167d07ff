"""Campaign definitions: YAML folders under ``campaigns/`` loaded into a validated :class:`Campaign`.

Examples
--------
>>> from roadsafe.campaign import load_campaign
>>> c = load_campaign("jiujiang-2022")
>>> len(c.tasks), c.resolve_unit("九江市浔阳区").name
(26, '浔阳区')
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from roadsafe.campaign.checks import check_campaign
from roadsafe.campaign.definition import COUNTIES, TASK_LEADS, Campaign, normalise_name
from roadsafe.campaign.documents import DocumentDef, split_forms
from roadsafe.campaign.model import CampaignFrame, FormDef, IndicatorDef, Section, TaskDef, UnitsDef
from roadsafe.campaign.periods import Period

__all__ = [
    "COUNTIES",
    "TASK_LEADS",
    "Campaign",
    "CampaignError",
    "Period",
    "campaign_root",
    "campaigns_dir",
    "load_campaign",
    "normalise_name",
    "office_campaigns_dir",
    "read_yaml",
]

CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")  # as campaign.yml's `code`: safe as a folder name
_FILES = ("campaign.yml", "units.yml", "tasks.yml", "forms.yml", "indicators.yml")


class _Yaml12Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's when built in: 6× faster, 0.3 s less per command) with YAML 1.2 booleans:
    only true/false, so a key ``no:`` stays the string "no"."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(path: Path) -> object:
    """Parse a YAML file the way every roadsafe data file is read (YAML 1.2 booleans)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)  # noqa: S506 - safe subclass


class CampaignError(ValueError):
    """A campaign definition that cannot be used; ``problems`` lists every reason in Chinese."""

    def __init__(self, root: Path, problems: list[str]):
        self.root = root
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"活动定义 {root} 有 {len(problems)} 处问题，未能加载：\n{lines}")


def campaigns_dir() -> Path:
    """Where the shipped campaign folders live: ``$ROADSAFE_CAMPAIGNS_DIR`` or ``campaigns/`` in the repository."""
    env = os.environ.get("ROADSAFE_CAMPAIGNS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "campaigns"


def office_campaigns_dir(home: Path | None = None) -> Path:
    """Where the office's own campaigns live (imported from its tables): ``<home>/campaigns``, ``home``
    defaulting to ``$ROADSAFE_HOME`` or ``./var``."""
    return Path(home or os.environ.get("ROADSAFE_HOME") or "var").resolve() / "campaigns"


def campaign_root(ref: str | os.PathLike, home: Path | None = None) -> Path:
    """The folder of a campaign: ``ref`` itself when it is a folder, else the code's folder among the
    shipped campaigns or the office's own. Both are searched; a code found in both is refused (the
    office must rename its import), so no campaign silently hides another."""
    root = Path(ref)
    if root.is_dir():
        return root
    shipped = campaigns_dir() / str(ref)
    if not CODE_PATTERN.fullmatch(str(ref)):
        return shipped
    office = office_campaigns_dir(home) / str(ref)
    if shipped.is_dir() and office.is_dir():
        problem = f"活动代码“{ref}”同时存在于程序自带的活动（{shipped}）和本单位导入的活动中，请为导入的活动改用其他代码。"
        raise CampaignError(office, [problem])
    return office if office.is_dir() else shipped


def _read_yaml(root: Path, name: str, problems: list[str]) -> object:
    path = root / name
    if not path.is_file():
        problems.append(f"缺少文件 {name}。")
        return None
    try:
        return read_yaml(path)
    except yaml.YAMLError as exc:
        problems.append(f"{name} 不是合法的 YAML：{exc}")
        return None


def _parse(model, data, name: str, problems: list[str]):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(
                f"{name} 中 {loc or '(整个文件)'} 有误：{err['msg']}（当前值：{err.get('input')!r}）"
            )
        return None


def load_campaign(ref: str | os.PathLike, home: Path | None = None) -> Campaign:
    """Load and validate a campaign by code (see :func:`campaign_root`) or by path.

    Raises
    ------
    CampaignError
        listing every problem, each naming the file and the entry.
    """
    root = campaign_root(ref, home)
    if not root.is_dir():
        raise CampaignError(root, [f"找不到活动定义目录：{root}"])

    problems: list[str] = []
    raw = {name: _read_yaml(root, name, problems) for name in _FILES}
    if problems:
        raise CampaignError(root, problems)

    frame = _parse(CampaignFrame, raw["campaign.yml"], "campaign.yml", problems)
    units = _parse(UnitsDef, raw["units.yml"], "units.yml", problems)
    tasks_doc = raw["tasks.yml"] or {}
    sections = [_parse(Section, s, "tasks.yml", problems) for s in tasks_doc.get("sections", [])]
    tasks = [_parse(TaskDef, t, "tasks.yml", problems) for t in tasks_doc.get("tasks", [])]
    raw_forms, raw_documents = split_forms(raw["forms.yml"])
    forms = {
        code: _parse(FormDef, {**(body or {}), "code": code}, f"forms.yml 报表 {code}", problems)
        for code, body in raw_forms.items()
    }
    documents = {
        code: _parse(DocumentDef, {**body, "code": code}, f"forms.yml 文书 {code}", problems)
        for code, body in raw_documents.items()
    }
    indicators = {
        code: _parse(IndicatorDef, {**(body or {}), "code": code}, f"indicators.yml 指标 {code}", problems)
        for code, body in (raw["indicators.yml"] or {}).items()
    }
    if problems:
        raise CampaignError(root, problems)

    campaign = Campaign(
        root=root,
        frame=frame,
        units_def=units,
        sections=tuple(sections),
        tasks=tuple(tasks),
        forms=forms,
        indicators=indicators,
        documents=documents,
    )
    problems = check_campaign(campaign)
    if problems:
        raise CampaignError(root, problems)
    return campaign
