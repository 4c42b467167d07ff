"""The marts of one real build of the hand-made scenario (see dbt_scenario.py), checked against figures
computed by hand: a resubmission, a county missing from a week, a late file, ledgers carried forward,
the city recomputed from the counties, and ties in the ranking."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

# 序时进度 runs from the end of week 1 (04-13) to the deadline 06-30: 78 days; weeks end 7 days apart.
DAYS = 78


def one(query, sql, *params) -> dict:
    rows = query(sql, *params)
    assert len(rows) == 1, rows
    return rows[0]


def value(query, indicator: str, unit: str, week: int) -> dict:
    return one(
        query,
        "select * from marts.fct_indicator_values where indicator_code = ? and unit_id = ? and period_no = ?",
        indicator,
        unit,
        week,
    )


# --------------------------------------------------------------------------- the build itself


def test_build_passes_every_model_data_test_and_unit_test(built):
    assert built.result.ok and built.result.failures == []
    results = json.loads((built.settings.home / "dbt" / "target" / "run_results.json").read_text())["results"]
    kinds = {}
    for r in results:
        kind = r["unique_id"].split(".")[0]
        kinds.setdefault(kind, set()).add(r["status"])
    assert kinds["model"] == {"success"}
    assert kinds["test"] == {"pass"}
    assert kinds["unit_test"] == {"pass"}
    unit_tests = {
        r["unique_id"].rsplit(".", 1)[-1] for r in results if r["unique_id"].startswith("unit_test.")
    }
    assert {
        "expected_progress_straight_line_and_milestones",
        "indicator_status_rules",
        "month_on_month_and_year_on_year_rules",
        "latest_accepted_submission_counts",
        "later_submitter_wins_the_record",
        "ranking_score_ties_and_rank_change",
        "task_reports_by_column_role_and_status_order",
    } <= unit_tests


def test_build_writes_nothing_into_the_repository(built):
    home = built.settings.home
    assert (home / "dbt" / "target" / "manifest.json").exists()
    assert built.result.log_file.startswith(str(home))
    assert built.result.published == str(built.settings.published)
    assert not list(built.settings.published.parent.glob(".*.tmp"))


# --------------------------------------------------------------------------- I02: ratio, resubmission, gaps


def test_ratio_per_county_uses_the_corrected_resubmission(query, built):
    first, correction = built.sent[("F1", "gongan", 2)][1:]  # [rejected, original, correction]
    row = value(query, "I02", "xunyang", 2)
    assert (row["numerator"], row["denominator"], row["actual"]) == (110, 200, 0.55)
    assert row["source_rows"] == [f"{correction}:CSV:2"]
    assert first not in " ".join(row["source_rows"])
    # with the first file (84 / 200 = 0.42) it would be behind 序时进度; corrected it is on track
    assert row["expected"] == pytest.approx(0.4 + 0.55 * 7 / DAYS)
    assert row["status"] == "正常推进"
    assert value(query, "I02", "xunyang", 3)["status"] == "已完成"  # 192 / 200 = 0.96 >= 0.95


def test_city_is_recomputed_from_county_terms_not_averaged(query):
    week1 = value(query, "I02", "jiujiang", 1)
    # (11*50 + 80 + 50 + 0 + 50) / (14*100 + 200)
    assert (week1["numerator"], week1["denominator"]) == (730, 1600)
    assert week1["actual"] == pytest.approx(0.45625)  # the mean of the county rates would be 0.46
    week2 = value(query, "I02", "jiujiang", 2)
    assert week2["actual"] == pytest.approx(880 / 1600)
    assert week2["baseline"] == pytest.approx(0.45625)
    assert week2["expected"] == pytest.approx(0.45625 + (0.95 - 0.45625) * 7 / DAYS)
    assert week2["status"] == "正常推进"
    assert week2["members_reporting"] == week2["members_expected"] == 15


def test_a_county_missing_from_a_week_is_a_data_gap_for_it_and_the_city(query):
    lushan = value(query, "I02", "lushan", 3)
    assert lushan["status"] == "数据缺报" and lushan["actual"] is None and lushan["numerator"] is None
    city = value(query, "I02", "jiujiang", 3)
    assert city["status"] == "数据缺报" and city["actual"] is None
    assert (city["members_reporting"], city["members_expected"]) == (14, 15)
    assert city["coverage"] == pytest.approx(14 / 15)
    assert value(query, "I02", "lianxi", 3)["actual"] == pytest.approx(0.7)  # the others are there
    assert value(query, "I02", "lianxi", 4)["status"] == "数据缺报"  # no F1 at all in week 4


def test_expected_progress_and_the_statuses_of_the_counties(query):
    lianxi = value(query, "I02", "lianxi", 3)
    assert lianxi["expected"] == pytest.approx(0.5 + 0.45 * 14 / DAYS)
    assert lianxi["gap"] == pytest.approx(0.7 - lianxi["expected"])
    assert lianxi["status"] == "正常推进"
    wuning = value(query, "I02", "wuning", 2)
    assert wuning["actual"] == 0.5 and wuning["status"] == "滞后"
    assert value(query, "I02", "xiushui", 3)["status"] == "未启动"  # 0 done, baseline 0
    assert value(query, "I03", "lianxi", 1)["status"] == "已完成"  # 10 / 10


# --------------------------------------------------------------------------- other value rules


def test_year_on_year_decrease_runs_campaign_to_date_over_the_weeks_that_came_in(query):
    assert value(query, "I13", "xunyang", 1)["actual"] == pytest.approx(1 - 1 / 4)
    week2 = value(query, "I13", "xunyang", 2)
    assert (week2["numerator"], week2["denominator"]) == (3, 6)
    assert week2["actual"] == pytest.approx(0.5) and week2["status"] == "已完成"  # exactly the target
    assert value(query, "I13", "jiujiang", 1)["actual"] == pytest.approx(1 - 15 / 32)
    assert value(query, "I13", "jiujiang", 2)["actual"] == pytest.approx(1 - 31 / 62)
    # F8 week 3 never came: week 3 is a gap; week 4 adds up the weeks that came in (1, 2 and 4) on both
    # sides of the ratio, and says so
    assert value(query, "I13", "xunyang", 3)["status"] == "数据缺报"
    week4 = value(query, "I13", "xunyang", 4)
    assert (week4["numerator"], week4["denominator"], week4["actual"]) == (4, 8, 0.5)
    assert (week4["periods_covered"], week4["periods_in_window"]) == (3, 4)
    city = value(query, "I13", "jiujiang", 4)
    assert (city["numerator"], city["denominator"]) == (15 + 16 + 15, 32 + 30 + 30)
    assert (city["periods_covered"], city["periods_in_window"]) == (45, 60)


def test_month_on_month_decrease_at_month_ends_carried_between(query, built):
    assert value(query, "I01", "dean", 1)["actual"] is None  # no month has closed yet
    assert value(query, "I01", "dean", 1)["status"] == "未启动"
    april = value(query, "I01", "dean", 3)  # April's last week: 10 against the first week's 20
    assert (april["numerator"], april["denominator"], april["actual"]) == (10, 20, 0.5)
    assert april["status"] == "已完成"
    week1, week3, week7 = (built.sent[("F6", "jiaotong", w)][0] for w in (1, 3, 7))
    assert april["source_rows"] == sorted([f"{week1}:CSV:8", f"{week3}:CSV:8"])
    carried = value(query, "I01", "dean", 5)
    assert (carried["actual"], carried["value_period_no"]) == (0.5, 3)
    assert carried["deadline"].isoformat() == "2022-05-31"
    may = value(query, "I01", "dean", 7)  # May's last week: 4 against April's 10
    assert may["actual"] == pytest.approx(0.6)
    assert may["source_rows"] == sorted([f"{week3}:CSV:8", f"{week7}:CSV:8"])
    city = value(query, "I01", "jiujiang", 3)
    assert city["actual"] == pytest.approx(1 - 150 / 160) and city["status"] == "滞后"
    assert value(query, "I01", "jiujiang", 7)["actual"] == pytest.approx(1 - 144 / 150)


def test_ledger_records_carry_forward_and_trace_to_their_rows(query, built):
    week1_file = built.sent[("F4", "hukou", 1)][0]
    week3_file = built.sent[("F4", "hukou", 3)][0]
    assert value(query, "I12", "hukou", 1)["actual"] == pytest.approx(1 / 3)
    assert value(query, "I12", "hukou", 2)["status"] == "数据缺报"  # the ledger was not sent in week 2
    week3 = value(query, "I12", "hukou", 3)
    assert (week3["numerator"], week3["denominator"]) == (2, 3)  # H1 fixed in week 3, H3 carried
    assert week3["source_rows"] == sorted(
        [f"{week1_file}:CSV:3", f"{week1_file}:CSV:4", f"{week3_file}:CSV:2"]
    )
    # information without a target (the plan sets no rectification rate): no 序时进度, reported only
    assert (week3["target"], week3["expected"], week3["direction"]) == (None, None, "none")
    assert week3["status"] == "正常推进"
    assert value(query, "I12", "jiujiang", 3)["status"] == "数据缺报"  # the other counties sent no ledger


def test_record_conditions_and_denominator_targets(query):
    xunyang = value(query, "I06", "xunyang", 1)
    assert (xunyang["numerator"], xunyang["denominator"], xunyang["target"]) == (1, 2, 2)
    assert len(xunyang["source_rows"]) == 2  # the two crossings; the road section is I07's
    lianxi = value(query, "I06", "lianxi", 1)  # no listed sites: target 0 is met
    assert (lianxi["actual"], lianxi["target"], lianxi["status"]) == (0, 0, "已完成")
    city = value(query, "I06", "jiujiang", 1)
    assert (city["actual"], city["target"]) == (1, 46)
    assert value(query, "I07", "jiujiang", 1)["actual"] == 1


def test_group_scope_deadline_passes(query):
    assert value(query, "I09", "zhongxin", 1)["actual"] == 30000
    week2 = value(query, "I09", "zhongxin", 2)
    assert week2["expected"] == pytest.approx(30000 + 1500 * 7 / 17) and week2["status"] == "滞后"
    assert value(query, "I09", "zhongxin", 3)["status"] == "数据缺报"
    week4 = value(query, "I09", "zhongxin", 4)  # ends 05-04, after the 04-30 deadline, 31000 < 31500
    assert (week4["actual"], week4["status"]) == (31000, "逾期未完成")
    assert value(query, "I10", "zhongxin", 4)["status"] == "已完成"
    # week 2: balihu's 已配备头盔数 was left blank: the helmet rate is unknown, never a zero
    helmets = value(query, "I10", "zhongxin", 2)
    assert (helmets["status"], helmets["actual"], helmets["members_reporting"]) == ("数据缺报", None, 4)


def test_counts_without_target_show_week_change_and_campaign_to_date(query):
    week2 = value(query, "I14", "xunyang", 2)
    assert (week2["actual"], week2["week_change"], week2["actual_to_date"]) == (10, 5, 15)
    assert week2["status"] == "正常推进"
    city = value(query, "I14", "jiujiang", 2)
    assert (city["actual"], city["week_change"], city["actual_to_date"]) == (80, 5, 155)
    assert value(query, "I14", "jiujiang", 3)["status"] == "数据缺报"


def test_every_source_row_is_a_row_of_a_current_accepted_file(query):
    bad = query(
        """
        with refs as (select distinct unnest(source_rows) as row_ref from marts.fct_indicator_values)
        select row_ref from refs
        left join (
            select distinct
                v.submission_id || ':' || v.sheet || ':' || v.source_row as row_ref,
                s.superseded_by
            from raw.form_values v join raw.submissions s using (submission_id)
            where s.status = 'accepted'
        ) f using (row_ref)
        where f.row_ref is null or f.superseded_by is not null
        """
    )
    assert bad == []


# --------------------------------------------------------------------------- tasks


def task(query, no: int, week: int) -> dict:
    return one(query, "select * from marts.fct_task_status where task_no = ? and period_no = ?", no, week)


def test_milestone_tasks_follow_the_lead_reports(query):
    assert task(query, 19, 1)["status"] == "正常推进"
    done = task(query, 19, 2)
    assert (done["status"], done["status_basis"]) == ("已完成", "task_reports")
    assert done["first_done_period_no"] == 2
    assert done["progress_text"] == "市交通运输局：路长制全面建立"
    assert task(query, 19, 1)["difficulties"] == "市交通运输局：资金不足"
    overdue = task(query, 25, 4)  # still 推进中 in the week that passes the 04-30 deadline
    assert overdue["status"] == "逾期未完成"
    assert overdue["progress_text"] == "市公安局：百度已标注，高德未完成"
    assert overdue["difficulties"] == "市公安局：企业响应慢"
    stale = task(query, 25, 3)  # week 3 carries week 1's report, and says so
    assert stale["status"] == "正常推进" and stale["lead_report_status"] == "市公安局：推进中（第1周）"
    many = task(query, 20, 1)  # every county leads; only 浔阳区 reported
    assert many["status"] == "数据缺报" and (many["leads_reporting"], many["leads_expected"]) == (1, 15)
    assert many["lead_report_status"].startswith("浔阳区：已完成；濂溪区：未报送")
    assert task(query, 10, 1)["status"] == "未启动"  # I14 has no target: judged on the F9


def test_task_reports_carry_each_leads_latest_words_with_their_file(query, built):
    rows = {
        r["period_no"]: r
        for r in query(
            "select * from marts.fct_task_reports where task_no = 25 and unit_id = 'gongan' order by period_no"
        )
    }
    (week1_file,) = built.sent[("F9", "gongan", 1)]
    (week4_file,) = built.sent[("F9", "gongan", 4)]
    week1 = rows[1]
    assert (week1["report_status"], week1["report_stage"], week1["progress"]) == (
        "推进中",
        "in_progress",
        "已联系高德、百度",
    )
    assert (week1["report_period_no"], week1["reported_this_period"], week1["submission_id"]) == (
        1,
        True,
        week1_file,
    )
    assert week1["source_rows"] and all(ref.startswith(f"{week1_file}:") for ref in week1["source_rows"])
    assert week1["difficulties"] is None and week1["evidence"] is None
    week3 = rows[3]  # nothing new in weeks 2-3: week 1's report carries forward, and says so
    assert (week3["report_period_no"], week3["reported_this_period"], week3["progress"]) == (
        1,
        False,
        "已联系高德、百度",
    )
    week4 = rows[4]
    assert (week4["submission_id"], week4["difficulties"]) == (week4_file, "企业响应慢")
    stages = {
        r["task_no"]: r["report_stage"]
        for r in query("select * from marts.fct_task_reports where unit_id = 'jiaotong' and period_no = 1")
    }
    assert (stages[10], stages[11], stages[19]) == ("not_started", "done", "in_progress")
    # every county leads task 20; only 浔阳区 reported: one row per lead, the others empty
    many = query("select * from marts.fct_task_reports where task_no = 20 and period_no = 1")
    assert len(many) == 15 and [r["unit_id"] for r in many if r["report_status"]] == ["xunyang"]
    assert query(
        "select count(*) as n from marts.fct_task_reports where unit_id = 'xunyang' and task_no = 7"
    ) == [{"n": 0}]  # co-responsible units and units that do not lead the task have no rows


def test_submissions_mart_lists_every_attempt_with_its_versions(query, built):
    rejected, first, correction = built.sent[("F1", "gongan", 2)]
    rows = {
        r["submission_id"]: r
        for r in query(
            "select * from marts.fct_submissions where form_code = 'F1' and unit_id = 'gongan' and period_no = 2"
        )
    }
    assert set(rows) == {rejected, first, correction}
    assert rows[rejected]["status"] == "rejected" and rows[rejected]["version_no"] is None
    assert rows[rejected]["error_count"] >= 1 and not rows[rejected]["is_current"]
    assert (rows[first]["superseded_by"], rows[first]["replaces"], rows[first]["is_current"]) == (
        correction,
        None,
        False,
    )
    assert (rows[correction]["replaces"], rows[correction]["is_current"]) == (first, True)
    assert rows[correction]["row_count"] > 0 and rows[correction]["original_name"]
    assert rows[correction]["in_campaign_period"] and rows[first]["minutes_late"] == 0
    receipts = query(
        "select submission_id, due_at, minutes_late from raw.submissions where submission_id in (?, ?, ?)",
        rejected,
        first,
        correction,
    )
    for receipt in receipts:  # as the receipt said (the correction came a day after the due time)
        row = rows[receipt["submission_id"]]
        assert (row["due_at"], row["minutes_late"]) == (receipt["due_at"], receipt["minutes_late"])
    raw_count = query("select count(*) as n from raw.submissions")[0]["n"]
    assert query("select count(*) as n from marts.fct_submissions")[0]["n"] == raw_count
    columns = {
        r["column_name"]
        for r in query(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'fct_submissions'"
        )
    }
    assert not columns & {"stored_path", "submitted_by", "file_sha256"}


def test_indicator_tasks_take_the_worst_status_at_the_widest_scope(query):
    week1 = task(query, 4, 1)
    assert week1["status_basis"] == "indicators" and week1["status"] == "正常推进"
    assert week1["indicator_summary"].startswith("I02 重点车辆检验率（九江市）正常推进")
    assert task(query, 4, 2)["status"] == "滞后"  # I03 city stays at 140/150 while 序时进度 rises
    assert task(query, 4, 3)["status"] == "数据缺报"  # the city's F1 lacks 庐山市
    assert task(query, 2, 3)["status"] == "滞后"  # I01 city: 6.25 % against 50 %


# --------------------------------------------------------------------------- compliance


def test_compliance_late_file_rejection_resubmission_and_missing(query, built, calendar):
    rows = {
        r["period_no"]: r
        for r in query(
            "select * from marts.fct_submission_compliance where form_code = 'F1' and unit_id = 'gongan' "
            "order by period_no"
        )
    }
    assert (rows[1]["on_time"], rows[1]["is_late"], rows[1]["minutes_late"]) == (False, True, 90)
    _rejected, first, correction = built.sent[("F1", "gongan", 2)]
    week2 = rows[2]
    assert (week2["on_time"], week2["minutes_late"]) == (True, 0)
    assert (week2["attempts"], week2["rejected_attempts"]) == (3, 1)
    assert week2["accepted_submission_id"] == correction
    if built.via_ingest:  # ingest's monotone check: 重点车辆总数 fell below week 1's
        assert week2["warning_count"] == 1
    assert rows[4]["missing"] and not rows[4]["received"] and rows[4]["minutes_late"] is None
    month = one(
        query,
        "select * from marts.agg_compliance_by_unit_month where unit_id = 'gongan' and month = '2022-04'",
    )
    assert (month["expected_count"], month["on_time_count"], month["late_count"]) == (18, 9, 1)
    assert month["rejected_attempts"] == 1


def test_month_compliance_adds_up_the_units_submissions_of_the_month(query):
    """The month grain is derived from the period grain; it must equal counting the month's rows directly."""
    direct = query(
        "select unit_id, month, count(*) as expected_count, count(*) filter (where on_time) as on_time_count,"
        " count(*) filter (where is_late) as late_count, count(*) filter (where missing) as missing_count,"
        " max(minutes_late) as max_minutes_late, sum(attempts) as attempts,"
        " sum(rejected_attempts) as rejected_attempts, sum(warning_count) as warning_count"
        " from marts.fct_submission_compliance group by all order by unit_id, month"
    )
    derived = query(
        "select unit_id, month, expected_count, on_time_count, late_count, missing_count, max_minutes_late,"
        " attempts, rejected_attempts, warning_count"
        " from marts.agg_compliance_by_unit_month order by unit_id, month"
    )
    assert len(direct) > 1
    assert derived == direct


