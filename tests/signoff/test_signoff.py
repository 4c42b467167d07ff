"""Draft → 按语 → reworded paragraph → signed → delivered (real SMTP on loopback), refused rewordings, and the
audit record. Editions are frozen from the report tests' fixture warehouse at the fixture's stated time."""

from __future__ import annotations

import json
import re

import pytest
from dash_helpers import FROZEN_AT, html_text, pdf_text, squash

from dashboards import signoff
from dashboards.audit import audit_path, read_audit
from dashboards.editions import list_editions
from dashboards.review import ReviewError, figures

NOTE = "本期起，请各县（市、区）对照滞后指标逐项制定整改清单，整治办将于下周开展专项督导。"


def _paragraph(edition, predicate):
    return next(p for p in signoff.read_paragraphs(edition) if predicate(p["text"]))


def test_draft_note_reword_sign_and_deliver(
    home, smtp, campaign_office=("zhengzhiban@jiujiang.example.gov.cn",)
):
    draft = signoff.prepare_draft(home, "weekly_bulletin", 5, frozen_at=FROZEN_AT, who="zzb")
    assert draft.state == "draft" and draft.edition.folder.parent.parent.name == "drafts"
    assert list_editions(home) == []  # a draft is not an edition of record
    preview = (draft.edition.folder / "bulletin.html").read_text(encoding="utf-8")
    assert "九江市道路交通安全专项整治工作通报" in preview and "editor-note" not in preview

    signoff.set_note(home, "weekly_bulletin", "week-05", NOTE, who="zzb", reason="主任审阅意见")
    total = _paragraph(draft.edition, lambda t: t.startswith("截至第5周，全部"))
    lead, _, rest = total["text"].partition("，")
    new_text = f"{lead}，本市{rest}"  # the same figures, other words
    signoff.reword(home, "weekly_bulletin", 5, total["key"], new_text, who="zzb", reason="措辞")
    preview = (draft.edition.folder / "bulletin.html").read_text(encoding="utf-8")
    assert NOTE in preview and new_text in preview  # the office sees what it will sign

    published, deliveries = signoff.sign(home, "weekly_bulletin", 5, who="zzb", reason="同意印发")
    edition = published.edition
    assert published.state == "signed" and edition.folder == home.reports / "weekly_bulletin" / "week-05"
    assert not draft.edition.folder.exists()
    assert edition.meta.issue_no == 5 and edition.is_rendered()
    html = edition.outputs()["html"].read_text(encoding="utf-8")
    # the note is at the top: after the red heading, before the report's own title
    assert html.index("editor-note") < html.index('<h1 class="title">') and html.index(
        "</header>"
    ) < html.index(NOTE)
    assert new_text in html and total["text"] not in html
    assert squash(NOTE) in squash(pdf_text(edition.outputs()["pdf"])) and squash(new_text) in squash(
        pdf_text(edition.outputs()["pdf"])
    )
    from openpyxl import load_workbook

    book = load_workbook(edition.outputs()["xlsx"], read_only=True)
    assert book.sheetnames[0] == "封面"
    cover = [[c for c in row if c is not None] for row in book["封面"].iter_rows(values_only=True)]
    assert ["按语", NOTE] in cover and any(r and r[0] == "签发" and r[1].startswith("zzb（2") for r in cover)

    # delivered once, to the campaign's office, with the note in the page and in the text part
    assert [d["status"] for d in deliveries] == ["sent"] and len(smtp.messages) == 1
    _sender, rcpts, _raw = smtp.messages[0]
    assert rcpts == home.campaign().frame.recipients["office"]
    msg = smtp.parsed()[0]
    assert str(msg["Subject"]) == "九江市道路交通安全专项整治工作通报（第5期，第5周）"
    assert NOTE in msg.get_body(preferencelist=("html",)).get_content()
    assert f"按语：{NOTE}" in msg.get_body(preferencelist=("plain",)).get_content()
    assert json.loads((edition.folder / "delivery.json").read_text())["status"] == "sent"

    # the record: who, what, why, in order, one durable line each
    entries = read_audit(home, kind="weekly_bulletin", ref="week-05")
    assert [(e["action"], e["who"]) for e in entries] == [
        ("draft", "zzb"),
        ("note", "zzb"),
        ("reword", "zzb"),
        ("sign", "zzb"),
    ]
    assert entries[1]["reason"] == "主任审阅意见" and entries[1]["note"] == NOTE
    assert entries[2]["old"] == total["text"] and entries[2]["new"] == new_text
    assert entries[3]["reason"] == "同意印发" and entries[3]["issue_no"] == 5
    assert (audit_path(home).stat().st_mode & 0o777) == 0o600
    manifest = json.loads((edition.folder / "manifest.json").read_text())
    assert "signoff.json" in manifest["files"]  # the review is part of the edition of record

    # signed is final
    with pytest.raises(ReviewError, match="已签发，不能再修改"):
        signoff.set_note(home, "weekly_bulletin", 5, "再改", who="zzb")
    with pytest.raises(ReviewError, match="已签发"):
        signoff.sign(home, "weekly_bulletin", 5, who="zzb")


def test_a_reword_that_changes_a_figure_or_a_unit_is_refused(home):
    draft = signoff.prepare_draft(home, "weekly_bulletin", 5, frozen_at=FROZEN_AT, who="zzb")
    para = _paragraph(draft.edition, lambda t: "应报报表" in t)
    numbers = figures(para["text"])
    bumped = re.sub(r"按时报送(\d+)份", lambda m: f"按时报送{int(m.group(1)) + 1}份", para["text"])
    with pytest.raises(ReviewError) as refused:
        signoff.reword(home, "weekly_bulletin", 5, para["key"], bumped, who="zzb")
    message = str(refused.value)
    assert message.startswith(f"第{para['key'][1:]}段：修改后的段落改动了数字")
    assert "、".join(numbers) in message and "数字不能修改" in message
    lagging = _paragraph(draft.edition, lambda t: t.startswith("有量化指标滞后于序时进度的县"))
    first = lagging["text"].split("：")[1].split("、")[0]
    with pytest.raises(ReviewError, match=f"改动了所列单位（删去了{first}）"):
        signoff.reword(
            home, "weekly_bulletin", 5, lagging["key"], lagging["text"].replace(f"{first}、", ""), who="zzb"
        )
    with pytest.raises(ReviewError, match="没有第999段"):
        signoff.reword(home, "weekly_bulletin", 5, "p999", "文字", who="zzb")
    review = json.loads((draft.edition.folder / "signoff.json").read_text())
    assert review["rewordings"] == {}  # nothing changed
    assert [e["action"] for e in read_audit(home)] == ["draft"]


def test_an_auto_signed_edition_is_the_same_as_before_sign_off(home, smtp, tmp_path, published_fixture):
    """Without a note or correction, signing changes no byte of what the edition shows."""
    from signoff_setup import home_with

    from dashboards.editions import weekly_edition

    plain = home_with(tmp_path / "plain", published_fixture)
    folders = weekly_edition(plain, 5, frozen_at=FROZEN_AT)
    signoff.prepare_draft(home, "weekly_bulletin", 5, frozen_at=FROZEN_AT)
    published, _ = signoff.sign(home, "weekly_bulletin", 5, who="系统", auto=True)
    assert published.state == "auto"
    for ext in ("html", "xlsx", "txt"):
        ours = (published.edition.folder / f"bulletin.{ext}").read_bytes()
        assert ours == (folders[0] / f"bulletin.{ext}").read_bytes(), ext
    assert "按语" not in html_text(published.edition.outputs()["html"].read_text(encoding="utf-8"))
