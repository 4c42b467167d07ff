"""Campaign definitions: both shipped definitions load; broken ones are refused with the reason."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from roadsafe.campaign import CampaignError, campaigns_dir, load_campaign


def test_2022_campaign_loads_everything_the_spec_names():
    c = load_campaign("jiujiang-2022")
    assert len(c.tasks) == 26
    assert [t.no for t in c.tasks] == list(range(1, 27))
    assert len(c.counties) == 15
    assert len(c.departments) == 12
    assert sorted(c.forms) == [f"F{i}" for i in range(1, 10)]
    assert sorted(c.indicators) == [f"I{i:02d}" for i in range(1, 15)]
    assert c.groups["zhongxin"] == ["xunyang", "lianxi", "chaisang", "jingkaiqu", "balihu"]
    assert {u.code for u in c.counties if u.code} >= {"360403", "360402", "360483"}
    # Lead and co units exactly as the plan states them, for a few tasks with several units.
    assert c.task(6).lead == ["gonglu", "jiaotong"]
    assert c.task(18).co == ["jiaotong", "zhujian", "gonglu", "chengguan"]
    assert c.task(20).lead == ["counties"]
    assert c.task(12).deadline == dt.date(2022, 5, 31)
    periods = c.periods()
    assert len(periods) == 13
    assert (periods[0].start, periods[0].end) == (dt.date(2022, 4, 7), dt.date(2022, 4, 13))
    assert (periods[-1].start, periods[-1].end, periods[-1].label) == (dt.date(2022, 6, 30),) * 2 + (
        "第13周",
    )


def test_task_forms_name_their_columns_by_role():
    for code, form_code in (("jiujiang-2022", "F9"), ("jiujiang-longterm-2022", "L1")):
        form = load_campaign(code).forms[form_code]
        roles = {c.role: c.key for c in form.columns if c.role}
        assert roles == {
            "task_status": "status",
            "task_progress": "progress",
            "task_difficulties": "difficulties",
            "task_evidence": "evidence",
        }
        # the status words run from not started to done: dbt reads their meaning from this order
        assert form.column_with_role("task_status").values == ["未启动", "推进中", "已完成"]


def test_longterm_campaign_loads_with_its_own_units_and_periods():
    c = load_campaign("jiujiang-longterm-2022")
    assert len(c.tasks) == 20
    assert c.frame.document == "九府办发[2022]11号"
    assert [p.label for p in c.periods()] == ["2022年上半年", "2022年下半年"]
    assert c.resolve_unit("市委政法委").id == "zhengfawei"
    assert c.resolve_unit("九江市委政法委").id == "zhengfawei"
    assert c.indicators == {}


@pytest.mark.parametrize(
    ("text", "unit_id"),
    [
        ("浔阳区", "xunyang"),
        ("浔阳", "xunyang"),
        ("九江市浔阳区", "xunyang"),
        ("浔阳区人民政府", "xunyang"),
        (" 浔 阳 区 ", "xunyang"),
        ("经开区", "jingkaiqu"),
        ("开发区", "jingkaiqu"),
        ("八里湖新区管委会", "balihu"),
        ("360483", "lushan"),
        ("九江市公安局", "gongan"),
        ("交管支队", "gongan"),
        ("ｇｏｎｇａｎ", "gongan"),
        ("九江市委宣传部", "xuanchuan"),
    ],
)
def test_unit_aliases_resolve(text, unit_id):
    assert load_campaign("jiujiang-2022").resolve_unit(text).id == unit_id


@pytest.mark.parametrize("text", ["", "南昌市", "浔阳县", "公安"])
def test_unknown_unit_names_do_not_resolve(text):
    assert load_campaign("jiujiang-2022").resolve_unit(text) is None


def _broken_copy(tmp_path: Path, filename: str, edit) -> Path:
    root = tmp_path / "broken"
    shutil.copytree(campaigns_dir() / "jiujiang-2022", root)
    path = root / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if filename != "tasks.yml" else None
    if filename == "tasks.yml":
        text = path.read_text(encoding="utf-8")
        path.write_text(edit(text), encoding="utf-8")
    else:
        edit(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("filename", "edit", "expected"),
    [
        (
            "tasks.yml",
            lambda t: t.replace("lead: [shijian]", "lead: [shijianju]"),
            "tasks.yml 第13项任务（加强电动车安全监管）：牵头单位“shijianju”不在 units.yml 中。",
        ),
        (
            "tasks.yml",
            lambda t: t.replace("deadline: 2022-05-31", "deadline: 2022-08-31", 1),
            "tasks.yml 第3项任务（强化辖区基础信息大摸底）：完成时限 2022-08-31 不在活动期内（2022-04-07至2022-06-30）。",
        ),
        (
            "indicators.yml",
            lambda d: d["I02"]["numerator"].update(column="checked"),
            "indicators.yml 指标 I02（重点车辆检验率）：分子引用的列“checked”不在报表 F1 中。",
        ),
        (
            "indicators.yml",
            lambda d: d["I07"]["numerator"]["where"][0].update(eq="十大路段"),
            "indicators.yml 指标 I07（十大事故多发路段整改完成数）：分子的筛选值“十大路段”不是列“category”的可选值。",
        ),
        (
            "indicators.yml",
            lambda d: d["I09"].update(scopes=["downtown"]),
            "indicators.yml 指标 I09（中心城区共享电动车登记上牌数）：统计范围“downtown”既不是 county、city，也不是已定义的分组。",
        ),
        (
            "forms.yml",
            lambda d: d["F1"].update(submitters=["gongan", "police"]),
            "forms.yml 报表 F1（重点车辆隐患清零周报）：报送单位“police”不在 units.yml 中。",
        ),
        (
            "forms.yml",
            lambda d: d["F9"]["columns"][1].pop("role"),
            "forms.yml 报表 F9（重点工作推进情况表）：按任务报送的报表须有一列 role 为 task_status 的完成状态列。",
        ),
        (
            "forms.yml",
            lambda d: d["F9"]["columns"][2].update(role="task_difficulties"),
            "forms.yml 报表 F9（重点工作推进情况表）：列角色 role “task_difficulties”只能用于一列。",
        ),
        (
            "forms.yml",
            lambda d: d["F1"]["columns"][0].update(role="task_progress"),
            "forms.yml 报表 F1（重点车辆隐患清零周报）：列角色 role 只用于按任务报送（grain: task）的报表。",
        ),
        (
            "forms.yml",
            lambda d: d["F9"]["columns"][1].update(type="text"),
            "forms.yml 报表 F9（重点工作推进情况表）：完成状态列“完成状态”须为枚举列，且至少有两个可选值"
            "（第一个表示未启动，最后一个表示已完成）。",
        ),
        (
            "forms.yml",
            lambda d: d["F9"]["columns"][1].update(role="status"),
            "forms.yml 报表 F9 中 columns.1.role 有误：Input should be 'task_status', 'task_progress', "
            "'task_difficulties' or 'task_evidence'（当前值：'status'）",
        ),
        (
            "units.yml",
            lambda d: d["counties"][1]["aliases"].append("浔阳"),
            "units.yml：名称或别名“浔阳”同时指向“浔阳区”和“濂溪区”。",
        ),
        (
            "units.yml",
            lambda d: d["groups"][0]["members"].append("gongan"),
            "units.yml：分组“中心城区”的成员“gongan”不是已定义的县区单位。",
        ),
        (
            "indicators.yml",
            lambda d: d["I07"].pop("quote"),
            "indicators.yml 指标 I07（十大事故多发路段整改完成数）：目标值既未引用方案原文（quote），也未注明为整治办的假定（assumption）。",
        ),
        (
            "indicators.yml",
            lambda d: d["I10"].update(quote="完成对中心城区共享电动车头盔配备率达到95%的工作目标"),
            "indicators.yml 指标 I10（中心城区共享电动车头盔配备率）：引文“完成对中心城区共享电动车头盔配备率达到95%的工作目标”"
            "在方案原文（document.txt）中找不到。",
        ),
        (
            "indicators.yml",
            lambda d: d["I12"].update(target=1.0, direction="up", deadline="2022-06-30"),
            "indicators.yml 指标 I12（道路交通隐患整改率）：目标值既未引用方案原文（quote），也未注明为整治办的假定（assumption）。",
        ),
        (
            "tasks.yml",
            lambda t: t.replace("至少每5公里增设一处货车靠右行标志", "至少每3公里增设一处货车靠右行标志"),
            "tasks.yml 第16项任务（推行货车靠右通行措施）：引文“至少每3公里增设一处货车靠右行标志”在方案原文（document.txt）中找不到。",
        ),
    ],
)
def test_broken_definitions_are_refused_with_the_reason(tmp_path, filename, edit, expected):
    root = _broken_copy(tmp_path, filename, edit)
    with pytest.raises(CampaignError) as err:
        load_campaign(root)
    assert expected in err.value.problems
    assert expected in str(err.value)


def test_shape_errors_name_the_file_and_field(tmp_path):
    root = _broken_copy(tmp_path, "campaign.yml", lambda d: d.update(start="2022-13-01"))
    with pytest.raises(CampaignError) as err:
        load_campaign(root)
    assert any(p.startswith("campaign.yml 中 start 有误") for p in err.value.problems)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CampaignError, match="找不到活动定义目录"):
        load_campaign(tmp_path / "nope")


# --------------------------------------------------------------------------- fidelity to the plan


def test_every_target_quotes_the_plan_or_is_the_offices_assumption():
    c = load_campaign("jiujiang-2022")
    assert c.document_text and "九府办字[2022]36号" in c.document_text
    for code, ind in c.indicators.items():
        if ind.target is None:
            assert ind.direction == "none", code
            continue
        assert ind.quote or ind.assumption, code
        if ind.quote:
            assert c.quotes_document(ind.quote), code
    # tasks 1 and 18: no rectification-rate target (the plan asks for a list and one check by 4月底)
    assert c.indicators["I12"].target is None and c.indicators["I12"].direction == "none"
    assert [r.judged_by for r in c.task(1).requirements] == ["lead_report"]
    assert [r.judged_by for r in c.task(18).requirements] == ["lead_report"]
    # the goal: the plan's city-wide figure; county targets and the window are the office's
    goal = c.indicators["I13"]
    assert goal.quote == "实现全年安全生产交通事故死亡人数下降50%的工作目标"
    assert goal.target_is_assumption("city", "jiujiang") is False
    assert goal.target_is_assumption("county", "xunyang") is True
    assert "全年" in goal.assumption and goal.deadline == dt.date(2022, 12, 31)


def test_the_smaller_demands_of_the_plan_are_captured():
    c = load_campaign("jiujiang-2022")
    task4 = {r.judged_by: r for r in c.task(4).requirements}
    assert "全省平均水平以上" in task4["office_input"].quote and task4["office_input"].inputs
    # the provincial averages are the office's input, empty until entered
    assert set(task4["office_input"].inputs) <= set(c.frame.office_inputs)
    assert all(c.frame.office_inputs[n] is None for n in task4["office_input"].inputs)
    assert any("至少每5公里增设一处货车靠右行标志" in r.quote for r in c.task(16).requirements)
    # task 10 (非法营运) is not counted by a form without such a column
    assert all(10 not in ind.tasks for ind in c.indicators.values())
    zhongxin = next(g for g in c.units_def.groups if g.id == "zhongxin")
    assert zhongxin.assumption and "赛城湖" in zhongxin.assumption
    assert {o.name for o in c.units_def.omitted} == {"庐山西海风景名胜区管委会", "鄱阳湖生态科技城管委会"}
    assert c.frame.co_duty and "工作推进落实情况" in c.frame.co_duty


def test_the_hazard_ledger_may_come_from_the_lead_of_tasks_1_and_18_without_being_expected():
    from ingest.validate import submitter_problem

    c = load_campaign("jiujiang-2022")
    assert c.task(1).lead == c.task(18).lead == ["gongan"]
    assert submitter_problem(c, c.forms["F4"], c.units["gongan"]) is None
    assert "gongan" not in c.form_submitters("F4")  # not expected weekly: never late or missing
    assert submitter_problem(c, c.forms["F4"], c.units["jiaoyu"]) is not None
