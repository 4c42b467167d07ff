"""A whole campaign definition: the parsed YAML files plus the look-ups every part needs."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from roadsafe.campaign.documents import DocumentDef
from roadsafe.campaign.model import CampaignFrame, FormDef, IndicatorDef, Section, TaskDef, Unit, UnitsDef
from roadsafe.campaign.periods import Period, split_periods

__all__ = ["COUNTIES", "DOCUMENT_FILE", "TASK_LEADS", "Campaign", "normalise_name"]

COUNTIES = "counties"  # stands for every county unit in tasks.yml and forms.yml
TASK_LEADS = "task_leads"  # in forms.yml: every unit that leads at least one task
DOCUMENT_FILE = "document.txt"  # the plan's published text, which every quoted target must be found in

# Words offices add around a unit name that do not change which unit it is.
_UNIT_SUFFIXES = ("人民政府", "管理委员会", "管委会", "政府")


def normalise_name(text: str) -> str:
    """Fold full-width characters and drop all white space, so ``" 浔阳 区 "`` reads as ``"浔阳区"``."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class Campaign:
    """A loaded, validated campaign. Build it with :func:`roadsafe.campaign.load_campaign`."""

    root: Path
    frame: CampaignFrame
    units_def: UnitsDef
    sections: tuple[Section, ...]
    tasks: tuple[TaskDef, ...]
    forms: dict[str, FormDef] = field(hash=False)
    indicators: dict[str, IndicatorDef] = field(hash=False)
    # the written documents (``kind: document`` in forms.yml): see roadsafe.campaign.documents
    documents: dict[str, DocumentDef] = field(default_factory=dict, hash=False)

    @property
    def code(self) -> str:
        return self.frame.code

    # ------------------------------------------------------------------ units

    @cached_property
    def units(self) -> dict[str, Unit]:
        """Every unit by id: the city, counties, departments and groups (groups as kind ``group``)."""
        units = {self.units_def.city.id: self.units_def.city.model_copy(update={"kind": "city"})}
        units.update({u.id: u.model_copy(update={"kind": "county"}) for u in self.units_def.counties})
        units.update({u.id: u.model_copy(update={"kind": "department"}) for u in self.units_def.departments})
        units.update({g.id: Unit(id=g.id, name=g.name, kind="group") for g in self.units_def.groups})
        return units

    @property
    def city(self) -> Unit:
        return self.units[self.units_def.city.id]

    @property
    def counties(self) -> list[Unit]:
        return [u for u in self.units.values() if u.kind == "county"]

    @property
    def departments(self) -> list[Unit]:
        return [u for u in self.units.values() if u.kind == "department"]

    @property
    def groups(self) -> dict[str, list[str]]:
        """Group id → member county ids; the city itself is the group of all counties."""
        groups = {self.city.id: [u.id for u in self.counties]}
        groups.update({g.id: list(g.members) for g in self.units_def.groups})
        return groups

    @cached_property
    def _alias_index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for unit in self.units.values():
            for name in (unit.id, unit.name, unit.code, *unit.aliases):
                if name:
                    index.setdefault(normalise_name(name), unit.id)
        return index

    def resolve_unit(self, text: str | None) -> Unit | None:
        """The unit a submitted name means, or ``None``.

        Accepts ids, names, codes and aliases, with or without the city prefix and with government
        suffixes such as 人民政府 or 管委会: ``九江市浔阳区人民政府`` → 浔阳区.
        """
        if not text:
            return None
        names = [normalise_name(str(text))]
        city = normalise_name(self.city.name)
        for prefix in ("江西省", city, city.removesuffix("市")):  # 九江市浔阳区, 九江市委宣传部
            for name in list(names):
                if name.startswith(prefix) and len(name) > len(prefix):
                    names.append(name[len(prefix) :])
        candidates = names + [
            n[: -len(s)] for n in names for s in _UNIT_SUFFIXES if n.endswith(s) and len(n) > len(s)
        ]
        for candidate in candidates:
            unit_id = self._alias_index.get(candidate)
            if unit_id:
                return self.units[unit_id]
        return None

    def expand_units(self, refs: list[str]) -> list[str]:
        """Unit ids for a list that may contain ``counties``."""
        out: list[str] = []
        for ref in refs:
            out.extend(u.id for u in self.counties) if ref == COUNTIES else out.append(ref)
        return list(dict.fromkeys(out))

    # ------------------------------------------------------------------ tasks

    def task(self, no: int) -> TaskDef:
        return next(t for t in self.tasks if t.no == no)

    def task_leads(self, no: int) -> list[str]:
        return self.expand_units(self.task(no).lead)

    def tasks_led_by(self, unit_id: str) -> list[int]:
        return [t.no for t in self.tasks if unit_id in self.task_leads(t.no)]

    @cached_property
    def responsible_units(self) -> list[str]:
        """Every unit that leads or co-leads a task, in units.yml order."""
        named = {u for t in self.tasks for u in self.expand_units([*t.lead, *t.co])}
        return [u for u in self.units if u in named]

    # ------------------------------------------------------------------ forms

    def form_submitters(self, form_code: str) -> list[str]:
        """Unit ids expected to submit a form."""
        out: list[str] = []
        for ref in self.forms[form_code].submitters:
            if ref == TASK_LEADS:
                out.extend(u for u in self.units if self.tasks_led_by(u))
            else:
                out.extend(self.expand_units([ref]))
        return list(dict.fromkeys(out))

    def may_submit(self, form_code: str, unit_id: str) -> bool:
        """Whether a unit may send a form: an expected submitter, or one of its ``optional_submitters``."""
        optional = self.expand_units(self.forms[form_code].optional_submitters)
        return unit_id in self.form_submitters(form_code) or unit_id in optional

    def may_report_on(self, submitter_id: str, subject_id: str) -> bool:
        """Whether a submitter may send rows about a subject unit: a county only about itself,
        a city department about every county."""
        submitter = self.units[submitter_id]
        return submitter.kind == "department" or submitter_id == subject_id

    # ------------------------------------------------------------------ the plan's text

    @cached_property
    def document_text(self) -> str | None:
        """The plan's published text (``document.txt`` beside the YAML files), or None when not shipped."""
        path = self.root / DOCUMENT_FILE
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def quotes_document(self, quote: str) -> bool:
        """Whether ``quote`` is the plan's wording: found in its text, ignoring white space and full-width
        forms (the published text has line breaks and spaces inside sentences)."""
        text = self.document_text
        return text is not None and normalise_name(quote) in normalise_name(text)

    # ------------------------------------------------------------------ periods

    @cached_property
    def _periods(self) -> tuple[Period, ...]:
        return tuple(split_periods(self.frame.period, self.frame.start, self.frame.end))

    def periods(self) -> list[Period]:
        return list(self._periods)

    def period(self, no: int) -> Period:
        if not 1 <= no <= len(self._periods):
            raise KeyError(no)
        return self._periods[no - 1]

    def period_for(self, day: dt.date) -> Period | None:
        return next((p for p in self._periods if p.contains(day)), None)
