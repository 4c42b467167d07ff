"""ref.* written from campaign definitions (no dbt): the ARCHITECTURE.md contract, grains, one transaction."""

from __future__ import annotations

import duckdb
import pytest

from roadsafe.campaign import load_campaign
from roadsafe.reftables import REF_TABLES, write_reference
from roadsafe.schedule import form_due_at
from roadsafe.workcalendar import WorkCalendar

# docs/ARCHITECTURE.md: table -> (grain, contract columns)
CONTRACT = {
    "campaign": ((), "campaign_code name document city_unit_id start_date end_date timezone"),
    "units": (("unit_id",), "unit_id name kind code sort_order"),
    "unit_aliases": (("alias",), "alias unit_id"),
    "group_members": (("group_id", "unit_id"), "group_id unit_id"),
    "periods": (("period_no",), "period_no label start_date end_date due_at month"),
    "months": (("month",), "month start_date end_date last_working_day ranking_at"),
    "tasks": (("task_no",), "task_no section_no section_title title summary deadline is_milestone"),
    "task_units": (("task_no", "unit_id", "role"), "task_no unit_id role"),
    "task_requirements": (
        ("task_no", "position"),
        "task_no position quote judged_by indicator_codes inputs at_least per note",
    ),
    "forms": (("form_code",), "form_code name grain key_column"),
    "form_columns": (
        ("form_code", "column_key"),
        "form_code column_key header data_type measure monotone position role values",
    ),
    "expected_submissions": (("form_code", "unit_id", "period_no"), "form_code unit_id period_no due_at"),
    "indicators": (
        ("indicator_code",),
        "indicator_code name kind value_rule direction deadline deadline_rule is_goal",
    ),
    "indicator_tasks": (("indicator_code", "task_no"), "indicator_code task_no"),
    "indicator_scopes": (("indicator_code", "unit_id"), "indicator_code unit_id"),
    "indicator_terms": (
        ("indicator_code", "term", "column_key"),
        "indicator_code term form_code agg column_key window",
    ),
    "indicator_conditions": (
        ("indicator_code", "term", "column_key", "op"),
        "indicator_code term column_key op values",
    ),
    "indicator_targets": (("indicator_code", "unit_id"), "indicator_code unit_id target from_denominator"),
    "indicator_milestones": (("indicator_code", "on_date"), "indicator_code on_date value"),
    "ranking_weights": (("scope", "component"), "scope component weight"),
    "oneoffs": (("code", "occurrence", "unit_id"), "code unit_id name due_at"),
}


@pytest.fixture(scope="module")
def calendar():
    return WorkCalendar.load()


@pytest.fixture(scope="module", params=["jiujiang-2022", "jiujiang-longterm-2022"])
def written(request, calendar):
    campaign = load_campaign(request.param)
    con = duckdb.connect()
    counts = write_reference(con, campaign, calendar)
    yield campaign, con, counts
    con.close()


def test_every_contract_table_with_its_columns_and_grain(written):
    _campaign, con, counts = written
    assert set(CONTRACT) == set(REF_TABLES)
    for table, (grain, columns) in CONTRACT.items():
        have = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'ref' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
        ]
        assert set(columns.split()) <= set(have), table
        if grain:
            keys = ", ".join(f'"{k}"' for k in grain)
            dupes = con.execute(f"select {keys} from ref.{table} group by all having count(*) > 1").fetchall()
            assert dupes == [], table
        assert con.execute(f"select count(*) from ref.{table}").fetchone()[0] == counts[f"ref.{table}"]


def test_jiujiang_2022_reference_content(calendar):
    campaign = load_campaign("jiujiang-2022")
    con = duckdb.connect()
    write_reference(con, campaign, calendar)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    assert q("select count(*) from ref.periods") == [(13,)]
    assert q("select month, last_working_day::varchar from ref.months order by 1") == [
        ("2022-04", "2022-04-29"),
        ("2022-05", "2022-05-31"),
        ("2022-06", "2022-06-30"),
    ]
    due = dict(q("select period_no, due_at from ref.periods"))
    assert due[4] == form_due_at(campaign, calendar, campaign.period(4))  # moved off the May holiday
    assert q("select count(distinct unit_id) from ref.expected_submissions where form_code = 'F1'") == [(16,)]
    f9 = {r[0] for r in q("select distinct unit_id from ref.expected_submissions where form_code = 'F9'")}
    assert f9 == {u for u in campaign.units if campaign.tasks_led_by(u)}
    assert q(
        "select target, from_denominator from ref.indicator_targets "
        "where indicator_code = 'I06' and unit_id in ('jiujiang', 'xunyang') order by unit_id"
    ) == [(46.0, False), (None, True)]
    assert q("select count(*) from ref.indicator_targets where indicator_code = 'I14'") == [(0,)]
    assert q("select count(*) from ref.indicator_terms where indicator_code = 'I14'") == [(5,)]
    assert q("select unit_id from ref.indicator_scopes where indicator_code = 'I09'") == [("zhongxin",)]
    assert q("select count(*) from ref.group_members where group_id = 'jiujiang'") == [(15,)]
    assert q("select is_milestone from ref.tasks where task_no in (4, 19) order by task_no") == [
        (False,),
        (True,),
    ]
    weights = q(
        "select component, tie_break_order from ref.ranking_weights where scope = 'county' order by 2"
    )
    assert weights == [("attainment", 1), ("timeliness", 2), ("quality", None)]
    assert q("select ranking_bottom_marked from ref.campaign") == [(3,)]
    assert q(
        'select column_key, role, "values" from ref.form_columns where role is not null order by position'
    ) == [
        ("status", "task_status", ["未启动", "推进中", "已完成"]),
        ("progress", "task_progress", None),
        ("difficulties", "task_difficulties", None),
        ("evidence", "task_evidence", None),
    ]


def test_rewrite_is_one_transaction(calendar, tmp_path):
    campaign = load_campaign("jiujiang-2022")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_reference(con, campaign, calendar)
    before = con.execute("select count(*) from ref.expected_submissions").fetchone()

    class Broken(WorkCalendar):
        def last_working_day_of_month(self, year, month):
            raise RuntimeError("calendar broke")

    broken = Broken({}, {}, calendar.years)
    broken._holidays, broken._workdays = calendar._holidays, calendar._workdays
    with pytest.raises(RuntimeError):
        write_reference(con, campaign, broken)
    assert con.execute("select count(*) from ref.expected_submissions").fetchone() == before
    # and a failure in the middle of writing rolls everything back
    original = write_reference.__globals__["_arrow_table"]

    def fail_on_tasks(table, rows):
        if table == "tasks":
            raise RuntimeError("disk full")
        return original(table, rows)

    write_reference.__globals__["_arrow_table"] = fail_on_tasks
    try:
        con.execute("delete from ref.units where kind = 'group'")
        with pytest.raises(RuntimeError, match="disk full"):
            write_reference(con, campaign, calendar)
    finally:
        write_reference.__globals__["_arrow_table"] = original
    assert con.execute("select count(*) from ref.units where kind = 'group'").fetchone() == (0,)
    write_reference(con, campaign, calendar)
    assert con.execute("select count(*) from ref.units where kind = 'group'").fetchone() == (1,)
