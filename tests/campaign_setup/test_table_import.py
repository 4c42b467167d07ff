"""Campaign set-up from the office's 责任分工表: the 2022 plan's task list imports to the shipped campaign,
export → import round-trips, a table with odd deadlines and unknown units gives the expected Chinese report,
and imported campaigns are found under $ROADSAFE_HOME/campaigns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from setup_tables import plan_tasks, write_odd_table, write_plan_table

from application.cli import main
from roadsafe.campaign import CampaignError, load_campaign
from roadsafe.campaign.imported import CONFIRM_FILE

TASK_FIELDS = ("no", "section", "title", "lead", "co", "deadline", "frequency")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ROADSAFE_HOME", str(home))
    monkeypatch.delenv("ROADSAFE_CAMPAIGN", raising=False)
    return home


def _import(*args: str) -> int:
    return main(["campaign", "import", *args])


def _fields(campaign, fields=TASK_FIELDS) -> list[dict]:
    return [{f: getattr(t, f) for f in fields} for t in campaign.tasks]


def test_the_2022_task_list_imports_to_the_shipped_campaign(home, tmp_path, capsys):
    table = write_plan_table(tmp_path / "2022分工表.xlsx")
    assert _import(str(table), "--code", "plan-2022", "--like", "jiujiang-2022", "--start", "2022-04-07") == 0
    out = capsys.readouterr().out
    assert "识别任务 26 项" in out and "发现" not in out  # no errors

    imported, shipped = load_campaign("plan-2022"), load_campaign("jiujiang-2022")
    assert imported.root == home / "campaigns" / "plan-2022"
    assert _fields(imported) == _fields(shipped)
    assert [(s.no, s.title) for s in imported.sections] == [(s.no, s.title) for s in shipped.sections]
    # The summary is the plan's own wording of the measures (the shipped YAML abridges it).
    plan = {t.no: t for _, tasks in plan_tasks()[0] for t in tasks}
    assert all(t.summary == plan[t.no].measures for t in imported.tasks)
    assert imported.units_def == shipped.units_def
    assert (imported.frame.start, imported.frame.end) == (dt.date(2022, 4, 7), dt.date(2022, 6, 30))
    assert list(imported.forms) == ["F9"] and imported.indicators == {}
    assert imported.frame.period == shipped.frame.period and imported.frame.ranking == shipped.frame.ranking

    # Figures stated in the text are picked out, each flagged for confirmation.
    notes = {t.no: [r.note for r in t.requirements] for t in imported.tasks}
    assert notes[4] == [
        f"从表格文字识别的目标：{x}，待确认（确认后可改为按指标判断）。" for x in ("≥95%", "≥99%")
    ]
    assert [r.quote for r in imported.task(4).requirements] == [
        "重点车辆检验率要达95%以上",
        "注销率达99%以上",
    ]
    assert notes[6][0] == "从表格文字识别的目标：5处，待确认（确认后可改为按指标判断）。"
    assert (
        "41处" in notes[6][1]
        and "25条" in notes[6][2]
        and "3.15万辆" in notes[14][0]
        and "100%" in notes[15][0]
    )
    assert notes[8] == [] and notes[9] == []  # hours and categories are not targets
    confirm = (imported.root / CONFIRM_FILE).read_text(encoding="utf-8")
    assert "第7行（第4项任务）、“具体措施”列（C列）" in confirm and "识别出目标值“≥95%”" in confirm
    assert "第2行、“工作推进落实情况”列（G列）：未导入（不属于任务定义）。" in confirm

    # The operator's commands run on the imported campaign as on a shipped one.
    assert main(["--campaign", "plan-2022", "export", "tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        len(lines) == 27
        and lines[20] == '20,"充实农村地区""两站两员""管理力量",各县(市、区)人民政府,,2022-05-31'
    )


def test_export_then_import_gives_the_same_tasks(home, tmp_path, capsys):
    first = tmp_path / "导出.xlsx"
    assert main(["campaign", "export", "--code", "jiujiang-2022", "-o", str(first)]) == 0
    assert _import(str(first), "--code", "round-1", "--start", "2022-04-07") == 0
    shipped, once = load_campaign("jiujiang-2022"), load_campaign("round-1")
    assert _fields(once, (*TASK_FIELDS, "summary")) == _fields(shipped, (*TASK_FIELDS, "summary"))

    second = tmp_path / "再导出.xlsx"
    assert main(["--campaign", "round-1", "campaign", "export", "-o", str(second)]) == 0
    assert _import(str(second), "--code", "round-2", "--like", "round-1", "--start", "2022-04-07") == 0
    twice = load_campaign("round-2")
    assert _fields(twice, (*TASK_FIELDS, "summary", "requirements")) == _fields(
        once, (*TASK_FIELDS, "summary", "requirements")
    )
    assert [(s.no, s.title) for s in twice.sections] == [(s.no, s.title) for s in shipped.sections]


ODD_ERRORS = [
    "第4行（第1项任务）、“配合单位”列（D列）：“市交通运输局、市发改委”中的“市发改委”不在已知单位中。"
    "如为已有单位的其他写法，请改用标准名称或在 units.yml 中为该单位添加别名；如确为新单位，请核对名称后加"
    " --accept-new-units 重新导入",
    "第6行（第3项任务）、“完成时限”列（E列）：“按时间节点”未给出具体日期。"
    "请填写具体完成日期，如“2022年6月30日前”或“6月底前”",
    "第7行（第4项任务）、“牵头单位”列（C列）：“市融媒体中心”不在已知单位中。"
    "如为已有单位的其他写法，请改用标准名称或在 units.yml 中为该单位添加别名；如确为新单位，请核对名称后加"
    " --accept-new-units 重新导入",
    "第8行（第5项任务）、“完成时限”列（E列）：“13月底”不是有效日期（月份或日期超出范围）。"
    "请填写具体完成日期，如“2022年6月30日前”或“6月底前”",
]
ODD_NOTES = [
    "第4行（第1项任务）、“工作目标”列（F列）：“排查率达100%”中识别出目标值“100%”（“排查率达100%”）。"
    "此目标从表格文字识别，请核对；如需按报表数据考核，请在 indicators.yml 中设定指标",
    "第5行（第2项任务）、“配合单位”列（D列）：“市直有关单位”未写明具体单位，已不列入协作单位。"
    "请写明具体单位名称；如指全部县区，请写“各县(市、区)人民政府”",
    "第5行（第2项任务）、“完成时限”列（E列）：“5月中旬”按该旬最后一天（5月20日）计。请核对完成时限",
    "第7行（第4项任务）、“完成时限”列（E列）：“长期坚持”无具体日期，完成时限按活动结束日期计。请核对完成时限",
]


def test_odd_deadlines_and_unknown_units_are_reported_and_nothing_is_written(home, tmp_path, capsys):
    table = write_odd_table(tmp_path / "百日攻坚.xlsx")
    assert _import(str(table), "--code", "bairi", "--year", "2023", "--name", "百日攻坚行动") == 1
    out = capsys.readouterr().out
    for n, message in enumerate(ODD_ERRORS, 1):
        assert f"  {n}. {message}\n" in out
    assert "发现 4 处错误（须改正后重新导入）" in out
    for message in ODD_NOTES:
        assert message in out
    assert "未写入任何文件" in out
    assert not (home / "campaigns" / "bairi").exists()
    assert not list(home.glob("campaigns/*"))  # no staging folder left behind

    # A draft is written with every problem listed; names not known are added as new units to confirm,
    # an unreadable deadline stands at the campaign's end until corrected.
    assert _import(str(table), "--code", "bairi", "--year", "2023", "--name", "百日攻坚行动", "--draft") == 0
    root = home / "campaigns" / "bairi"
    confirm = (root / CONFIRM_FILE).read_text(encoding="utf-8")
    assert "发现 2 处错误" in confirm and ODD_ERRORS[1] in confirm and ODD_ERRORS[3] in confirm
    assert all(note in confirm for note in ODD_NOTES)
    assert (
        "第7行（第4项任务）、“牵头单位”列（C列）：“市融媒体中心”不在已知单位中，已作为新增单位（编号 dept02）"
        in confirm
    )
    draft = load_campaign("bairi")
    assert draft.units["dept01"].name == "市发改委" and draft.task(4).lead == ["dept02"]
    assert draft.task(2).co == [] and draft.task(2).deadline == dt.date(2023, 5, 20)
    assert draft.task(3).deadline == draft.frame.end == dt.date(2023, 6, 30)


def test_a_clean_table_with_new_units_imports_when_they_are_accepted(home, tmp_path, capsys):
    csv = tmp_path / "分工表.csv"
    csv.write_text(
        "2023年春运道路交通安全工作责任分工表\n"
        "序号,工作任务,责任单位,完成时限\n"
        "1,开展春运客车安全检查,市交通运输局、市公安局,2月底前\n"
        "2,开展农村地区宣传,市融媒体中心、各县(市、区)政府,2023年3月15日前\n",
        encoding="gb18030",
    )
    assert _import(str(csv), "--code", "chunyun-2023", "--start", "2023-01-10") == 1
    assert "“市融媒体中心”不在已知单位中" in capsys.readouterr().out
    assert _import(str(csv), "--code", "chunyun-2023", "--start", "2023-01-10", "--accept-new-units") == 0
    out = capsys.readouterr().out
    assert "第2行：表中没有“牵头单位”列，已按惯例以“责任单位”中排在首位的单位为牵头单位" in out
    c = load_campaign("chunyun-2023")
    assert c.frame.name == "2023年春运道路交通安全工作"
    assert [(t.lead, t.co, t.deadline) for t in c.tasks] == [
        (["jiaotong"], ["gongan"], dt.date(2023, 2, 28)),
        (["dept01"], ["counties"], dt.date(2023, 3, 15)),
    ]
    assert c.units["dept01"].name == "市融媒体中心" and c.frame.end == dt.date(2023, 3, 15)


def test_codes_are_unique_across_shipped_and_imported_campaigns(home, tmp_path, capsys):
    table = write_plan_table(tmp_path / "t.xlsx")
    assert _import(str(table), "--code", "jiujiang-2022") == 2
    assert "已被程序自带的活动使用" in capsys.readouterr().err
    assert _import(str(table), "--code", "../x") == 2
    # A folder placed by hand under the home with a shipped code is refused, not silently preferred.
    (home / "campaigns" / "jiujiang-2022").mkdir(parents=True)
    with pytest.raises(CampaignError, match="同时存在于程序自带的活动"):
        load_campaign("jiujiang-2022")
    # `--home` finds the home's campaigns as $ROADSAFE_HOME does.
    (home / "campaigns" / "jiujiang-2022").rmdir()
    assert _import(str(table), "--code", "plan-2022", "--start", "2022-04-07") == 0
    other = tmp_path / "other"
    other.mkdir()
    (home / "campaigns").rename(other / "campaigns")
    assert main(["--home", str(other), "--campaign", "plan-2022", "export", "tasks"]) == 0
    assert main(["--campaign", "plan-2022", "export", "tasks"]) == 2


def test_a_table_laid_out_like_the_2019_responsibility_table(home, tmp_path, capsys):
    """目标任务 with the number in the text, 参加单位, a section row of empty cells, the header repeated, a
    lead cell that is a sentence of duties, and columns the units fill in later."""
    csv = tmp_path / "分工表.csv"
    csv.write_text(
        "《推进道路交通安全2019年工作要点》重点工作责任分工表,,,,,\n"
        "目标任务,牵头单位,参加单位,完成时限,工作推进落实情况,推进中的困难问题及有关建议\n"
        "一、加强隐患排查,,,,,\n"
        "1.排查临水临崖路段。,国土空间规划由市自然资源局牵头负责;综合交通规划由市交通运输局牵头负责,"
        "各县(市、区)政府,2019年12月31日,,\n"
        "2.开展校车安全检查。,市教育局,市公安局、市直有关单位,2019年12月31日,,\n"
        "目标任务,牵头单位,参加单位,完成时限,工作推进落实情况,推进中的困难问题及有关建议\n"
        "二、加强宣传,,,,,\n"
        "3.曝光典型案例。,市委宣传部,,2019年12月31日,,\n",
        encoding="utf-8",
    )
    assert _import(str(csv), "--code", "yaodian-2019", "--start", "2019-07-01") == 1
    out = capsys.readouterr().out
    assert "识别任务 3 项" in out and "发现 1 处错误" in out
    assert (
        "  1. 第4行（第1项任务）、“牵头单位”列（B列）：“国土空间规划由市自然资源局牵头负责;综合交通规划由市交通运输局牵头负责”"
        "是一段分工说明，不是单位名单。请只填写单位名称；分别由不同单位牵头的事项，请拆成单独的任务行\n"
    ) in out
    assert (
        "第5行（第2项任务）、“参加单位”列（C列）：“市公安局、市直有关单位”中的“市直有关单位”未写明具体单位"
        in out
    )
    assert "第2行、“推进中的困难问题及有关建议”列（F列）：未导入（不属于任务定义）" in out

    csv.write_text(
        csv.read_text(encoding="utf-8").replace(
            "国土空间规划由市自然资源局牵头负责;综合交通规划由市交通运输局牵头负责", "市公安局"
        ),
        encoding="utf-8",
    )
    assert _import(str(csv), "--code", "yaodian-2019", "--start", "2019-07-01") == 0
    c = load_campaign("yaodian-2019")
    assert c.frame.name == "推进道路交通安全2019年工作要点"
    assert [(s.no, s.title) for s in c.sections] == [(1, "加强隐患排查"), (2, "加强宣传")]
    assert [(t.no, t.section, t.title, t.lead, t.co) for t in c.tasks] == [
        (1, 1, "排查临水临崖路段", ["gongan"], ["counties"]),
        (2, 1, "开展校车安全检查", ["jiaoyu"], ["gongan"]),
        (3, 2, "曝光典型案例", ["xuanchuan"], []),
    ]
    assert {t.deadline for t in c.tasks} == {dt.date(2019, 12, 31)}
