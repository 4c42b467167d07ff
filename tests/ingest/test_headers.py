"""Header matching, header-row finding, data-row classification and metadata detection.

These tests work on cell grids as the readers produce them (lists of rows of text, 0-based) and on Arrow
columns; whole files are covered in ``test_readers.py``.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from ingest.detect import detect_form, detect_period, detect_unit, find_dates, find_week, row_text
from ingest.headers import (
    SKIP_BLANK,
    SKIP_FOOTER,
    SKIP_TOTAL,
    ColumnMatcher,
    classify_rows,
    find_header,
    normalise_header,
    strip_hints,
)
from roadsafe.campaign import load_campaign


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("jiujiang-2022")


def grid(*rows):
    """Rows of cells; ``""`` and ``None`` are empty, like the readers' output."""
    return [[c if c not in ("", None) else None for c in row] for row in rows]


# ---------------------------------------------------------------------------------------------- matching


def test_normalise_header_folds_width_space_and_edges():
    assert normalise_header("　重点车辆\n总数（辆）＊") == "重点车辆总数(辆)"
    assert normalise_header("*县区：") == "县区"
    assert normalise_header("ＡＢＣ１２３") == "ABC123"
    assert normalise_header(None) == ""
    assert strip_hints("重点车辆总数(单位:辆)") == "重点车辆总数"
    assert strip_hints("信号灯(含闪光警告信号灯)【必填】") == "信号灯"


@pytest.mark.parametrize(
    ("form", "text", "expected"),
    [
        ("F1", "县区", ("county", 3)),
        ("F1", "县（市、区）", ("county", 2)),  # a synonym with parentheses, full-width
        ("F1", "　已检验数（辆）", ("inspected", 2)),  # unit hint removed
        ("F1", "重点车辆总数\n（单位：辆）*", ("vehicles_total", 2)),
        ("F1", "已检车辆数", ("inspected", 2)),
        ("F1", "截至本周末已检验数", ("inspected", 1)),  # contains one column's name
        ("F1", "检验情况/已检验数", ("inspected", 1)),  # a joined two-row header
        ("F1", "填报单位：市公安局", None),  # metadata, not a header
        ("F1", "2022年重点车辆隐患清零周报（第5周）", None),  # a title
        ("F1", "备注", None),
        ("F4", "整改情况/整改完成日期", None),  # names two columns: ambiguous
        ("F5", "信号灯（含闪光警告信号灯）", ("signal_light", 2)),
        ("F9", "序号", ("task_no", 2)),
    ],
)
def test_column_matcher(campaign, form, text, expected):
    assert ColumnMatcher(campaign.forms[form]).match(text) == expected


# ---------------------------------------------------------------------------------------------- header row


F1_HEADER = ["县区", "重点车辆总数", "应检验数", "已检验数", "应注销数", "已注销数"]


def test_header_below_title_and_unit_rows(campaign):
    head = grid(
        ["2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）"],
        ["填报单位：市公安局", None, "填报日期：2022年5月12日"],
        [],
        F1_HEADER,
        ["浔阳区", "1", "2", "3", "4", "5"],
    )
    m = find_header(head, [(0, 0, 0, 5), (1, 0, 1, 1)], campaign.forms["F1"])
    assert m.row == 3 and m.rows == 1 and m.eligible
    assert m.columns == dict(zip(campaign.forms["F1"].column_keys, range(6), strict=True))
    assert m.extra_headers == [] and m.missing_required == [] and m.missing_optional == []


def test_two_row_merged_header_is_joined(campaign):
    head = grid(
        ["填报单位：市公安局"],
        ["县区", "重点车辆总数", "检验情况", None, "注销情况", None],
        [None, None, "应检验数", "已检验数", "应注销数", "已注销数"],
        ["浔阳区", "1", "2", "3", "4", "5"],
    )
    merges = [(1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 1, 3), (1, 4, 1, 5)]
    m = find_header(head, merges, campaign.forms["F1"])
    assert (m.row, m.rows) == (2, 2)
    assert m.headers == {
        "county": "县区",
        "vehicles_total": "重点车辆总数",
        "inspect_due": "检验情况/应检验数",
        "inspected": "检验情况/已检验数",
        "cancel_due": "注销情况/应注销数",
        "cancelled": "注销情况/已注销数",
    }
    assert m.extra_headers == []


