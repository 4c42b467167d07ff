"""督办单: numbered, a one-page PDF naming the unit, what is late or missing and the deadline, sent once with
the PDF to the 联络员, the 分管领导, the office and the group robots."""

from __future__ import annotations

import io

import duckdb
import pypdf
import pytest
from notify_helpers import at

from application.cli import main
from dashboards.duban import DubanRefused, issue_duban, list_duban, read_duban
from dashboards.outreach import deliver_duban


def test_a_duban_is_numbered_printed_and_sent_once(world, robots, smtp, capsys):
    first = issue_duban(world, "柴桑区", issued_at=at(16, 12), days=5)
    assert first.number == "督办〔2022〕第1号" and (first.late, first.missing) == (0, 1)
    assert first.deadline == "2022-04-22"  # five working days after Saturday 04-16
    pdf = pypdf.PdfReader(io.BytesIO(first.pdf.read_bytes()))
    text = "".join(p.extract_text() for p in pdf.pages).replace(" ", "").replace("\n", "")
    assert len(pdf.pages) == 1
    assert "督办〔2022〕第1号" in text and "柴桑区：" in text and "至今未报" in text
    assert "重点车辆隐患清零周报" in text and "2022年4月22日前补报" in text

    results = deliver_duban(world, first, delays=())
    assert {(d["route"], d["status"]) for d in results} == {
        ("email", "sent"),
        ("robot", "sent"),
        ("office_robot", "sent"),
    }
    (mail,) = smtp.parsed()
    assert sorted(smtp.messages[0][1]) == [
        "sunhong@example.org",
        "zhengzhiban@jiujiang.example.gov.cn",
        "zhouping@example.com",
    ]
    assert str(mail["Subject"]) == "【督办单】督办〔2022〕第1号 柴桑区"
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "督办〔2022〕第1号.pdf"
    assert attachment.get_content() == first.pdf.read_bytes()
    assert {d["status"] for d in deliver_duban(world, first, delays=())} == {"already_sent"}
    assert len(smtp.messages) == 1

    # the next one gets the next number; a unit with nothing late is refused
    assert (
        main(["--home", str(world.home), "duban", "issue", "xunyang", "--at", "2022-04-16T12:00+08:00"]) == 0
    )
    assert "已印发督办〔2022〕第2号：浔阳区" in capsys.readouterr().out
    with pytest.raises(DubanRefused, match="濂溪区没有逾期或缺报的报表"):
        issue_duban(world, "濂溪区", issued_at=at(16, 12))
    assert [d.number for d in list_duban(world)] == ["督办〔2022〕第1号", "督办〔2022〕第2号"]
    assert [d.unit_id for d in list_duban(world, "chaisang")] == ["chaisang"]
    # recorded in the warehouse too, so the next published snapshot (and every edition frozen from it) has them
    con = duckdb.connect(str(world.warehouse), read_only=True)
    try:
        assert [d["number"] for d in read_duban(con, "jiujiang-2022", at(16, 13))] == [
            "督办〔2022〕第1号",
            "督办〔2022〕第2号",
        ]
        assert read_duban(con, "jiujiang-2022", at(16, 11)) == []
    finally:
        con.close()
