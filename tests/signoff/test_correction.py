"""A published edition found wrong gets a 更正 edition stating what changed (old → new), sent to the same
recipients; the original stays as it was."""

from __future__ import annotations

import hashlib

import duckdb
import pytest
from dash_helpers import FROZEN_AT, html_text, pdf_text, squash

from dashboards import signoff
from dashboards.audit import read_audit
from dashboards.correction import correct, list_corrections
from dashboards.review import ReviewError


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def test_a_correction_states_what_changed_and_keeps_the_original(home, smtp):
    signoff.prepare_draft(home, "monthly_ranking", "2022-05", frozen_at=FROZEN_AT)
    original, _ = signoff.sign(home, "monthly_ranking", "2022-05", who="zzb")
    before = _hashes(original.edition.folder)
    with pytest.raises(ReviewError, match="数据和文字均无变化，无需发布更正"):
        correct(home, "monthly_ranking", "2022-05", who="zzb", reason="复核", deliver=False)
    with pytest.raises(ReviewError, match="请说明更正原因"):
        correct(home, "monthly_ranking", "2022-05", who="zzb", reason=" ")

    # a late file changes a county's score in the published snapshot
    con = duckdb.connect(str(home.published))
    unit, name, score = con.execute(
        "select r.unit_id, u.name, r.score from marts.rpt_monthly_ranking r join ref.units u using (unit_id) "
        "where r.month = '2022-05' and r.scope = 'county' order by r.unit_id limit 1"
    ).fetchone()
    con.execute(
        "update marts.rpt_monthly_ranking set score = score + 1.25 where month = '2022-05' and unit_id = $u",
        {"u": unit},
    )
    con.close()
    sent_before = len(smtp.messages)
    result, deliveries = correct(home, "monthly_ranking", "2022-05", who="zzb", reason="瑞昌市补报了5月报表")
    changes = [c for c in result.changes if c.column == "总得分"]
    assert [(c.item, c.old, c.new) for c in changes] == [
        (name, f"{score:.2f}".rstrip("0").rstrip("."), f"{score + 1.25:.2f}".rstrip("0").rstrip("."))
    ]
    html = result.outputs()["html"].read_text(encoding="utf-8")
    text = html_text(html)
    assert "关于工作排名第2期（2022年5月）的更正" in text and "第2期更正" in text
    assert "瑞昌市补报了5月报表" in text and "原为" in text and "更正为" in text and name in text
    assert "其余内容不变，原件保留备查" in text
    assert squash("关于工作排名第2期") in squash(pdf_text(result.outputs()["pdf"]))
    assert result.outputs()["xlsx"].stat().st_size > 0

    # sent to the original's recipients (the monthly ranking's: office and leaders)
    assert deliveries[0]["status"] == "sent" and len(smtp.messages) == sent_before + 1
    _s, rcpts, _raw = smtp.messages[-1]
    frame = home.campaign().frame
    assert rcpts == frame.recipients["office"] + frame.recipients["leaders"]
    assert smtp.subjects()[-1] == "九江市道路交通安全专项整治工作排名（第2期，2022年5月）更正"

    # never a silent replacement: the original is byte for byte what was issued
    assert _hashes(original.edition.folder) == before
    assert [c.data["number"] for c in list_corrections(home, "monthly_ranking", "2022-05")] == [1]
    entry = read_audit(home, kind="monthly_ranking", ref="2022-05")[-1]
    assert (entry["action"], entry["who"], entry["reason"], entry["number"]) == (
        "correct",
        "zzb",
        "瑞昌市补报了5月报表",
        1,
    )


def test_a_wording_correction_of_a_published_edition(home, smtp):
    draft = signoff.prepare_draft(home, "weekly_bulletin", 5, frozen_at=FROZEN_AT)
    para = next(p for p in signoff.read_paragraphs(draft.edition) if p["text"].startswith("截至第5周"))
    signoff.sign(home, "weekly_bulletin", 5, who="zzb", deliver=False)
    with pytest.raises(ReviewError, match="改动了数字"):
        correct(home, "weekly_bulletin", 5, who="zzb", reason="笔误", rewordings={para["key"]: "截至第6周。"})
    fixed = para["text"].replace("整治任务中", "专项整治任务中")
    result, _ = correct(
        home,
        "weekly_bulletin",
        5,
        who="zzb",
        reason="文字表述不准确",
        rewordings={para["key"]: fixed},
        deliver=False,
    )
    assert [(c.place, c.item, c.old, c.new) for c in result.changes] == [
        ("正文", f"第{para['key'][1:]}段", para["text"], fixed)
    ]
    assert "文字更正" in html_text(result.outputs()["html"].read_text(encoding="utf-8"))
