"""Reminders delivered for real: mails to an SMTP server on loopback, robot messages to an HTTP server on
loopback (JSON shape, DingTalk signature), exactly once, a failing robot retried and recorded while the
e-mail still goes, the ledger in the warehouse, undeliverable notices listed."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from notify_helpers import at

from application.cli import main
from application.reminders import run_reminders
from dashboards.outreach import ledger_rows, undelivered

EVIDENCE = Path(__file__).resolve().parents[2] / "test-output" / "notify" / "evidence.md"


def _ledger(settings):
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return ledger_rows(con, "jiujiang-2022"), undelivered(con, "jiujiang-2022")
    finally:
        con.close()


def test_overdue_notices_reach_mail_and_robots_exactly_once(world, robots, smtp):
    result = run_reminders(world, at(14, 12), delays=(0.01, 0.01))
    assert {(n["kind"], n["unit_id"]) for n in result["notices"]} == {
        ("overdue", "xunyang"),
        ("overdue", "chaisang"),
        ("overdue", "wuning"),
    }
    status = {(d["unit_id"], d["route"]): d["status"] for d in result["deliveries"]}
    assert status == {
        ("xunyang", "email"): "sent",
        ("xunyang", "robot"): "sent",
        ("chaisang", "email"): "sent",
        ("chaisang", "robot"): "sent",
        ("wuning", "none"): "no_contact",
    }
    # the mails: one per notice, to the 联络员, Chinese subject (RFC 2047) and body
    assert sorted(rcpts for _, rcpts, _ in smtp.messages) == [["sunhong@example.org"], ["wangli@example.org"]]
    mails = {str(m["To"]): m for m in smtp.parsed()}
    chaisang = mails["sunhong@example.org"]
    assert (
        str(chaisang["Subject"])
        == "【逾期未报通知】《重点车辆隐患清零周报》（F1）第1周（截止2022年4月14日（周四）12:00）"
    )
    assert str(chaisang["From"]) == "zhengzhiban@jiujiang.example.gov.cn"
    assert b"=?utf-8?" in smtp.messages[0][2].split(b"\r\n\r\n", 1)[0].lower()
    body = chaisang.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("柴桑区：")
    assert "最近一次报送的文件未通过校验" in body and "“十二”不是数字" in body
    assert "现已逾期" in body and "https://baosong.jiujiang.example.gov.cn/" in body
    assert body.rstrip().endswith("——九江市道路交通安全专项整治工作领导小组办公室")
    xunyang = mails["wangli@example.org"].get_body(preferencelist=("plain",)).get_content()
    assert "尚未收到贵单位的报送" in xunyang
    # the robots: WeCom markdown, DingTalk markdown with a valid signature (checked by the server)
    wecom = robots.accepted("/cgi-bin/webhook/send")
    ding = robots.accepted("/robot/send")
    assert len(wecom) == 1 and len(ding) == 1 and len(robots.received) == 2
    assert wecom[0]["query"] == {"key": "xy"} and "浔阳区" in wecom[0]["json"]["markdown"]["content"]
    assert ding[0]["query"]["access_token"] == "cs" and ding[0]["json"]["markdown"]["title"].startswith(
        "【逾期"
    )
    assert ding[0]["content_type"] == "application/json; charset=utf-8"
    # the ledger: every route's attempt, the notice without contacts listed for the office
    rows, missing = _ledger(world)
    sent = [(r["unit_id"], r["route"], r["target"]) for r in rows if r["state"] == "sent"]
    assert sorted(sent) == [
        ("chaisang", "email", "sunhong@example.org"),
        ("chaisang", "robot", "柴桑区群机器人"),
        ("xunyang", "email", "wangli@example.org"),
        ("xunyang", "robot", "浔阳区群机器人"),
    ]
    assert not any("key=" in r["target"] or "access_token" in r["target"] for r in rows)
    assert [m["notice_key"] for m in missing] == ["jiujiang-2022/wuning/F1/1/overdue"]

    # the same run again (an Airflow retry): nothing is sent twice
    again = run_reminders(world, at(14, 12), delays=(0.01, 0.01))
    assert {d["status"] for d in again["deliveries"]} == {"already_sent", "no_contact"}
    assert len(smtp.messages) == 2 and len(robots.received) == 2
    _write_evidence(smtp, wecom[0], ding[0])


def test_a_failing_robot_is_retried_and_recorded_while_the_mail_goes(world, robots, smtp):
    robots.plan = ["500", "slow", "500"]  # HTTP 500, then no answer in time, then 500 again
    result = run_reminders(world, at(14, 12), delays=(0.01, 0.01))
    by = {(d["unit_id"], d["route"]): d for d in result["deliveries"]}
    failing = "chaisang" if robots.received[0]["path"] == "/robot/send" else "xunyang"
    other = {"chaisang": "xunyang", "xunyang": "chaisang"}[failing]
    assert by[(failing, "robot")]["status"] == "failed" and by[(failing, "robot")]["attempts"] == 3
    assert by[(other, "robot")]["status"] == "sent"
    assert by[(failing, "email")]["status"] == "sent" and len(smtp.messages) == 2
    rows, missing = _ledger(world)
    attempts = sorted(
        (r["attempt_no"], r["state"], r["detail"])
        for r in rows
        if (r["unit_id"], r["route"]) == (failing, "robot")
    )
    assert [a[:2] for a in attempts] == [(0, "claimed"), (1, "failed"), (2, "failed"), (3, "failed")]
    assert attempts[1][2] == "HTTP 500" and "timed out" in attempts[2][2]
    assert [m["notice_key"] for m in missing] == ["jiujiang-2022/wuning/F1/1/overdue"]  # the mail reached it

    # the retry of the run: the robot answers now; the mail is not sent again
    again = run_reminders(world, at(14, 12), delays=(0.01, 0.01))
    by = {(d["unit_id"], d["route"]): d["status"] for d in again["deliveries"]}
    assert by[(failing, "robot")] == "sent" and by[(failing, "email")] == "already_sent"
    assert len(smtp.messages) == 2


def test_escalation_reaches_the_leader_the_office_and_the_office_robot(world, robots, smtp):
    result = run_reminders(world, at(16, 12), delays=())
    assert {(n["kind"], n["unit_id"]) for n in result["notices"]} == {
        ("escalation", "xunyang"),
        ("escalation", "chaisang"),
        ("escalation", "wuning"),
    }
    rcpts = sorted(tuple(r) for _, r, _ in smtp.messages)
    assert ("wangli@example.org", "liqiang@example.com", "zhengzhiban@jiujiang.example.gov.cn") in rcpts
    assert ("zhengzhiban@jiujiang.example.gov.cn",) in rcpts  # wuning has no contacts: the office still hears
    feishu = robots.accepted("/open-apis/bot/v2/hook/office")
    assert len(feishu) == 3 and all(r["json"]["msg_type"] == "interactive" for r in feishu)
    assert "请分管领导督促落实" in feishu[0]["json"]["card"]["elements"][0]["content"]
    assert {c["unit_id"] for c in result["duban_candidates"]} == set()  # one form late is not yet 督办


def test_a_robot_address_edited_into_the_file_is_refused_at_send_time(world, robots, smtp, monkeypatch):
    monkeypatch.delenv("ROADSAFE_ROBOT_ALLOW_LOOPBACK")
    result = run_reminders(world, at(14, 12), delays=(0.01, 0.01))
    robot = [d for d in result["deliveries"] if d["route"] == "robot"]
    assert {d["status"] for d in robot} == {"failed"} and {d["attempts"] for d in robot} == {1}
    assert all(d["detail"].startswith("拒绝调用：群机器人地址须以 https://") for d in robot)
    assert robots.received == [] and len(smtp.messages) == 2


def test_a_redirecting_robot_is_not_followed(world, robots, smtp):
    robots.plan = ["302"] * 6
    result = run_reminders(world, at(14, 12), delays=(0.01, 0.01))
    robot = [d for d in result["deliveries"] if d["route"] == "robot"]
    assert [(d["status"], d["detail"]) for d in robot] == [("failed", "HTTP 302")] * 2
    assert len(robots.received) == 6  # three tries each, never the redirect target


def test_remind_command_prints_a_line_per_notice_and_route(world, robots, smtp, capsys):
    assert main(["--home", str(world.home), "remind", "--at", "2022-04-14T12:00", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "jiujiang-2022/chaisang/F1/1/overdue\t逾期通知\t邮件\tsunhong@example.org\t试运行" in out
    assert "jiujiang-2022/wuning/F1/1/overdue\t逾期通知\t—\t\t无联络方式" in out
    assert smtp.messages == [] and robots.received == [] and not world.warehouse.exists()
    assert main(["--home", str(world.home), "remind", "--at", "2022-04-14T12:00+08:00"]) == 0
    out = capsys.readouterr().out
    assert out.count("\t已发送") == 4 and len(smtp.messages) == 2
    assert main(["--home", str(world.home), "remind", "--undelivered"]) == 0
    out = capsys.readouterr().out
    assert "jiujiang-2022/wuning/F1/1/overdue" in out and "未送达的通知共 1 条" in out
    outbox = json.loads((world.home / "reminders" / "2022-04-14T12.json").read_text(encoding="utf-8"))
    assert len(outbox["notices"]) == 3


def _write_evidence(smtp, wecom: dict, ding: dict) -> None:
    """Keep one mail and one robot message as received, for the closing note (test-output/, not in git)."""
    EVIDENCE.parent.mkdir(parents=True, exist_ok=True)
    raw = smtp.messages[0][2].decode("ascii", "replace")
    mail = smtp.parsed()[0]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    headers = "\n".join(f"{k}: {v}" for k, v in mail.items())
    EVIDENCE.write_text(
        "# Notification evidence (from tests/notify/test_notice_delivery.py)\n\n"
        f"## One mail as received by the loopback SMTP server\n\nRaw headers:\n```\n{raw.split(chr(13) + chr(10) * 2)[0]}\n```\n\n"
        f"Decoded headers:\n```\n{headers}\n```\n\nBody:\n```\n{body}```\n\n"
        "## One robot message as received by the loopback robot server\n\n"
        f"WeCom POST {wecom['path']}?key=…\n```json\n{json.dumps(wecom['json'], ensure_ascii=False, indent=2)}\n```\n\n"
        f"DingTalk POST {ding['path']} query {json.dumps(ding['query'])} → {json.dumps(ding['answer'])}\n"
        f"```json\n{json.dumps(ding['json'], ensure_ascii=False, indent=2)}\n```\n",
        encoding="utf-8",
    )


def test_a_dead_robot_is_not_called_for_every_notice_of_the_run(world, robots, smtp):
    robots.plan = ["500"] * 50
    result = run_reminders(world, at(16, 12), delays=(0.01, 0.01))
    office = [d for d in result["deliveries"] if d["route"] == "office_robot"]
    assert [d["status"] for d in office] == ["failed"] * 3
    assert [d["attempts"] for d in office] == [3, 3, 1] and "暂停发送" in office[2]["detail"]
    assert len([r for r in robots.received if r["path"].startswith("/open-apis/")]) == 6
    assert len(smtp.messages) == 3  # every escalation mail still went
