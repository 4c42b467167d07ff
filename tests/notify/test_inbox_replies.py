"""Receipts reach inbox submitters: the reply file beside the dropped file, the mail to the 联络员, the robot;
the dropped file is never moved or changed, and the reply is not taken for a new submission."""

from __future__ import annotations

import hashlib
import shutil

from application.inbox_replies import create_drop_folders, reply_to_inbox, write_reply
from ingest.service import process_inbox
from roadsafe.contacts import Contact, save_contacts

F1 = "01/xunyang/重点车辆隐患清零周报（第1周）-浔阳区.csv"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_inbox_receipts_are_written_beside_the_file_and_sent_once(settings, campaign, samples, smtp, robots):
    save_contacts(
        settings,
        {
            "xunyang": Contact(
                "xunyang",
                "浔阳区",
                "王丽",
                None,
                "wangli@example.org",
                robot_url=robots.url("/cgi-bin/webhook/send?key=xy"),
            )
        },
    )
    created = create_drop_folders(settings, campaign)
    folder = settings.inbox / "浔阳区"
    assert folder in created and (settings.inbox / "市公安局").is_dir()
    assert create_drop_folders(settings, campaign) == []  # a second set-up creates nothing
    good = folder / "重点车辆隐患清零周报（第1周）.csv"
    shutil.copyfile(samples / F1, good)
    bad = folder / "本周情况.csv"
    bad.write_text("单位,数量\n浔阳区,十二\n", encoding="utf-8")
    before = {p: _sha(p) for p in (good, bad)}

    receipts = process_inbox(settings)
    assert sorted(r.status for r in receipts) == ["accepted", "rejected"]
    result = reply_to_inbox(settings, receipts, delays=())
    assert result["replies"] == 2
    assert {(d["route"], d["status"]) for d in result["deliveries"]} == {("email", "sent"), ("robot", "sent")}

    accepted = (folder / "回执" / f"{good.name}.txt").read_text(encoding="utf-8")
    rejected = (folder / "回执" / f"{bad.name}.txt").read_text(encoding="utf-8")
    assert accepted.startswith("已受理：浔阳区 报送的《重点车辆隐患清零周报》第1周")
    assert rejected.startswith("未受理：") and "1. " in rejected
    assert {p: _sha(p) for p in (good, bad)} == before  # never moved or changed

    subjects = sorted(str(m["Subject"]) for m in smtp.parsed())
    assert subjects == [f"【报送回执】{bad.name}（未受理）", f"【报送回执】{good.name}（已受理）"]
    assert all(rcpts == ["wangli@example.org"] for _, rcpts, _ in smtp.messages)
    body = smtp.parsed()[0].get_body(preferencelist=("plain",)).get_content()
    assert "共享报送文件夹" in body and "回执编号 S" in body
    assert len(robots.accepted("/cgi-bin/webhook/send")) == 2

    # the same receipts again (a retried task): nothing is sent twice
    assert {d["status"] for d in reply_to_inbox(settings, receipts, delays=())["deliveries"]} == {
        "already_sent"
    }
    assert len(smtp.messages) == 2


def test_a_reply_never_leaves_the_units_folder(settings, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    folder = settings.inbox / "浔阳区"
    folder.mkdir(parents=True)
    (folder / "回执").symlink_to(outside)
    assert write_reply(settings, "浔阳区/a.xlsx", "回执") is None
    assert write_reply(settings, "../../x.xlsx", "回执") is None
    assert list(outside.iterdir()) == []


def test_the_ingest_task_replies_to_what_it_took_from_the_inbox(settings, campaign, samples, smtp, monkeypatch):
    """The function the ingest DAG calls sends the 回执 of the inbox files it loaded (not of history)."""
    from application.airflow.tasks import ingest_pending

    save_contacts(settings, {"xunyang": Contact("xunyang", "浔阳区", "王丽", None, "wangli@example.org")})
    monkeypatch.setenv("ROADSAFE_HOME", str(settings.home))
    monkeypatch.setenv("ROADSAFE_CAMPAIGN", campaign.code)
    folder = settings.inbox / "浔阳区"
    folder.mkdir(parents=True)
    dropped = folder / "重点车辆隐患清零周报（第1周）.csv"
    shutil.copyfile(samples / F1, dropped)

    result = ingest_pending()
    assert result["by_status"] == {"accepted": 1}
    reply = (folder / "回执" / f"{dropped.name}.txt").read_text(encoding="utf-8")
    assert reply.startswith("已受理：浔阳区 报送的《重点车辆隐患清零周报》第1周")
    assert [str(m["Subject"]) for m in smtp.parsed()] == [f"【报送回执】{dropped.name}（已受理）"]
    assert ingest_pending()["receipts"] == 0  # the reply file is not a new submission
    assert len(smtp.messages) == 1
