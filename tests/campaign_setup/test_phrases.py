"""Deadline phrases and numeric targets as Chinese plans write them."""

from __future__ import annotations

import datetime as dt

import pytest

from roadsafe.campaign.deadlines import parse_deadline
from roadsafe.campaign.targets import find_targets


@pytest.mark.parametrize(
    ("text", "day", "note"),
    [
        ("2022年6月30日前", dt.date(2022, 6, 30), None),
        ("2022 年 4 月底前", dt.date(2022, 4, 30), None),
        ("6月底前", dt.date(2022, 6, 30), None),
        ("六月底", dt.date(2022, 6, 30), None),
        ("2月底前", dt.date(2022, 2, 28), None),
        ("2022.6.30", dt.date(2022, 6, 30), None),
        ("4月底前完成排查", dt.date(2022, 4, 30), None),
        ("5月上旬", dt.date(2022, 5, 10), "按该旬最后一天（5月10日）计"),
        ("5月中旬", dt.date(2022, 5, 20), "按该旬最后一天（5月20日）计"),
        ("5月下旬", dt.date(2022, 5, 31), "按该旬最后一天（5月31日）计"),
        ("二季度末", dt.date(2022, 6, 30), "按该季度最后一天（6月30日）计"),
        ("上半年", dt.date(2022, 6, 30), None),
        ("年底前", dt.date(2022, 12, 31), None),
        ("2023年底前", dt.date(2023, 12, 31), None),
        (
            "4月底前完成排查，6月底前完成整改",
            dt.date(2022, 6, 30),
            "含多个时间节点，以最后一个（2022年6月30日前）为完成时限",
        ),
        (dt.datetime(2022, 5, 31, 0, 0), dt.date(2022, 5, 31), None),
    ],
)
def test_dated_phrases(text, day, note):
    deadline = parse_deadline(text, 2022)
    assert (deadline.day, deadline.note, deadline.error) == (day, note, None)


@pytest.mark.parametrize(
    ("text", "frequency"),
    [("长期坚持", None), ("持续推进", None), ("常态化推进", None), ("每季度", "quarterly")],
)
def test_phrases_without_a_date_mean_the_campaign_end(text, frequency):
    deadline = parse_deadline(text, 2022)
    assert (deadline.day, deadline.ongoing, deadline.frequency, deadline.error) == (
        None,
        True,
        frequency,
        None,
    )
    assert "按活动结束日期计" in deadline.note


@pytest.mark.parametrize(
    ("text", "year", "error"),
    [
        ("按时间节点", 2022, "未给出具体日期"),
        ("按要求", 2022, "未给出具体日期"),
        ("13月底", 2022, "不是有效日期（月份或日期超出范围）"),
        ("2月30日", 2022, "不是有效日期（月份或日期超出范围）"),
        ("尽快", 2022, "无法识别为日期"),
        ("", 2022, "未填写完成时限"),
        ("6月底前", None, "时限未写年份，且无法从表格标题或 --year 确定年份"),
    ],
)
def test_unreadable_phrases_say_why(text, year, error):
    deadline = parse_deadline(text, year)
    assert (deadline.day, deadline.error) == (None, error)


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("在6月底前,重点车辆检验率要达95%以上,注销率达99%以上。", ["≥95%", "≥99%"]),
        ("重点驾驶人换证率达99.50%以上", ["≥99.50%"]),
        ("完成对中心城区3.15万辆共享电动车免费登记上牌工作", ["3.15万辆"]),
        ("完成对中心城区 3000 余辆工程车安装放大号牌工作", ["3000余辆"]),
        ("头盔配备率达到100%的工作目标", ["100%"]),
        ("隐患路段整改率≥90%", ["≥90%"]),
        ("对 2018 年以来发生一次死亡 2 人以上交通事故的 5 处重点路口", ["5处"]),
        ("加强凌晨0时至6时巡逻管控,落实 24 小时动态监控制度", []),
        ("电动自行车 4类违法,至少每5公里增设一处标志", []),
    ],
)
def test_targets_in_task_text(text, labels):
    assert [t.label for t in find_targets(text)] == labels
