"""The sample campaign's 联络员名单: one made-up 联络员 and 分管领导 per reporting unit, on example domains
(``example.org`` for liaisons, ``example.com`` for leaders), written as the Excel list the office would
import, so the demo runs delivery (import, checks, mail) for real.

>>> from roadsafe.campaign import load_campaign
>>> rows = sample_contact_rows(load_campaign("jiujiang-2022"))
>>> rows[0]["邮箱"].endswith("@example.org")
True
"""

from __future__ import annotations

from pathlib import Path

from application.samples.texts import person
from application.samples.world import rng

__all__ = ["sample_contact_rows", "write_sample_contacts"]


def sample_contact_rows(campaign, seed: int = 2022) -> list[dict[str, str]]:
    """One row per county and department that submits a form or owes a written document (实施方案, 小结,
    总结: every responsible unit), with Chinese headers as in the Excel list."""
    submitters = {u for code in campaign.forms for u in campaign.form_submitters(code)}
    if campaign.documents:
        submitters |= set(campaign.responsible_units)
    rows = []
    for unit in campaign.units.values():
        if unit.kind not in ("county", "department") or unit.id not in submitters:
            continue
        r = rng(seed, "contacts", unit.id)
        rows.append(
            {
                "单位": unit.name,
                "联络员": person(r),
                "手机": f"1{r.choice('3589')}{r.randint(100000000, 999999999)}",
                "邮箱": f"liaison.{unit.id}@example.org",
                "分管领导": person(r),
                "领导邮箱": f"leader.{unit.id}@example.com",
                "群机器人地址": "",
            }
        )
    return rows


def write_sample_contacts(campaign, path: Path, seed: int = 2022) -> Path:
    """Write the sample list as ``.xlsx`` (the layout ``roadsafe contacts import`` reads)."""
    import openpyxl

    rows = sample_contact_rows(campaign, seed)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "联络员名单"
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
