"""Numeric targets stated in a task's text (≥95%, 46处, 3.15万辆, 100%), picked out for the office to confirm.

What is picked is only a candidate: the text may state a baseline or a condition rather than a target. Each
comes with the clause it was read from, so the office can judge it.

Examples
--------
>>> [t.label for t in find_targets("在6月底前,重点车辆检验率要达95%以上,注销率达99%以上。")]
['≥95%', '≥99%']
>>> [t.label for t in find_targets("完成对中心城区3.15万辆共享电动车免费登记上牌工作")]
['3.15万辆']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Target", "find_targets"]

# Measure words a counted target uses; 人, 年, 月, 时, 类 are left out: in plans they date or classify.
_MEASURES = "处条辆个家次所公里座块套台起名户项件场期万亿元米吨"
_NUMBER = r"(\d+(?:\.\d+)?)"
_TARGET = re.compile(
    r"(?P<pre>≥|>=|不低于|不少于|达到|达|超过)?\s*"
    + _NUMBER
    + r"\s*(?P<unit>%|万(?:辆|人|户|个)?|余?["
    + _MEASURES
    + r"]+)"
    r"(?P<post>以上|以下|及以上|左右)?"
)
_CLAUSE = re.compile(r"[^,，;；。！!]+")


@dataclass(frozen=True)
class Target:
    """A figure read from a task's text: ``label`` as the office reads it (``≥95%``), ``quote`` the clause."""

    label: str
    value: float
    unit: str
    at_least: bool
    quote: str


def find_targets(text: str | None) -> list[Target]:
    """Every numeric target candidate in ``text``, in reading order."""
    if not text:
        return []
    folded = unicodedata.normalize("NFKC", text)
    out: list[Target] = []
    for clause in _CLAUSE.finditer(folded):
        for m in _TARGET.finditer(clause[0]):
            before = clause[0][: m.start()]
            if before.endswith(("每", "第", "至")) or m[0].endswith(("年", "月")):
                continue
            unit = m["unit"].removeprefix("余")
            at_least = bool(m["pre"] and m["pre"] != "达" and m["pre"] != "达到") or (
                m["post"] or ""
            ).endswith("以上")
            if unit == "%" and (m["post"] or "").endswith("以上"):
                at_least = True
            number = m[2]
            label = ("≥" if at_least else "") + number + ("余" if m["unit"].startswith("余") else "") + unit
            quote = "".join(clause[0].split())
            out.append(Target(label=label, value=float(number), unit=unit, at_least=at_least, quote=quote))
    return out