# --------------------------------------------------------------------------- ranking


def ranking(query, month: str, scope: str) -> dict[str, dict]:
    rows = query("select * from marts.rpt_monthly_ranking where month = ? and scope = ?", month, scope)
    return {r["unit_id"]: r for r in rows}


def test_county_ranking_scores_ties_and_marks(query):
    april = ranking(query, "2022-04", "county")
    # attainment over 7 county indicators with a target (I12 is information only), timeliness over 15
    # expected files, quality over attempts
    assert april["hukou"]["score"] == pytest.approx(round(60 * 2 / 7 + 30 * 2 / 15 + 10, 2))  # 31.14
    assert april["xunyang"]["score"] == pytest.approx(round(60 * 2 / 7 + 30 * 1 / 15 + 10, 2))  # 29.14
    assert april["dean"]["score"] == pytest.approx(round(60 * 3 / 7, 2))  # 25.71
    wuning = 60 * (0.5 / (0.5 + 0.45 * 14 / DAYS) + 1) / 7
    assert april["wuning"]["score"] == pytest.approx(round(wuning, 2))
    assert [april[u]["rank"] for u in ("hukou", "xunyang", "dean")] == [1, 2, 3]
    tied = [u for u, r in april.items() if r["score"] == round(60 * 2 / 7, 2)]
    assert len(tied) == 9 and {april[u]["rank"] for u in tied} == {4}
    assert april["wuning"]["rank"] == 13  # 1, 2, 3, 4 x 9, then 13
    assert april["xiushui"]["rank"] == april["lushan"]["rank"] == 14
    assert {u for u, r in april.items() if r["is_bottom"]} == {"wuning", "xiushui", "lushan"}
    may = ranking(query, "2022-05", "county")
    assert may["dean"]["rank"] == 1 and may["dean"]["rank_change"] == 3 - 1
    assert may["hukou"]["rank_change"] == 1 - 2
    assert april["hukou"]["rank_change"] is None