def test_two_row_header_without_merges_as_csv_saves_it(campaign):
    head = grid(
        ["县区", "重点车辆总数", "检验情况", None, "注销情况", None],
        [None, None, "应检验数", "已检验数", "应注销数", "已注销数"],
    )
    m = find_header(head, [], campaign.forms["F1"])
    assert (m.row, m.rows) == (1, 2)
    assert m.headers["inspected"] == "检验情况/已检验数"
    assert m.headers["county"] == "县区"


def test_parent_text_matches_when_child_words_do_not(campaign):
    # Children too short to match alone; "检验情况/应检验" would not either, but a parent over an empty child
    # (县区 merged down) does.
    head = grid(["县区", "应检验", "已检验"], [None, "本周", "本周"])
    m = find_header(head, [(0, 0, 1, 0)], campaign.forms["F1"])
    assert m.columns == {"county": 0, "inspect_due": 1, "inspected": 2}
    assert m.row == 0  # the second row adds nothing: the header is the first row alone


def test_full_width_headers_in_any_order(campaign):
    head = grid(["已注销数（辆）", "　县　区　", "应检验数＊", "重点车辆总数：", "已检验数", "应注销数"])
    m = find_header(head, [], campaign.forms["F1"])
    assert m.columns == {
        "county": 1,
        "vehicles_total": 3,
        "inspect_due": 2,
        "inspected": 4,
        "cancel_due": 5,
        "cancelled": 0,
    }
    assert m.headers["county"] == "　县　区　"


def test_missing_required_extra_and_duplicate(campaign):
    head = grid(["序号", "隐患编号", "县区", "道路名称", "隐患类型", "发现日期", "整改状态", "备注", "县区"])
    m = find_header(head, [], campaign.forms["F4"])
    assert m.missing_required == ["road_type"]
    assert m.missing_optional == ["fixed_on", "responsible_unit"]
    assert m.extra_headers == ["序号", "备注", "县区"]  # the second 县区 is reported, the first is kept
    assert m.columns["county"] == 2
    assert m.eligible  # 6 of 7 required columns


def test_official_header_beats_a_synonym_further_left(campaign):
    head = grid(["序号", "任务编号", "完成状态", "工作推进落实情况"])
    m = find_header(head, [], campaign.forms["F9"])
    assert m.columns["task_no"] == 1
    assert m.extra_headers == ["序号"]


def test_best_row_wins_and_ties_go_to_the_first(campaign):
    head = grid(["县区", "备注"], F1_HEADER, F1_HEADER)
    m = find_header(head, [], campaign.forms["F1"])
    assert m.row == 1


def test_too_few_matches_is_not_eligible(campaign):
    m = find_header(grid(["县区", "姓名", "电话"]), [], campaign.forms["F1"])
    assert m is not None and m.score == 1 and not m.eligible
    assert find_header(grid(["姓名", "电话"]), [], campaign.forms["F1"]) is None


def test_title_banner_is_not_a_parent_row(campaign):
    head = grid(["F1 重点车辆隐患清零周报"], F1_HEADER)
    m = find_header(head, [(0, 0, 0, 5)], campaign.forms["F1"])
    assert (m.row, m.rows) == (1, 1)
    assert m.headers["county"] == "县区"


# ---------------------------------------------------------------------------------------------- data rows


def column(*values):
    return pa.chunked_array([pa.array(list(values), type=pa.string())])


def test_classify_rows_blank_total_footer():
    # Excel rows 1-3: title, unit line, header; then 4 data, 5 blank, 6 合计 (spaced), 7 data,
    # 8 only 序号 filled (blank), 9 footer, 10 empty, 11 a note below the footer
    top = ("标题", "填报单位：市公安局", "序号")
    first = column(*top, "浔阳区", None, "合　计", "濂溪区", None, "填报人：张三", None, "说明")
    second = column(None, None, "重点车辆总数", "1", None, "2", "3", None, None, None, None)
    serial = column(None, None, "序号", "1", None, None, "2", "3", None, None, None)
    footer, skipped, keep = classify_rows([serial, first, second], [first, second], 3, 11)
    assert footer == 9
    assert skipped == [(5, SKIP_BLANK), (6, SKIP_TOTAL), (8, SKIP_BLANK), (9, SKIP_FOOTER), (11, SKIP_FOOTER)]
    assert keep.to_pylist() == [True, False, False, True, False, False, False, False]


