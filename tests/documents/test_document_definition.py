"""The documents in the campaign definition: validated like forms, and scheduled so that the office's own
monthly 小结 comes after the units' monthly summaries it quotes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from roadsafe.campaign import CampaignError, load_campaign
from roadsafe.schedule import build_schedule
from roadsafe.workcalendar import WorkCalendar

CAMPAIGNS = Path(__file__).resolve().parents[2] / "campaigns"


def test_the_three_documents_of_the_plan_are_forms_of_kind_document():
    c = load_campaign("jiujiang-2022")
    assert {code: (d.name, d.oneoff) for code, d in c.documents.items()} == {
        "D1": ("工作实施方案", "plan"),
        "D2": ("月度工作小结", "monthly_summary"),
        "D3": ("工作总结", "final_summary"),
    }
    assert not set(c.documents) & set(c.forms)  # no rows of figures: not among the tabular forms
    assert set(load_campaign("jiujiang-longterm-2022").documents) == {"D1"}


def test_the_units_monthly_summaries_fall_due_before_the_offices_summary():
    c = load_campaign("jiujiang-2022")
    items = build_schedule(c, WorkCalendar.load())
    units = {
        i.ref.split("（")[1].rstrip("）"): i.due_at
        for i in items
        if i.kind == "oneoff" and "月度工作小结" in i.ref
    }
    office = {i.ref: i.due_at for i in items if i.kind == "monthly_summary"}
    assert set(units) == set(office) == {"2022-04", "2022-05", "2022-06"}
    for month, due in units.items():
        assert due.date() == office[month].date() and due < office[month], month


def _load_with(tmp_path: Path, name: str, change) -> str:
    root = tmp_path / name
    shutil.copytree(CAMPAIGNS / "jiujiang-2022", root)
    forms = root / "forms.yml"
    forms.write_text(change(forms.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(CampaignError) as exc:
        load_campaign(root)
    return str(exc.value)


def test_a_document_naming_no_scheduled_one_off_or_a_table_format_is_refused(tmp_path):
    text = _load_with(tmp_path, "a", lambda t: t.replace("oneoff: final_summary", "oneoff: closing_report"))
    assert "forms.yml 文书 D3（工作总结）：oneoff “closing_report”不是 campaign.yml 中 oneoffs 的编号" in text
    extra = (
        "\nD4:\n  kind: document\n  name: 自查报告\n  oneoff: plan\n  keywords: [自查]\n  formats: [xlsx]\n"
    )
    text = _load_with(tmp_path, "b", lambda t: t + extra)
    assert "forms.yml 文书 D4 中 formats.0 有误" in text  # a workbook is no document format
