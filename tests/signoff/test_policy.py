"""What happens at the issue time to a draft nobody signed, through the functions the weekly DAG's tasks call
(``application.airflow.tasks``): ``publish`` (the default) signs it automatically and delivers it, ``wait``
delivers nothing and tells the office once; a signed edition is delivered once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from signoff_setup import campaign_with

from application.airflow import tasks
from dashboards import signoff
from dashboards.audit import read_audit
from roadsafe.campaign import CampaignError, load_campaign

BULLETIN_DAY = dt.datetime(2022, 5, 12, 9, 0, tzinfo=dt.UTC)  # 17:00 Asia/Shanghai: week 5's bulletin


def _dag_run(logical_date=BULLETIN_DAY) -> tuple[str, dict]:
    """freeze_edition → render_bulletin, render_dispatch → deliver, as the weekly DAG wires them."""
    folder = tasks.weekly_edition(logical_date)
    tasks.render_edition(folder, "bulletin")
    tasks.render_edition(folder, "dispatch")
    return folder, tasks.deliver_edition(folder)


def test_unsigned_drafts_are_published_automatically_by_default(home, smtp):
    assert home.campaign().frame.editions.unsigned == "publish"
    folder, result = _dag_run()
    assert Path(folder) == home.home / "drafts" / "weekly_bulletin" / "week-05"
    assert [(e["kind"], e["status"]) for e in result["editions"]] == [
        ("weekly_bulletin", "auto_signed"),
        ("dispatch_list", "auto_signed"),
    ]
    for kind, stem in (("weekly_bulletin", "bulletin"), ("dispatch_list", "dispatch")):
        folder = home.reports / kind / "week-05"
        assert all((folder / f"{stem}.{ext}").stat().st_size > 0 for ext in ("html", "pdf", "xlsx"))
        review = json.loads((folder / "signoff.json").read_text(encoding="utf-8"))
        assert (review["mode"], review["signed_by"]) == ("auto", "系统")
    assert sorted(smtp.subjects()) == [
        "九江市道路交通安全专项整治工作调度单（第5期，第5周）",
        "九江市道路交通安全专项整治工作通报（第5期，第5周）",
    ]
    assert [(e["action"], e["who"]) for e in read_audit(home) if e["action"] == "auto_sign"] == [
        ("auto_sign", "系统"),
        ("auto_sign", "系统"),
    ]
    # the task retried: nothing frozen again, nothing sent twice
    _folder, again = _dag_run()
    assert [e["status"] for e in again["editions"]] == ["delivered", "delivered"]
    assert all(d["status"] == "already_sent" for e in again["editions"] for d in e["deliveries"])
    assert len(smtp.messages) == 2


def test_a_draft_signed_before_the_issue_time_is_delivered_as_signed(home, smtp):
    signoff.prepare_draft(home, "weekly_bulletin", 5, who="zzb")
    signoff.set_note(home, "weekly_bulletin", 5, "请各地高度重视。", who="zzb")
    signoff.sign(home, "weekly_bulletin", 5, who="zzb", deliver=False)
    _folder, result = _dag_run()
    assert [(e["kind"], e["status"]) for e in result["editions"]] == [
        ("weekly_bulletin", "delivered"),
        ("dispatch_list", "auto_signed"),
    ]
    bulletin = next(m for m in smtp.parsed() if "工作通报" in str(m["Subject"]))
    assert "请各地高度重视。" in bulletin.get_body(preferencelist=("html",)).get_content()


def test_wait_keeps_unsigned_drafts_back_and_tells_the_office_once(waiting_home, smtp):
    home = waiting_home
    folder, result = _dag_run()
    assert [(e["kind"], e["status"]) for e in result["editions"]] == [
        ("weekly_bulletin", "awaiting_signature"),
        ("dispatch_list", "awaiting_signature"),
    ]
    assert not (home.reports / "weekly_bulletin" / "week-05").exists()
    assert (Path(folder) / "bulletin.html").is_file()  # the draft's page, for the office to read
    subjects = smtp.subjects()
    assert subjects == [
        "【待签发】九江市道路交通安全专项整治工作通报（第5期，第5周）",
        "【待签发】九江市道路交通安全专项整治工作调度单（第5期，第5周）",
    ]
    text = smtp.parsed()[0].get_body(preferencelist=("plain",)).get_content()
    assert "未经签发的期次不自动发送" in text and "/signoff/weekly_bulletin/week-05" in text
    assert all(rcpts == home.campaign().frame.recipients["office"] for _s, rcpts, _r in smtp.messages)
    assert [e["action"] for e in read_audit(home)].count("await") == 2

    _folder, again = _dag_run()  # the retry (or the next day's run) does not remind again
    assert [e["reminded"] for e in again["editions"]] == [False, False] and len(smtp.messages) == 2

    published, deliveries = signoff.sign(home, "weekly_bulletin", 5, who="zzb", reason="同意")
    assert deliveries[0]["status"] == "sent" and published.state == "signed"
    assert smtp.subjects()[-1] == "九江市道路交通安全专项整治工作通报（第5期，第5周）"
    _folder, later = _dag_run()
    assert [e["status"] for e in later["editions"]] == ["delivered", "awaiting_signature"]
    assert len(smtp.messages) == 3  # neither the bulletin nor a reminder went twice
    assert not (home.reports / "dispatch_list" / "week-05").exists()


def test_the_setting_is_validated(tmp_path, monkeypatch):
    monkeypatch.setenv("ROADSAFE_CAMPAIGNS_DIR", str(campaign_with(tmp_path, "editions: {unsigned: later}")))
    with pytest.raises(CampaignError) as bad:
        load_campaign("jiujiang-2022")
    assert "campaign.yml 中 editions.unsigned 有误" in str(bad.value)
    assert "应为 publish（到发布时间仍未签发的草稿自动签发）或 wait" in str(bad.value)
