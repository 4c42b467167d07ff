"""The office's record on its own: append-only JSON lines with who/when/why, checks that refuse bad entries
(nothing written), evidence told by content, and appends from several processes never lost."""

from __future__ import annotations

import io
import json
import multiprocessing
import zipfile

import pytest

from roadsafe.office_record import MAX_EVIDENCE_BYTES, OfficeRecord, OfficeRecordError, cases, decision_rows

AT = "2022-05-12T10:00:00+08:00"


def _excuse(record: OfficeRecord, period: int, by: str = "office") -> dict:
    return record.append(
        "excuse", campaign="c", by=by, at=AT, reason="系统故障", form_code="F1", unit_id="xunyang", period_no=period
    )


def test_entries_carry_who_when_why_and_are_appended_durably(tmp_path):
    record = OfficeRecord(tmp_path)
    first = _excuse(record, 1)
    assert (first["id"], first["seq"], first["by"], first["at"], first["reason"]) == ("E0001", 1, "office", AT, "系统故障")
    lines = record.path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == first
    assert record.path.stat().st_mode & 0o777 == 0o600 and record.root.stat().st_mode & 0o777 == 0o700
    with pytest.raises(OfficeRecordError, match="已有情况说明"):
        _excuse(record, 1)
    with pytest.raises(OfficeRecordError, match="请填写理由"):
        record.append("excuse", campaign="c", by="office", at=AT, reason="  ", form_code="F1", unit_id="u", period_no=2)
    with pytest.raises(OfficeRecordError, match="控制字符"):
        record.append("excuse", campaign="c", by="o", at=AT, reason="a\x00b", form_code="F1", unit_id="u", period_no=2)
    assert record.path.read_text(encoding="utf-8").splitlines() == lines  # refusals write nothing


def test_cases_follow_their_entries_and_a_closed_case_takes_nothing_more(tmp_path):
    record = OfficeRecord(tmp_path)
    opened = record.append("case_open", campaign="c", by="o", at=AT, reason="滞后", unit_id="xunyang",
                           case_kind="referral", task_no=4, source="manual", title="移送纪委")  # fmt: skip
    record.append("case_action", campaign="c", by="o", at=AT, reason="移送", case_id=opened["id"], action="移送",
                  on_date="2022-05-13")  # fmt: skip
    with pytest.raises(OfficeRecordError, match="须附证明材料"):
        record.append("case_close", campaign="c", by="o", at=AT, reason="结案", case_id=opened["id"])
    stored = record.store_evidence(b"%PDF-1.7 report", "回复函.pdf")
    record.append("case_close", campaign="c", by="o", at=AT, reason="结案", case_id=opened["id"], evidence=stored)
    with pytest.raises(OfficeRecordError, match="已销号"):
        record.append("case_action", campaign="c", by="o", at=AT, reason="x", case_id=opened["id"], action="x",
                      on_date="2022-05-20")  # fmt: skip
    (case,) = cases(record.entries("c"))
    assert not case.is_open and case.kind_name == "追责问责移送" and len(case.actions) == 1
    rows = decision_rows(record.entries("c"))
    assert rows["office_cases"][0]["evidence_name"] == "回复函.pdf" and rows["office_cases"][0]["closed_at"]
    assert rows["office_case_actions"][0]["action_no"] == 1


def test_evidence_is_told_by_content_and_limited(tmp_path):
    record = OfficeRecord(tmp_path)
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    assert record.store_evidence(docx.getvalue(), "整改报告.pdf")["ext"] == "docx"  # the name does not decide
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("a.txt", "x")
    for data, name in ((plain_zip.getvalue(), "a.docx"), (b"<html>", "a.html"), (b"MZ\x90", "a.pdf")):
        with pytest.raises(OfficeRecordError, match="格式无法识别"):
            record.store_evidence(data, name)
    with pytest.raises(OfficeRecordError, match="超过20MB"):
        record.store_evidence(b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES, "big.pdf")
    with pytest.raises(OfficeRecordError, match="空文件"):
        record.store_evidence(b"", "empty.pdf")
    with pytest.raises(OfficeRecordError):
        record.evidence_path("../../etc/passwd", "pdf")


def _append_many(home: str, worker: int) -> None:
    record = OfficeRecord(__import__("pathlib").Path(home))
    for i in range(20):
        _excuse(record, worker * 100 + i, by=f"w{worker}")


def test_appends_from_several_processes_are_all_kept(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    entries = OfficeRecord(tmp_path).entries()
    assert len(entries) == 60
    assert [e["seq"] for e in entries] == list(range(1, 61))
    assert len({e["id"] for e in entries}) == 60
