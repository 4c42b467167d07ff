"""Properties of the value normaliser and the header matcher (hypothesis), beyond the examples of
``test_normalise.py`` and ``test_headers.py``.

Normaliser (:mod:`ingest.normalise`, through the real DuckDB statements):

* any text — control characters, full-width forms, huge digit strings, 万/亿/%, dashes, scripts of all
  kinds — gives a typed value, or unknown, or one of the documented problem codes; never an exception;
* what the normaliser defines as unknown (blank, dashes and slashes in any width, 无/空/暂无/N/A, with any
  white space) is never a value, and other ways of saying "not known" (不详, 无数据 …) are never a number;
* one number written in different spellings (grouping, full width, white space, 万/亿, a trailing .0,
  a sign) is one value, exactly — and an integer too long for any count is refused, never rounded;
* a rate written as a percentage or as a fraction is one value; a date in any accepted spelling is one day;
* the bulk path (a whole table) and the one-cell path agree on every cell.

Header matcher (:mod:`ingest.headers`):

* every official header and synonym still matches its column with white space, line breaks, full-width
  forms, invisible characters, edge marks and unit hints added;
* a header row in any order, with duplicates and foreign columns, never maps two source columns to one form
  column, nor one source column to two; each column written once is found where it is;
* the header row is found at the same place with the same columns whatever stands above it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.headers import ColumnMatcher, find_header, match_header_row, normalise_header
from ingest.normalise import PROBLEMS, Normalised, normalise_table, normalise_value, problem_column
from roadsafe.campaign import load_campaign
from roadsafe.campaign.model import ColumnDef, FormDef

C = load_campaign("jiujiang-2022")
INTEGER = C.forms["F1"].column("inspected")
RATE = ColumnDef(key="inspect_rate", header="检验率", type="rate")
DATE = C.forms["F4"].column("found_on")
ENUM = C.forms["F4"].column("status")
YESNO = C.forms["F5"].column("signal_light")
COUNTY = C.forms["F1"].column("county")
TASK = C.forms["F9"].column("task_no")
TEXT = C.forms["F4"].column("road_name")
COLUMNS = [INTEGER, RATE, DATE, ENUM, YESNO, COUNTY, TASK, TEXT]
YEAR = 2022

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BROAD = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WIDE = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})  # ASCII → full width
SPACES = ["", " ", "\u3000", "\t", "\n", "\r\n", "\xa0"]


def wide(text: str) -> str:
    return text.translate(WIDE)


_CON = duckdb.connect()


def normalise_many(texts: list[str | None], col: ColumnDef) -> list[Normalised]:
    """Normalise a column of cells through :func:`normalise_table` (the bulk path ingestion runs)."""
    form = FormDef(name="one", submitters=[], grain="record", key_column=col.key, columns=[col])
    cells = pa.table(
        {"source_row": pa.array(range(1, len(texts) + 1), pa.int32()), col.key: pa.array(texts, pa.string())}
    )
    _CON.register("_cells", cells)
    try:
        _CON.execute("create or replace temp table _src as select * from _cells")
    finally:
        _CON.unregister("_cells")
    normalise_table(_CON, C, form, "_src", "_norm", [col.key], year=YEAR, submitter_id=None)
    problem = f', "{problem_column(col.key)}"' if col.type != "text" else ", null"
    rows = _CON.execute(f'select "{col.key}"{problem} from _norm order by source_row').fetchall()
    out = []
    for value, code in rows:
        if isinstance(value, dt.datetime):
            value = value.date()
        out.append(Normalised(value, code))
    return out


def spaced(draw, text: str) -> str:
    """``text`` with white space of every kind inserted around and between its characters."""
    out = draw(st.sampled_from(SPACES))
    for ch in text:
        out += ch + draw(st.sampled_from(["", "", "", *SPACES]))
    return out + draw(st.sampled_from(SPACES))


# --------------------------------------------------------------------------- never crash, always answer

FRAGMENTS = [
    "万",
    "亿",
    "%",
    "％",
    "-",
    "—",
    "–",
    "－",
    "/",
    "／",
    ".",
    "．",
    ",",
    "，",
    "+",
    "１２",
    "3",
    "9" * 20,
    "9" * 400,
    "0.",
    "e308",
    "E-5",
    "inf",
    "NaN",
    "0x1F",
    "\x00",
    "\x1b[2J",
    "\u202e",
    "\u2028",
    "\ufeff",
    "\u200b",
    "\u3000",
    "\xa0",
    "٣",
    "²",
    "Ⅻ",
    "年",
    "月",
    "日",
    "第",
    "项",
    "是",
    "否",
    "√",
    "浔阳",
    "区",
    "无",
    "空",
    "不详",
    "=SUM(A1:A2)",
    "'",
    '"',
    "\\",
    "%%",
    "44666",
    "2022-05-06",
    "24:61",
]
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join),
)


def well_typed(col: ColumnDef, result: Normalised) -> bool:
    value = result.value
    if value is None:
        return True
    if col.type == "integer":
        return isinstance(value, int) and -(2**63) <= value < 2**63
    if col.type == "rate":
        return isinstance(value, float) and value == value and abs(value) != float("inf")
    if col.type == "date":
        return isinstance(value, dt.date)
    if col.type == "enum":
        return value in (col.values or [])
    if col.type == "yesno":
        return value in ("是", "否")
    if col.type == "county":
        return value in {u.id for u in C.counties}
    if col.type == "task":
        return isinstance(value, str) and value.isdigit() and not value.startswith("0")
    return isinstance(value, str) and value != ""


@pytest.mark.timeout(60)
@FAST
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=20))
def test_any_text_gives_a_value_unknown_or_a_known_problem(texts):
    for col in COLUMNS:
        for text, result in zip(texts, normalise_many(texts, col), strict=True):
            assert result.problem is None or (result.value is None and result.problem in PROBLEMS), (
                text,
                col,
            )
            assert well_typed(col, result), (text, col.type, result)


@pytest.mark.timeout(60)
@FAST
@given(texts=st.lists(st.one_of(st.none(), ANY_TEXT), min_size=1, max_size=10), col=st.sampled_from(COLUMNS))
def test_bulk_and_one_cell_paths_agree(texts, col):
    assert normalise_many(texts, col) == [normalise_value(t, col, C, YEAR) for t in texts]


# --------------------------------------------------------------------------- unknown is never a number

DASHES = "-—–―‐−~/\\－～／＼"
UNKNOWN_WORDS = ["无", "空", "暂无", "N/A", "NA", "n/a", "Ｎ／Ａ", "na"]


@st.composite
def unknowns(draw, words: bool = True):
    if words and draw(st.booleans()):
        base = draw(st.sampled_from(UNKNOWN_WORDS))
    else:
        base = "".join(draw(st.lists(st.sampled_from(DASHES), max_size=6)))
    return spaced(draw, base) + draw(st.sampled_from(["", "\ufeff", "\u200b"]))


@pytest.mark.timeout(60)
@FAST
@given(texts=st.lists(unknowns(), min_size=1, max_size=12))
def test_the_normalisers_unknown_is_never_a_value(texts):
    for col in (INTEGER, RATE, DATE, ENUM, COUNTY, TASK):
        assert normalise_many(texts, col) == [Normalised(None, None)] * len(texts), col.type
    dashes_only = [t for t in texts if not any(w in t.upper() for w in ("无", "空", "N", "Ｎ"))]
    if dashes_only:  # a text column keeps 无/空 as an answer, but dashes are unknown there too
        assert normalise_many(dashes_only, TEXT) == [Normalised(None, None)] * len(dashes_only)
    yesno = [t for t in texts if "无" not in t]  # 无 is "no" in a yes/no column
    if yesno:
        assert normalise_many(yesno, YESNO) == [Normalised(None, None)] * len(yesno)


NOT_KNOWN = [
    "不详",
    "无数据",
    "未知",
    "待定",
    "待统计",
    "暂缺",
    "不清楚",
    "——不详——",
    "/不详/",
    "?",
    "？",
    "…",
    "x",
    "×",
]


@pytest.mark.timeout(60)
@FAST
@given(
    texts=st.lists(
        st.sampled_from(NOT_KNOWN).flatmap(lambda t: st.just(t) | unknowns().map(lambda u: u + t)),
        min_size=1,
        max_size=10,
    )
)
def test_other_ways_of_saying_not_known_are_never_a_number(texts):
    for col in (INTEGER, RATE):
        for text, result in zip(texts, normalise_many(texts, col), strict=True):
            assert result.value is None and result.problem == "unreadable", (text, result)


# --------------------------------------------------------------------------- one number, many spellings


def decimal_text(d: Decimal) -> str:
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@st.composite
def integer_spellings(draw):
    n = draw(st.one_of(st.integers(0, 999), st.integers(0, 10**15 - 1)))
    plain, grouped = str(n), f"{n:,}"
    spellings = [
        plain,
        grouped,
        wide(plain),
        wide(grouped),
        f"{plain}.0",
        f"{plain}.",
        f"+{plain}",
        wide(f"+{grouped}"),
    ]
    if n % 100 == 0:
        spellings.append(decimal_text(Decimal(n) / 10_000) + "万")
    if n % 10_000 == 0:
        spellings.append(wide(decimal_text(Decimal(n) / 100_000_000)) + "亿")
    spellings = [spaced(draw, s) if draw(st.booleans()) else s for s in spellings]
    return n, spellings


@pytest.mark.timeout(60)
@BROAD
@given(case=integer_spellings())
def test_one_integer_in_every_spelling_is_one_value(case):
    n, spellings = case
    assert normalise_many(spellings, INTEGER) == [Normalised(n, None)] * len(spellings), spellings


@pytest.mark.timeout(60)
@FAST
@given(n=st.integers(10**15, 10**40), grouped=st.booleans(), suffix=st.sampled_from(["", "万", "亿"]))
def test_integers_too_long_for_a_count_are_refused_not_rounded(n, grouped, suffix):
    text = (f"{n:,}" if grouped else str(n)) + suffix
    assert normalise_many([text, wide(text)], INTEGER) == [Normalised(None, "too_large")] * 2


@pytest.mark.timeout(60)
@FAST
@given(basis_points=st.integers(0, 10_000), spaces=st.booleans())
def test_a_rate_as_percentage_or_fraction_is_one_value(basis_points, spaces):
    pct = decimal_text(Decimal(basis_points) / 100)
    frac = decimal_text(Decimal(basis_points) / 10_000)
    spellings = [f"{pct}%", wide(f"{pct}%"), f"{pct}％", frac, wide(frac)]
    if spaces:
        spellings = [f" {s}\u3000" for s in spellings]
    results = normalise_many(spellings, RATE)
    assert all(r.problem is None for r in results), (spellings, results)
    assert all(r.value == pytest.approx(basis_points / 10_000, abs=1e-12) for r in results), (
        spellings,
        results,
    )


@pytest.mark.timeout(60)
@FAST
@given(
    day=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    time_of_day=st.sampled_from(["", " 10:30", " 08:00:00", "T23:59:59"]),
)
def test_a_date_in_every_spelling_is_one_day(day, time_of_day):
    y, m, d = day.year, day.month, day.day
    spellings = [
        day.isoformat(),
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        f"{y}年{m}月{d}日",
        day.strftime("%Y%m%d"),
        wide(f"{y}-{m:02d}-{d:02d}"),
        wide(f"{y}/{m}/{d}"),
        f"{y} 年 {m} 月 {d} 日",
    ]
    spellings = [s + time_of_day for s in spellings]
    if day.year == YEAR:
        spellings.append(f"{m}月{d}日")
    assert normalise_many(spellings, DATE) == [Normalised(day, None)] * len(spellings), spellings


# --------------------------------------------------------------------------- header matching

FORMS = list(C.forms.values())
HINTS = ["", "（辆）", "(单位：辆)", "【必填】", "*", "：", "※"]
INVISIBLE = ["", "\u200b", "\ufeff", "\u200e", "\u2060"]


@st.composite
def header_variant(draw, text: str) -> str:
    """``text`` as offices type it: white space and line breaks anywhere, full-width forms, invisible
    characters from copying, a unit hint or an edge mark."""
    out = ""
    for ch in text:
        if draw(st.booleans()):
            ch = ch.translate(WIDE)
        out += ch + draw(st.sampled_from(["", "", *SPACES[1:], *INVISIBLE[1:]]))
    return draw(st.sampled_from(SPACES)) + out + draw(st.sampled_from(HINTS)) + draw(st.sampled_from(SPACES))


@pytest.mark.timeout(60)
@BROAD
@given(data=st.data())
def test_every_header_and_synonym_matches_its_column_however_typed(data):
    form = data.draw(st.sampled_from(FORMS))
    col = data.draw(st.sampled_from(form.columns))
    header = data.draw(st.sampled_from(col.headers))
    matcher = ColumnMatcher.of(form)
    expected = matcher.match(header)
    assert expected is not None and expected[0] == col.key
    variant = data.draw(header_variant(header))
    got = matcher.match(variant)
    assert got is not None and got[0] == col.key, (header, variant, normalise_header(variant))


@st.composite
def header_rows(draw):
    """A form, and a header row: its columns in any order, some twice, with foreign (ASCII) columns."""
    form = draw(st.sampled_from(FORMS))
    keys = draw(st.lists(st.sampled_from([c.key for c in form.columns]), min_size=1, max_size=12))
    foreign = draw(st.lists(st.text(alphabet="ABCXYZabc0123 _-", min_size=1, max_size=8), max_size=3))
    cells: list[tuple[str | None, str]] = [(k, draw(header_variant(form.column(k).headers[0]))) for k in keys]
    cells += [(None, f) for f in foreign]
    cells = draw(st.permutations(cells))
    gaps = draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))
    row: list[str | None] = []
    owner: list[str | None] = []
    for (key, text), gap in zip(cells, gaps, strict=True):
        if gap:
            row.append(None)
            owner.append(None)
        row.append(text)
        owner.append(key)
    return form, row, owner


@pytest.mark.timeout(60)
@BROAD
@given(case=header_rows())
def test_a_header_row_maps_columns_one_to_one(case):
    form, row, owner = case
    match = match_header_row([row], 0, None, ColumnMatcher.of(form))
    sources = list(match.columns.values())
    assert len(set(sources)) == len(sources)  # never two form columns from one source column
    assert set(match.columns) <= {c.key for c in form.columns}
    for key, source in match.columns.items():
        assert owner[source] == key, (key, row[source])  # a column is only ever found under its own header
    matcher = ColumnMatcher.of(form)
    for key in {k for k in owner if k is not None}:
        at = [i for i, k in enumerate(owner) if k == key]
        quality = {i: matcher.match(row[i])[1] for i in at}
        best = max(quality.values())
        # each column written is found: where it is written best (the official header over a synonym or a
        # header with a hint), the first such place on a tie; the other places are extra columns
        assert match.columns.get(key) == next(i for i in at if quality[i] == best), (
            key,
            [row[i] for i in at],
        )
    assert len(match.extra_headers) == sum(1 for cell in row if cell) - len(match.columns)


@pytest.mark.timeout(60)
@FAST
@given(case=header_rows(), above=st.lists(st.sampled_from(["title", "unit", "blank", "note"]), max_size=5))
def test_the_header_is_found_whatever_stands_above_it(case, above):
    form, row, owner = case
    lines = {
        "title": [f"2022年全市道路交通安全专项整治 {form.name}（第5周）"],
        "unit": ["填报单位：市公安局", None, "填报日期：2022年5月12日"],
        "blank": [],
        "note": ["说明：本表数据截至本周三"],
    }
    head = [lines[a] for a in above] + [row]
    alone = find_header([row], [], form)
    found = find_header(head, [], form)
    if alone is None:
        assert found is None or found.row < len(above)
        return
    assert found is not None and found.row == len(above)
    assert (found.columns, found.extra_headers) == (alone.columns, alone.extra_headers)


def test_header_variants_fold_to_one_text():
    """The folding the properties rely on, on one example of each variation."""
    assert normalise_header("\u3000重点\n车辆\u200b总数\ufeff*") == "重点车辆总数"
    assert normalise_header(wide("(") + "辆" + wide(")")) == unicodedata.normalize("NFKC", "（辆）")