def test_department_ranking_from_led_tasks(query):
    april = ranking(query, "2022-04", "department")
    # 交通运输局 leads 7 tasks, 3 on track or done (11, 19, 22); 5 of 9 files on time; nothing rejected
    assert april["jiaotong"]["score"] == pytest.approx(round(60 * 3 / 7 + 30 * 5 / 9 + 10, 2))
    assert april["jiaotong"]["rank"] == 1
    assert april["gongan"]["quality"] == pytest.approx(11 / 12)  # one rejected F1 among 12 attempts
    assert "zhujian" not in april  # co-responsible only, nothing to report: not ranked


def test_breakdown_explains_every_point(query):
    items = query(
        "select * from marts.rpt_ranking_breakdown where month = '2022-04' and unit_id = 'hukou' "
        "order by component, item"
    )
    assert sum(i["points"] for i in items) == pytest.approx(60 * 2 / 7 + 30 * 2 / 15 + 10)
    attainment = {i["item"]: i for i in items if i["component"] == "attainment"}
    # I12 (隐患整改率) has no target: information, not scored
    assert set(attainment) == {"I01", "I02", "I03", "I04", "I05", "I06", "I13"}
    assert attainment["I02"]["value"] == 1 and attainment["I02"]["weight"] == pytest.approx(60 / 7)
    assert attainment["I04"]["value"] == 0 and "数据缺报" in attainment["I04"]["detail"]
    timeliness = {i["item"]: i for i in items if i["component"] == "timeliness"}
    assert timeliness["F4"]["detail"] == "应报3份，按时2份，迟报0份，缺报1份"


