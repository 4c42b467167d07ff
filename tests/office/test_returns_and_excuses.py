"""Return (退回) and excuse (情况说明) on a real DuckDB built by the real dbt, in order: a returned file's
figures leave the marts and come back after the resubmission; an excuse turns 迟报/缺报 into 已说明 in
timeliness and raises the ranking's timeliness score ((on time + excused) / expected per form); both
show in the next bulletin's 报送情况 table; an open case shows in the dispatch list until 销号.

The scenario is tests/dbt/dbt_scenario.py: 市公安局 (gongan) sends F1 for weeks 1-3 (week 1 90 minutes
late), nothing for week 4. Decisions are dated in May 2022 so the editions of weeks 4 and 5 see them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dashboards.office_actions import case_action, close_case, excuse_submission, open_case, return_submission
from roadsafe.office_record import OfficeRecord, OfficeRecordError

TZ = ZoneInfo("Asia/Shanghai")
OFFICE = "portal:office"


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2022, month, day, hour, tzinfo=TZ)


def _compliance(scenario, form: str, unit: str, period: int) -> dict:
    (row,) = scenario.query(
        "select * from marts.fct_submission_compliance where form_code = ? and unit_id = ? and period_no = ?",
        form, unit, period,
    )  # fmt: skip
    return row


def _i02(scenario, period: int) -> dict:
    return {
        r["unit_id"]: (r["status"], r["actual"])
        for r in scenario.query(
            "select unit_id, status, actual from marts.fct_indicator_values "
            "where indicator_code = 'I02' and period_no = ?",
            period,
        )
    }


def _timeliness(scenario, month: str, unit: str, form: str) -> dict:
    (row,) = scenario.query(
        "select value, points, detail from marts.rpt_ranking_breakdown "
        "where month = ? and unit_id = ? and component = 'timeliness' and item = ?",
        month, unit, form,
    )  # fmt: skip
    return row


def _expected_value(scenario, month: str, unit: str, form: str) -> float:
    rows = scenario.query(
        "select c.on_time, c.excused from marts.fct_submission_compliance c "
        "join ref.periods p using (period_no) join ref.months m on m.month = p.month "
        "where c.month = ? and c.unit_id = ? and c.form_code = ? "
        "and (m.ranking_at is null or p.due_at <= m.ranking_at)",
        month, unit, form,
    )  # fmt: skip
    return sum(1 for r in rows if r["on_time"] or r["excused"]) / len(rows)


@pytest.fixture(scope="module")
def baseline(scenario) -> dict:
    return {
        "i02_w3": _i02(scenario, 3),
        "apr": _timeliness(scenario, "2022-04", "gongan", "F1"),
        "may": _timeliness(scenario, "2022-05", "gongan", "F1"),
        "may_score": scenario.query(
            "select timeliness_points from marts.rpt_monthly_ranking where month = '2022-05' and unit_id = 'gongan'"
        )[0]["timeliness_points"],
        "w1": _compliance(scenario, "F1", "gongan", 1),
    }


def test_return_and_excuse_change_timeliness_ranking_and_figures(scenario, baseline):
    s = scenario.settings
    (returned_id,) = scenario.writer.sent[("F1", "gongan", 3)]
    assert baseline["w1"]["timeliness"] == "逾期" and baseline["w1"]["is_late"]
    assert baseline["i02_w3"]["xunyang"][0] != "数据缺报"

    entry = return_submission(s, returned_id, by=OFFICE, reason="应检验数与车管台账不符，请核实", at=at(5, 3))
    assert (entry["form_code"], entry["unit_id"], entry["period_no"]) == ("F1", "gongan", 3)
    excuse_submission(s, "gongan", "F1", 1, by=OFFICE, reason="4月14日系统故障，已电话报告", at=at(5, 3, 11))
    excuse_submission(s, "gongan", "F1", 4, by=OFFICE, reason="第4周数据并入第5周报送", at=at(5, 4, 9))
    with pytest.raises(OfficeRecordError, match="已退回过|不是该报表当前有效"):
        return_submission(s, returned_id, by=OFFICE, reason="再次退回", at=at(5, 4))
    with pytest.raises(OfficeRecordError, match="按时报送，无需说明"):
        excuse_submission(s, "gongan", "F1", 2, by=OFFICE, reason="无", at=at(5, 4))
    scenario.build()

    # the returned file's figures leave the indicators: week 3's I02 is 数据缺报 for every county
    week3 = _i02(scenario, 3)
    assert {status for status, _ in week3.values()} == {"数据缺报"}
    assert not scenario.query(
        "select 1 from intermediate.int_form_values_current where submission_id = ?", returned_id
    )
    sub = scenario.query("select * from marts.fct_submissions where submission_id = ?", returned_id)[0]
    assert not sub["is_current"] and sub["return_reason"] == "应检验数与车管台账不符，请核实"
    w3 = _compliance(scenario, "F1", "gongan", 3)
    assert (w3["timeliness"], w3["returned"], w3["received"], w3["missing"]) == ("退回", True, False, True)

    # the excuses: 迟报 and 缺报 become 已说明, neither late nor missing
    w1, w4 = _compliance(scenario, "F1", "gongan", 1), _compliance(scenario, "F1", "gongan", 4)
    assert (w1["timeliness"], w1["excused"], w1["is_late"]) == ("已说明", True, False)
    assert (w4["timeliness"], w4["excused"], w4["missing"]) == ("已说明", True, False)

    # the ranking's timeliness: (on time + excused) / expected, per form
    for month in ("2022-04", "2022-05"):
        item = _timeliness(scenario, month, "gongan", "F1")
        assert item["value"] == pytest.approx(_expected_value(scenario, month, "gongan", "F1"))
        assert "已说明1份" in item["detail"]
    assert "退回未重报1份" in _timeliness(scenario, "2022-04", "gongan", "F1")["detail"]
    may = _timeliness(scenario, "2022-05", "gongan", "F1")
    assert may["value"] > baseline["may"]["value"] and may["points"] > baseline["may"]["points"]
    score = scenario.query(
        "select timeliness_points from marts.rpt_monthly_ranking where month = '2022-05' and unit_id = 'gongan'"
    )[0]["timeliness_points"]
    assert score > baseline["may_score"]

    # every decision is on record with who, when and why
    kinds = [(e["kind"], e["by"], e["reason"]) for e in OfficeRecord(s.home).entries("jiujiang-2022")]
    assert [k for k, _, _ in kinds] == ["return", "excuse", "excuse"]
    assert all(by == OFFICE and why for _, by, why in kinds)


def test_bulletin_and_dispatch_show_decisions_and_open_cases(scenario):
    from dashboards.editions import weekly_edition

    s = scenario.settings
    case = open_case(
        s, "gongan", case_kind="listed", title="机动车检验率滞后挂牌督办", by=OFFICE,
        reason="连续两周滞后于序时进度", at=at(5, 3, 15), task_no=1, source="manual",
    )  # fmt: skip
    case_action(s, case["id"], action="约谈分管负责人", on_date="2022-05-04", by=OFFICE, reason="约谈", at=at(5, 4))
    scenario.build()
    bulletin, dispatch = weekly_edition(s, 4, frozen_at=at(5, 5, 17))
    page = (bulletin / "bulletin.html").read_text(encoding="utf-8")
    late_table = page[page.index('id="late"') :]
    assert "退回：应检验数与车管台账不符，请核实" in late_table  # week 3's return, decided since the last edition
    assert "已说明：4月14日系统故障，已电话报告" in late_table  # week 1's excuse
    assert "已说明：第4周数据并入第5周报送" in late_table  # this week's missing F1, excused
    listing = (dispatch / "dispatch.html").read_text(encoding="utf-8")
    assert "挂牌督办：机动车检验率滞后挂牌督办（任务1）" in listing and case["id"] in listing
    assert "约谈分管负责人" in listing

    evidence = b"%PDF-1.4\n% rectification report\n" + b"0" * 100
    with pytest.raises(OfficeRecordError, match="格式无法识别"):
        close_case(s, case["id"], evidence=b"MZ\x90\x00 not a report", evidence_name="整改.pdf", by=OFFICE,
                   reason="已整改", at=at(5, 10))  # fmt: skip
    closed = close_case(
        s, case["id"], evidence=evidence, evidence_name="整改报告.pdf", by=OFFICE, reason="整改到位，予以销号",
        at=at(5, 10),
    )  # fmt: skip
    stored = OfficeRecord(s.home).evidence_path(closed["evidence"]["sha256"], "pdf")
    assert stored.read_bytes() == evidence and stored.stat().st_mode & 0o777 == 0o400
    scenario.build()
    _bulletin5, dispatch5 = weekly_edition(s, 5, frozen_at=at(5, 12, 17))
    assert case["id"] not in (dispatch5 / "dispatch.html").read_text(encoding="utf-8")


def test_resubmission_brings_the_figures_back(scenario, baseline):
    from dbt_scenario import _f1

    campaign = scenario.settings.campaign()
    # due 04-28 12:00; returned 05-03 10:00; sent again 05-03 12:00 with the week's figures
    scenario.writer.submit("F1", "gongan", 3, _f1(campaign, 3, 192), minutes_after_due=5 * 24 * 60)
    scenario.build()
    assert _i02(scenario, 3) == baseline["i02_w3"]
    w3 = _compliance(scenario, "F1", "gongan", 3)
    # the file that counts arrived after the return: late by its own time (the office may excuse it)
    assert (w3["returned"], w3["received"], w3["timeliness"], w3["minutes_late"]) == (False, True, "逾期", 7200)


def test_cli_twins_list_and_refuse(scenario, capsys):
    from application.cli import main

    home = ["--home", str(scenario.settings.home)]
    assert main([*home, "office", "list"]) == 0
    out = capsys.readouterr().out
    assert "退回" in out and "情况说明" in out and "已销号" in out and "portal:office" in out
    code = main([*home, "office", "case", "open", "--unit", "nowhere", "--kind", "listed", "--title", "t",
                 "--reason", "r", "--no-build"])  # fmt: skip
    assert code == 2 and "找不到单位" in capsys.readouterr().err
    code = main([*home, "office", "excuse", "--unit", "gongan", "--form", "F1", "--period", "2", "--reason",
                 "x", "--no-build"])  # fmt: skip
    assert code == 2 and "已按时报送" in capsys.readouterr().err
    before = len(OfficeRecord(scenario.settings.home).entries())
    code = main([*home, "office", "case", "open", "--unit", "xunyang", "--kind", "inspection", "--task", "2",
                 "--title", "检查组督导", "--reason", "督导检查", "--by", "办公室李四", "--no-build"])  # fmt: skip
    assert code == 0 and "未运行构建" in capsys.readouterr().out
    last = OfficeRecord(scenario.settings.home).entries()[-1]
    assert len(OfficeRecord(scenario.settings.home).entries()) == before + 1
    assert (last["kind"], last["by"], last["case_kind"], last["task_no"]) == ("case_open", "办公室李四", "inspection", 2)