@pytest.mark.parametrize(
    "text",
    ["填报人：", "联系电话：", "审核人", "制表人：李四", "备注：无", "注：本表为累计数", "已核实 填报人："],
)
def test_footer_words(text):
    span = [column("县区", "浔阳区", text)]
    footer, skipped, keep = classify_rows(span, [column("县区", "浔阳区", "1")], 1, 3)
    assert footer == 3
    assert skipped == [(3, SKIP_FOOTER)]
    assert keep.to_pylist() == [True, False]


@pytest.mark.parametrize("text", ["合计", "小计", "总 计", "全市合计", "合计："])
def test_total_words(text):
    _, skipped, keep = classify_rows([column("县区", text)], [column("重点车辆总数", "9")], 1, 2)
    assert skipped == [(2, SKIP_TOTAL)]


def test_classify_rows_without_rows():
    footer, skipped, keep = classify_rows([column()], [column()], 3, 3)
    assert (footer, skipped, len(keep)) == (None, [], 0)


# ---------------------------------------------------------------------------------------------- detection


def test_detect_form_from_title(campaign):
    assert detect_form(["2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）"], campaign) == "F1"
    assert detect_form(["事故多发路口（路段）改造台账"], campaign) == "F5"
    assert detect_form(["事故多发路口改造台账"], campaign) == "F5"
    assert detect_form(["填报单位：市公安局"], campaign) is None


def test_find_week():
    assert find_week(["周报（第５周）"]) == 5
    assert find_week(["第 12 周"]) == 12
    assert find_week(["第十三周"]) == 13
    assert find_week(["第二十一周"]) == 21
    assert find_week(["每周一报"]) is None


def test_find_dates():
    assert find_dates("统计时段：2022年5月5日至5月11日", 2022) == [
        ("range", dt.date(2022, 5, 5), dt.date(2022, 5, 11))
    ]
    assert find_dates("（2022.5.5-5.11）", 2022) == [("range", dt.date(2022, 5, 5), dt.date(2022, 5, 11))]
    assert find_dates("2022-05-05～2022-05-11", 2022) == [
        ("range", dt.date(2022, 5, 5), dt.date(2022, 5, 11))
    ]
    assert find_dates("截至2022年5月11日", 2022) == [("cutoff", dt.date(2022, 5, 11), None)]
    assert find_dates("填报日期：２０２２年５月１２日", 2022) == [("filed", dt.date(2022, 5, 12), None)]
    assert find_dates("5月12日", 2022) == [("plain", dt.date(2022, 5, 12), None)]
    assert find_dates("重点车辆 3120 辆", 2022) == []


@pytest.mark.parametrize(
    ("texts", "names", "week"),
    [
        (["重点车辆隐患清零周报（第5周）", "填报日期：2022年6月1日"], [], 5),  # 第N周 wins over dates
        ([], ["F1-第6周-公安局.xlsx"], 6),
        (["填报单位：市公安局　　统计时段：2022年5月5日至5月11日"], [], 5),
        (["截至2022年5月11日"], [], 5),
        (["填报单位：市公安局  填报日期：2022年5月12日"], [], 5),  # filed the day after week 5 ended
        (["填报日期：2022年5月11日"], [], 4),  # week 5 has not ended on 05-11: week 4
        (["填报日期：2022年4月10日"], [], None),  # no week had ended yet
        (["统计时段：2021年5月5日至5月11日"], [], None),  # outside the campaign
        (["重点车辆隐患清零周报"], ["F1.xlsx"], None),
    ],
)
def test_detect_period(campaign, texts, names, week):
    assert detect_period(texts, campaign, names=names) == week


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("填报单位：市公安局  填报日期：2022年5月12日", "gongan"),
        ("填报单位（盖章）：九江市浔阳区人民政府", "xunyang"),
        ("填报单位:经开区填报日期:2022-05-12", "jingkaiqu"),
        ("报送单位：  市公路中心", "gonglu"),
        ("填报单位：某某公司", None),
        ("县区", None),
    ],
)
def test_detect_unit(campaign, text, unit):
    assert detect_unit([text], campaign) == unit


def test_row_text_joins_cells():
    assert row_text(["填报单位：", None, "市公安局", ""]) == "填报单位：  市公安局"