# --------------------------------------------------------------------------- fidelity to the plan


def test_hazard_tasks_are_judged_by_what_the_plan_asks_not_by_a_rectification_rate(query):
    # Tasks 1 and 18 ask for a hazard list and one check by 4月底, no rate: the lead's report decides.
    assert [task(query, 18, w)["status"] for w in (1, 2, 3)] == ["已完成"] * 3
    assert task(query, 18, 1)["status_basis"] == "task_reports"
    assert task(query, 18, 1)["is_milestone"] is True
    assert task(query, 1, 3)["status"] == "正常推进"
    assert task(query, 1, 4)["status"] == "逾期未完成"  # week 4 ends 05-04, after the 04-30 deadline
    # the rectification rate is still reported, as information
    assert value(query, "I12", "hukou", 3)["actual"] == pytest.approx(2 / 3)


def test_targets_the_plan_does_not_give_are_marked_as_the_offices_assumption(query):
    rows = query(
        "select indicator_code, unit_id, target_is_assumption from marts.fct_indicator_values "
        "where period_no = 1 and target is not null"
    )
    assumed = {(r["indicator_code"], r["unit_id"]): r["target_is_assumption"] for r in rows}
    # the goal: the plan's city-wide 50%; the county targets are the office's
    assert assumed[("I13", "jiujiang")] is False
    assert assumed[("I13", "xunyang")] is True
    assert assumed[("I09", "zhongxin")] is False and assumed[("I07", "jiujiang")] is False
    assert {k for k, v in assumed.items() if v and k[1] == "jiujiang"} == set()


def test_a_ranking_judges_only_the_periods_due_before_it_is_issued(query):
    # 第13周 (06-30 only) is due 07-01 12:00, after the June ranking (06-30 18:00): not judged in June.
    june = ranking(query, "2022-06", "county")
    assert {r["judged_periods"] for r in june.values()} == {"第8周至第12周"}
    assert ranking(query, "2022-04", "county")["hukou"]["judged_periods"] == "第1周至第3周"
    items = query("select * from marts.rpt_ranking_breakdown where month = '2022-06'")
    assert items and not any("第13周" in (i["detail"] or "") for i in items)
    assert {i["judged_period_no"] for i in items} == {12}
    gongan_f1 = next(
        i for i in items if i["unit_id"] == "gongan" and i["component"] == "timeliness" and i["item"] == "F1"
    )
    assert gongan_f1["detail"].startswith("应报5份")  # weeks 8-12, not week 13
