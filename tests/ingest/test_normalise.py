"""The value normaliser: every spelling the spec lists, refusals, and properties (hypothesis).

``normalise_value`` runs the same SQL as the bulk path; ``test_bulk_and_single_agree`` checks that.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.normalise import Normalised, county_alias_rows, normalise_table, normalise_value
from roadsafe.campaign import load_campaign, normalise_name
from roadsafe.campaign.model import ColumnDef

C = load_campaign("jiujiang-2022")
INTEGER = C.forms["F1"].column("inspected")
DATE = C.forms["F4"].column("found_on")
ENUM = C.forms["F4"].column("status")
YESNO = C.forms["F5"].column("signal_light")
COUNTY = C.forms["F1"].column("county")
TASK = C.forms["F9"].column("task_no")
TEXT = C.forms["F4"].column("road_name")
RATE = ColumnDef(key="inspect_rate", header="检验率", type="rate")
ALL_COLUMNS = [INTEGER, DATE, ENUM, YESNO, COUNTY, TASK, TEXT, RATE]


def n(text, col, year=2022) -> Normalised:
    return normalise_value(text, col, C, year)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234", 1234),
        ("0", 0),
        ("1,234", 1234),
        ("1，234", 1234),  # full-width comma
        ("12,345,678", 12345678),
        ("１２３４", 1234),
        ("１，２３４", 1234),
        (" 12 ", 12),
        ("\u300012\u3000", 12),
        ("3.15万", 31500),
        ("３．１５万", 31500),
        ("1.2亿", 120000000),
        ("12.0", 12),
        ("12.", 12),
        ("+7", 7),
        ("-5", -5),  # parsed; validation refuses negative counts
        ("2000000000", 2000000000),  # parsed; validation refuses absurd values
    ],
)
def test_integer_spellings(text, value):
    assert n(text, INTEGER) == Normalised(value, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("abc", "unreadable"),
        ("1,2", "unreadable"),
        ("12,34", "unreadable"),
        ("1e3", "unreadable"),
        ("0x10", "unreadable"),
        ("1_000", "unreadable"),
        ("#N/A", "unreadable"),
        ("12.5", "not_integer"),
        ("3.15678万", "not_integer"),
        ("99999999999999999999", "too_large"),
        ("95%", "unreadable"),
    ],
)
def test_integer_refusals(text, problem):
    assert n(text, INTEGER) == Normalised(None, problem)


@pytest.mark.parametrize(
    "text", [None, "", "   ", "\u3000", "—", "——", "-", "--", "–", "/", "／", "－", "无", "空", "暂无", "N/A"]
)
@pytest.mark.parametrize("col", [INTEGER, DATE, ENUM, COUNTY, TASK, RATE], ids=lambda c: c.type)
def test_unknown_is_null_never_zero(text, col):
    assert n(text, col) == Normalised(None, None)


def test_yesno_unknown_and_text_unknown():
    for text in (None, "", " ", "—", "-", "/"):
        assert n(text, YESNO) == Normalised(None, None)
        assert n(text, TEXT) == Normalised(None, None)
    assert n("无", YESNO) == Normalised("否", None)  # 有/无 is a yes/no answer
    assert n("无", TEXT) == Normalised("无", None)  # "none" is a real answer in a text column


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("95%", 0.95),
        ("0.95", 0.95),
        (".95", 0.95),
        ("95.5%", 0.955),
        ("１００％", 1.0),
        ("1", 1.0),
        ("0", 0.0),
        ("100%", 1.0),
        ("120%", 1.2),
        ("-5%", -0.05),
    ],
)
def test_rate_spellings(text, value):
    result = n(text, RATE)
    assert result.problem is None and result.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("95", "rate_ambiguous"), ("1.5", "rate_ambiguous"), ("abc", "unreadable"), ("3万", "unreadable")],
)
def test_rate_refusals(text, problem):
    assert n(text, RATE) == Normalised(None, problem)


@pytest.mark.parametrize(
    "text",
    [
        "2022-04-15",
        "2022/4/15",
        "2022.4.15",
        "2022年4月15日",
        "2022年04月15日",
        "2022年4月15",
        "4月15日",
        "4月15",
        "44666",
        "44666.0",
        "20220415",
        "2022-04-15 00:00:00",
        "2022/4/15 13:05",
        "２０２２－０４－１５",
        "2022 年 4 月 15 日",
        "2022-4-15",
    ],
)
def test_date_spellings(text):
    assert n(text, DATE) == Normalised(dt.date(2022, 4, 15), None)


def test_month_day_takes_the_year_given():
    assert n("4月15日", DATE, year=2023) == Normalised(dt.date(2023, 4, 15), None)


@pytest.mark.parametrize(
    "text",
    [
        "2022-02-30",
        "abc",
        "12345",
        "99999",
        "2022-13-01",
        "15/04/2022",
        "infinity",
        "4.15",
        "2022年",
        "epoch",
    ],
)
def test_date_refusals(text):
    assert n(text, DATE) == Normalised(None, "bad_date")


def test_enum_exact_after_folding_only():
    assert n("已整改", ENUM) == Normalised("已整改", None)
    assert n(" 已 整改\u3000", ENUM) == Normalised("已整改", None)
    assert n("已整改完成", ENUM) == Normalised(None, "not_allowed")
    assert n("整改完成", ENUM) == Normalised(None, "not_allowed")
    cat = C.forms["F5"].column("category")
    assert n("２０１８年以来死亡２人以上路口", cat) == Normalised("2018年以来死亡2人以上路口", None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("是", "是"),
        ("否", "否"),
        ("Y", "是"),
        ("y", "是"),
        ("YES", "是"),
        ("N", "否"),
        ("no", "否"),
        ("√", "是"),
        ("×", "否"),
        ("有", "是"),
        ("无", "否"),
        (" 是 ", "是"),
        ("Ｙ", "是"),
    ],
)
def test_yesno(text, value):
    assert n(text, YESNO) == Normalised(value, None)


@pytest.mark.parametrize("text", ["maybe", "部分", "是否", "1", "X"])
def test_yesno_refusals(text):
    assert n(text, YESNO) == Normalised(None, "not_yesno")


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("浔阳区", "xunyang"),
        ("浔阳", "xunyang"),
        ("九江市浔阳区", "xunyang"),
        ("浔阳区人民政府", "xunyang"),
        ("江西省九江市浔阳区", "xunyang"),
        ("浔 阳 区", "xunyang"),
        ("九江县", "chaisang"),
        ("星子县", "lushan"),
        ("经开区", "jingkaiqu"),
        ("八里湖新区管委会", "balihu"),
        ("360403", "xunyang"),
        ("共青", "gongqingcheng"),
    ],
)
def test_county_aliases(text, unit):
    assert n(text, COUNTY) == Normalised(unit, None)


@pytest.mark.parametrize("text", ["市公安局", "南昌市", "浔阳区区", "xx"])
def test_county_refusals(text):
    assert n(text, COUNTY) == Normalised(None, "unknown_unit")


def test_alias_table_agrees_with_resolve_unit():
    rows = county_alias_rows(C)
    assert len(rows) > 100
    for alias, unit_id in rows:
        assert C.resolve_unit(alias).id == unit_id
    # and every spelling resolve_unit accepts for a county (names, aliases, prefixes, suffixes) is there
    aliases = dict(rows)
    for unit in C.counties:
        for name in (unit.name, *unit.aliases):
            for text in (name, "九江市" + name, name + "人民政府", "江西省九江市" + name + "人民政府"):
                assert aliases.get(normalise_name(text)) == unit.id, text


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", "3"), ("03", "3"), ("第3项", "3"), ("任务3", "3"), ("3.", "3"), ("３", "3"), ("26", "26")],
)
def test_task_numbers(text, value):
    assert n(text, TASK) == Normalised(value, None)


@pytest.mark.parametrize("text", ["三", "3a", "任务", "3-1"])
def test_task_refusals(text):
    assert n(text, TASK) == Normalised(None, "bad_task")


def test_text_is_trimmed_and_kept():
    assert n("  长虹大道 ", TEXT) == Normalised("长虹大道", None)
    assert n("长虹 大道", TEXT) == Normalised("长虹 大道", None)
    assert n("-长虹大道", TEXT) == Normalised("-长虹大道", None)


def test_bulk_and_single_agree():
    """The table path gives the same values and problems as the one-cell function."""
    form = C.forms["F4"]
    cells = [
        ("XY-1", "浔阳", "路", "城市道路", "x", "2022/4/15", "已整改", "44666", "u"),
        ("ＸＹ－２", "九江市濂溪区", "路", "村道", "x", "4月15日", "整改中", "—", "u"),
        ("XY-3", "市公安局", " ", "高速", "x", "abc", "已整改完成", "2022-02-30", None),
    ]
    con = duckdb.connect()
    keys = form.column_keys
    con.execute(
        "create temp table src (source_row integer, " + ", ".join(f'"{k}" varchar' for k in keys) + ")"
    )
    for i, row in enumerate(cells):
        con.execute(f"insert into src values ({i + 4}, {', '.join('?' for _ in keys)})", list(row))
    normalise_table(con, C, form, "src", "norm", keys, year=2022, submitter_id="xunyang")
    got = con.execute("select * from norm order by source_row").fetchall()
    names = [d[0] for d in con.description]
    for row, raw in zip(got, cells, strict=True):
        record = dict(zip(names, row, strict=True))
        for key, text in zip(keys, raw, strict=True):
            single = normalise_value(text, form.column(key), C, 2022)
            assert (record[key], record.get(f"_p_{key}")) == (single.value, single.problem), (key, text)
    assert [r[names.index("_record_key")] for r in got] == ["XY-1", "XY-2", "XY-3"]
    assert [r[names.index("_subject")] for r in got] == ["xunyang", "lianxi", None]


# --------------------------------------------------------------------------- properties

_UNKNOWN = st.sampled_from(["", " ", "—", "-", "–", "/", "无", "空", "——", "\u3000", "－", "／"])
_cells = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="0123456789,.%万亿-+ 　０１２３４５６７８９，．％年月日/", max_size=14),
    _UNKNOWN,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_cells, col=st.sampled_from(ALL_COLUMNS))
def test_never_crashes_and_always_answers(text, col):
    """Any text gives either a value, or None (unknown), or a known problem code — never an exception."""
    result = n(text, col)
    assert result.problem is None or result.value is None
    if result.problem is not None:
        assert result.problem in {
            "unreadable",
            "not_integer",
            "too_large",
            "rate_ambiguous",
            "bad_date",
            "not_allowed",
            "not_yesno",
            "unknown_unit",
            "bad_task",
        }


@settings(max_examples=120, deadline=None)
@given(
    dash=_UNKNOWN,
    pad_left=st.sampled_from(["", " ", "\u3000", "\t"]),
    pad_right=st.sampled_from(["", " ", "\n"]),
    col=st.sampled_from([INTEGER, RATE, DATE, ENUM, COUNTY, TASK, TEXT]),
)
def test_unknown_never_becomes_a_number(dash, pad_left, pad_right, col):
    result = n(pad_left + dash + pad_right, col)
    if col is TEXT and dash in ("无", "空"):  # words, kept in a text column
        assert result == Normalised(dash, None)
    else:
        assert result == Normalised(None, None)


@settings(max_examples=120, deadline=None)
@given(value=st.integers(min_value=0, max_value=10**12), grouped=st.booleans(), wide=st.booleans())
def test_integers_round_trip(value, grouped, wide):
    text = f"{value:,}" if grouped else str(value)
    if wide:
        text = text.translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))
    assert n(text, INTEGER) == Normalised(value, None)


@settings(max_examples=120, deadline=None)
@given(
    day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
    style=st.sampled_from(["iso", "slash", "dot", "cn", "serial", "compact"]),
)
def test_dates_round_trip(day, style):
    text = {
        "iso": day.isoformat(),
        "slash": f"{day.year}/{day.month}/{day.day}",
        "dot": f"{day.year}.{day.month}.{day.day}",
        "cn": f"{day.year}年{day.month}月{day.day}日",
        "serial": str((day - dt.date(1899, 12, 30)).days),
        "compact": day.strftime("%Y%m%d"),
    }[style]
    assert n(text, DATE) == Normalised(day, None)


@settings(max_examples=100, deadline=None)
@given(pct=st.integers(min_value=0, max_value=100))
def test_percent_and_fraction_agree(pct):
    a = n(f"{pct}%", RATE)
    b = n(str(pct / 100), RATE)
    assert a.problem is None and b.problem is None
    assert a.value == pytest.approx(b.value)


_POOL = [
    "1234",
    "1,234",
    "１２３４",
    "3.15万",
    "12.5",
    "95%",
    "0.95",
    "—",
    "",
    " ",
    "无",
    "abc",
    "2022-04-15",
    "2022/4/15",
    "4月15日",
    "44666",
    "20220415",
    "2022年4月15日 10:30",
    "是",
    "否",
    "√",
    "×",
    "浔阳",
    "九江市濂溪区",
    "浔阳区人民政府",
    "市公安局",
    "ＸＹ－００１",
    "XY-1",
    "第3项",
    "任务3",
    "03",
    "已整改",
    "整改中",
    "城市道路",
    None,
    "\u3000１２\u3000",
    "-5",
    "99999999999999999999",
    "N/A",
    "１，２３４．５",
]


@pytest.mark.parametrize(("form_code", "drop"), [("F1", 0), ("F4", 0), ("F4", 2), ("F5", 1), ("F9", 0)])
def test_prepared_and_planned_statements_agree(form_code, drop, monkeypatch):
    """Small tables go through a statement prepared once per thread, large ones through the SQL planned on
    the caller's connection: the same table either way (also with columns missing from the file)."""
    import ingest.normalise as N

    form = C.forms[form_code]
    keys = [k for i, k in enumerate(form.column_keys) if not (drop and i % 3 == drop)]
    con = duckdb.connect()
    con.execute(
        "create temp table src (source_row integer, " + ", ".join(f'"{k}" varchar' for k in keys) + ")"
    )
    for row in range(60):
        cells = [_POOL[(row * 7 + i * 3) % len(_POOL)] for i in range(len(keys))]
        con.execute(f"insert into src values ({row + 4}, {', '.join('?' for _ in keys)})", cells)
    tables = {}
    for name, limit in (("prepared", N.PREPARED_MAX_ROWS), ("planned", -1)):
        monkeypatch.setattr(N, "PREPARED_MAX_ROWS", limit)
        normalise_table(con, C, form, "src", f"norm_{name}", keys, year=2022, submitter_id="gonglu")
        tables[name] = (
            con.execute(f"describe norm_{name}").fetchall(),
            con.execute(f"select * from norm_{name} order by source_row").fetchall(),
        )
    assert tables["prepared"] == tables["planned"]
    assert any(v is not None for row in tables["prepared"][1] for v in row[1:])
