"""Finding a form's header in a sheet, and telling data rows from blank, 合计 and footer rows.

Header rows are searched in the first :data:`HEADER_SEARCH_ROWS` rows of a sheet. Each non-empty cell is
matched against the form's column names and synonyms (:class:`ColumnMatcher`); the header is the first row
with the most matched columns. A two-row header (parent cells such as 检验情况 merged over 应检验数/已检验数,
or 县区 merged down over both rows) is read as one: a child is matched by its own text first, then by
``parent/child``, and an empty child by its parent's text.

Which rows below the header are data is decided with Arrow compute over whole columns (:func:`classify_rows`),
so a 200 000-row sheet is classified without a Python loop: a row is skipped when no form column holds a value
(空行), when its first non-empty cell is 合计/小计/总计 (合计行), or from the first footer row
(填报人/联系电话/审核人/制表人/备注…) down (表尾).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from roadsafe.campaign.model import FormDef

__all__ = [
    "HEADER_SEARCH_ROWS",
    "SKIP_BLANK",
    "SKIP_FOOTER",
    "SKIP_TOTAL",
    "ColumnMatcher",
    "FOOTER_WORDS",
    "TOTAL_WORDS",
    "HeaderMatch",
    "classify_rows",
    "find_header",
    "match_header_row",
    "normalise_header",
    "strip_hints",
]

HEADER_SEARCH_ROWS = 30

SKIP_BLANK = "空行"
SKIP_TOTAL = "合计行"
SKIP_FOOTER = "表尾（填报人/联系电话/审核人）"

# What the first non-empty cell of a row starts with (white space between the characters allowed).
TOTAL_WORDS = ("合计", "小计", "总计")
FOOTER_WORDS = (
    "填报人",
    "填表人",
    "联系电话",
    "联系人",
    "审核人",
    "审核领导",
    "制表人",
    "单位负责人",
    "负责人",
    "分管领导",
    "备注",
    "注:",
    "注：",
    "说明:",
    "说明：",
)
# A first non-empty cell containing "填报人：" anywhere (after a note) also starts the footer.

_SPACE = re.compile(r"\s+")
_HINT = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>")
_EDGE = "*※:：.、"
_TITLE = re.compile(r"第\s*\d+\s*周|周报|月报|台账|报表|统计表|情况表|一览表")
_MAX_CONTAIN_EXTRA = 8  # a header may hold at most this many characters around a contained name
_MAX_HINT_DEPTH = 8  # nested brackets peeled off a header; real headers nest two deep at most
# Invisible characters a header may carry from copying or from two files pasted together: soft hyphen,
# zero-width spaces and joiners, direction marks and overrides, word joiner, byte-order mark.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+")


def normalise_header(text: str | None) -> str:
    """Header text folded for matching: NFKC (full-width → half-width), no white space or invisible
    characters (zero-width spaces, direction marks, byte-order marks), no edge ``*``/``：``.

    Examples
    --------
    >>> normalise_header(" 重点车辆\\n总数（辆）* ")
    '重点车辆总数(辆)'
    >>> normalise_header("＊县区：")
    '县区'
    """
    if not text:
        return ""
    if isinstance(text, str):
        return _normalise_header(text)
    return _normalise_header(str(text))


@functools.lru_cache(maxsize=8192)
def _normalise_header(text: str) -> str:
    # A file's header and title cells are matched against every form: the same texts come back often.
    return _SPACE.sub("", _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))).strip(_EDGE)


def strip_hints(text: str) -> str:
    """Drop parenthesised hints such as ``(单位：辆)`` or ``【必填】`` from normalised header text.

    Examples
    --------
    >>> strip_hints("重点车辆总数(单位:辆)")
    '重点车辆总数'
    """
    previous = None
    for _ in range(_MAX_HINT_DEPTH):  # one pass per nesting level: bounded, whatever a cell holds
        if previous == text:
            break
        previous, text = text, _HINT.sub("", text)
    return text.strip(_EDGE)


def _looks_like_title(text: str) -> bool:
    return bool(_TITLE.search(text)) or len(text) > 30


class ColumnMatcher:
    """Matches header texts to one form's column keys.

    Quality of a match: 3 the official header, 2 a synonym or a header with a parenthesised hint removed,
    1 a header that contains exactly one column's name (e.g. ``截至本周末已检验数``).
    """

    def __init__(self, form: FormDef):
        self.form = form
        self._exact: dict[str, tuple[str, int]] = {}
        loose: dict[str, set[str]] = {}
        self._contained: list[tuple[str, str]] = []
        for col in form.columns:
            for i, name in enumerate(col.headers):
                norm = normalise_header(name)
                quality = 3 if i == 0 else 2
                if norm and (norm not in self._exact or self._exact[norm][1] < quality):
                    self._exact[norm] = (col.key, quality)
                bare = strip_hints(norm)
                if bare and bare != norm:
                    loose.setdefault(bare, set()).add(col.key)
                for variant in {norm, bare}:
                    if len(variant) >= 2:
                        self._contained.append((variant, col.key))
        self._loose = {
            text: (next(iter(keys)), 2)
            for text, keys in loose.items()
            if len(keys) == 1 and text not in self._exact
        }
        self._memo: dict[str, tuple[str, int] | None] = {}

    @classmethod
    def of(cls, form: FormDef) -> ColumnMatcher:
        """The matcher of ``form``, made once (every file is matched against every form)."""
        cached = _MATCHERS.get(id(form))
        if cached is None or cached.form is not form:
            cached = _MATCHERS[id(form)] = cls(form)
            if len(_MATCHERS) > 256:
                _MATCHERS.clear()
                _MATCHERS[id(form)] = cached
        return cached

    def match(self, text: str | None) -> tuple[str, int] | None:
        """``(column key, quality)`` for one header text, or ``None``."""
        if not isinstance(text, str):
            return self._match(text)
        if text not in self._memo:
            if len(self._memo) > 65_536:  # a wide sheet repeats its headers for every row tried
                self._memo.clear()
            self._memo[text] = self._match(text)
        return self._memo[text]

    def _match(self, text: str | None) -> tuple[str, int] | None:
        norm = normalise_header(text)
        bare = strip_hints(norm)
        if not norm or ":" in bare:
            return None  # empty, or a 填报单位：… metadata cell (a colon inside "(单位：辆)" is fine)
        if norm in self._exact:
            return self._exact[norm]
        if bare in self._exact:
            return self._exact[bare][0], min(self._exact[bare][1], 2)
        if bare in self._loose:
            return self._loose[bare]
        if not bare or _looks_like_title(norm):
            return None
        keys = {
            key
            for name, key in self._contained
            if len(bare) - len(name) <= _MAX_CONTAIN_EXTRA and name in bare
        }
        if len(keys) == 1:
            return keys.pop(), 1
        return None


_MATCHERS: dict[int, ColumnMatcher] = {}


@dataclass(frozen=True)
class HeaderMatch:
    """The header of one form found in one sheet.

    Attributes
    ----------
    form_code : str
    row : int
        0-based index of the last header row (Excel row ``row + 1``).
    rows : int
        1, or 2 for a two-row header.
    columns : dict
        Column key → 0-based source column.
    headers : dict
        Column key → header text as found (``检验情况/已检验数`` for a two-row header).
    extra_headers : list of str
        Non-empty header texts that matched no column, or a column already matched.
    missing_required, missing_optional : list of str
        Column keys not found.
    required_found, required_total : int
        Required columns found / defined.
    quality : int
        Sum of the match qualities (see :class:`ColumnMatcher`), to break ties between rows.
    last_column : int
        0-based index of the rightmost non-empty header cell: the table's right edge.
    """

    form_code: str
    row: int
    rows: int
    columns: dict[str, int]
    headers: dict[str, str]
    extra_headers: list[str]
    missing_required: list[str]
    missing_optional: list[str]
    required_found: int = 0
    required_total: int = 0
    quality: int = field(default=0, compare=False)
    last_column: int = -1

    @property
    def score(self) -> int:
        return len(self.columns)

    @property
    def eligible(self) -> bool:
        """At least half of the required columns and at least two columns (one for a one-column form)."""
        enough_required = self.required_found >= math.ceil(self.required_total / 2)
        needed = min(2, len(self.columns) + len(self.missing_required) + len(self.missing_optional))
        return enough_required and self.score >= needed and self.score > 0


def _text(row: Sequence[str | None], c: int) -> str | None:
    return row[c] if c < len(row) else None


def _merge_covering(merges, r: int, c: int):
    for m in merges:
        r1, c1, r2, c2 = m
        if r1 <= r <= r2 and c1 <= c <= c2:
            return m
    return None


def _parent_texts(head, r: int, merges) -> dict[int, str] | None:
    """Parent header text per column when row ``r-1`` is the upper row of a two-row header ending at ``r``.

    A parent labels (a) the column below it when that child cell is empty (a header merged down over both
    rows), (b) every column under a horizontally merged parent cell, (c) without merging, the columns to its
    right while the parent row is empty there and the child row is not (how CSV saves merged cells).
    ``merges`` is called only when the parent row has gaps over child text, since only then can it matter.
    Returns ``None`` when row ``r-1`` is not a parent (metadata, a title, or nothing it labels).
    """
    if r == 0:
        return None
    parent, child = head[r - 1], head[r]
    pcols = [c for c, text in enumerate(parent) if text]
    ccols = [c for c, text in enumerate(child) if text]
    if not pcols or not ccols:
        return None
    for c in pcols:
        norm = normalise_header(parent[c])
        if ":" in strip_hints(norm) or _looks_like_title(norm):
            return None
    lo, hi = min(pcols + ccols), max(pcols + ccols)
    texts: dict[int, str] = {c: parent[c] for c in pcols if not _text(child, c)}
    if any(not _text(parent, c) and _text(child, c) for c in range(lo, hi + 1)):
        ranges = merges()
        for r1, c1, r2, c2 in ranges:
            if not (r1 <= r - 1 <= r2) or r2 >= r or c2 <= c1:
                continue
            top = _text(head[r1], c1)
            if not top:
                continue
            if c1 <= lo and c2 >= hi:
                return None  # a banner across the whole table is a title, not a parent
            for c in range(c1, c2 + 1):
                texts[c] = top
        for c in pcols:
            if not _text(child, c) or _merge_covering(ranges, r - 1, c):
                continue
            group = [c]
            while (
                group[-1] + 1 <= hi
                and not _text(parent, group[-1] + 1)
                and _text(child, group[-1] + 1)
                and not _merge_covering(ranges, r - 1, group[-1] + 1)
            ):
                group.append(group[-1] + 1)
            if len(group) >= 2:
                texts.update(dict.fromkeys(group, parent[c]))
    return texts or None


def match_header_row(
    head: Sequence[Sequence[str | None]],
    r: int,
    merges: Callable[[], list] | None,
    matcher: ColumnMatcher,
) -> HeaderMatch:
    """Match row ``r`` (0-based) as the last header row, joined with a parent row above when there is one.

    ``merges`` returns the sheet's merged ranges ``(row1, col1, row2, col2)`` (0-based, inclusive); it is
    called only when needed, since reading them from a large .xlsx costs time. ``None`` matches row ``r``
    alone.
    """
    child = head[r]
    parents = (_parent_texts(head, r, merges) if merges is not None else None) or {}
    filled = {c for c, text in enumerate(child) if text}  # a sheet may be 16 384 columns wide, mostly empty
    labels: list[tuple[int, str, list[str]]] = []
    for c in sorted(filled.union(parents)):
        own, parent = _text(child, c), parents.get(c)
        if own and parent:
            labels.append((c, f"{parent}/{own}", [own, f"{parent}/{own}"]))
        elif own:
            labels.append((c, own, [own]))
        elif parent:
            labels.append((c, parent, [parent]))
    found: list[tuple[int, str, str, int]] = []  # (col, display, key, quality)
    unmatched: list[tuple[int, str]] = []
    for c, display, candidates in labels:
        hit = next((m for m in map(matcher.match, candidates) if m), None)
        if hit:
            found.append((c, display, hit[0], hit[1]))
        else:
            unmatched.append((c, display))
    best: dict[str, tuple[int, str, int]] = {}
    for c, display, key, quality in found:
        if key not in best or quality > best[key][2]:
            best[key] = (c, display, quality)
    extra = sorted(unmatched + [(c, d) for c, d, key, _ in found if best[key][0] != c])
    form = matcher.form
    columns = {c.key: best[c.key][0] for c in form.columns if c.key in best}
    required = [c.key for c in form.columns if c.required]
    return HeaderMatch(
        form_code=form.code,
        row=r,
        rows=2 if parents else 1,
        columns=columns,
        headers={key: best[key][1] for key in columns},
        extra_headers=[d for _, d in extra],
        missing_required=[k for k in required if k not in columns],
        missing_optional=[c.key for c in form.columns if not c.required and c.key not in columns],
        required_found=sum(1 for k in required if k in columns),
        required_total=len(required),
        quality=sum(q for _, _, q in best.values()),
        last_column=max((c for c, _, _ in labels), default=-1),
    )


def find_header(
    head: Sequence[Sequence[str | None]],
    merges: Callable[[], list] | list,
    form: FormDef,
    max_rows: int = HEADER_SEARCH_ROWS,
) -> HeaderMatch | None:
    """The best header of ``form`` in the first rows of a sheet: the first row with the most matched columns.

    ``merges``: the merged ranges, or a function returning them (called at most when a two-row header is
    plausible).

    Returns the best candidate even when it is not :attr:`HeaderMatch.eligible` (callers use it to say which
    columns are missing); ``None`` when no row matches any column.
    """
    matcher = ColumnMatcher.of(form)
    if not callable(merges):
        ranges = list(merges)

        def merges() -> list:
            return ranges

    rows = min(max_rows, len(head))
    single = [match_header_row(head, r, None, matcher) if any(head[r]) else None for r in range(rows)]
    best: HeaderMatch | None = None
    for r in range(rows):
        candidate = single[r]
        if candidate is None:
            continue
        if r and (candidate.score or (single[r - 1] is not None and single[r - 1].score)):
            candidate = match_header_row(head, r, merges, matcher)  # possibly the lower row of two
        if not candidate.score:
            continue
        if best is None or (candidate.score, candidate.quality) > (best.score, best.quality):
            best = candidate
    return best


# ---------------------------------------------------------------------------------------------- data rows

_S = r"[\s\x{3000}\x{a0}]*"  # RE2 (Arrow): white space a typist may put between characters


def _spaced(word: str) -> str:
    return _S.join(re.escape(ch) for ch in word)


_TOTAL_RE = rf"^(全市|全县|全区|全省|本周|累计)?{_S}({'|'.join(_spaced(w) for w in TOTAL_WORDS)})"
_FOOTER_RE = rf"^({'|'.join(_spaced(w) for w in FOOTER_WORDS)})|填{_S}报{_S}人{_S}[:：]"


def _may_start_total_or_footer(first) -> bool:
    """False when no cell of ``first`` can match :data:`_TOTAL_RE` or :data:`_FOOTER_RE`: their words are
    Chinese, and the column's character data is plain ASCII (a serial number, a date: one fast byte test
    instead of two regular expressions over every row of a large table). True when unsure."""
    import pyarrow as pa

    column = first if isinstance(first, pa.ChunkedArray) else pa.chunked_array([first])
    if column.type not in (pa.string(), pa.large_string()):
        return True
    for chunk in column.chunks:
        buffers = chunk.buffers()
        if len(buffers) == 3 and buffers[2] is not None and not memoryview(buffers[2]).tobytes().isascii():
            return True
    return False


def classify_rows(span_columns, key_columns, first_data_index: int, height: int):
    """Which rows below the header are data, vectorised over whole Arrow columns.

    Parameters
    ----------
    span_columns : sequence of pyarrow.ChunkedArray
        Clean cell text (:func:`ingest.grid.clean_column`) of every column from A to the table's last header
        column, left to right: the first non-empty one is where 合计 and footer text are looked for.
    key_columns : sequence of pyarrow.ChunkedArray
        Clean cell text of the matched form columns: a row with none of them filled is blank.
    first_data_index : int
        0-based index of the first row below the header (= the header's Excel row number).
    height : int
        Number of rows in the sheet.

    Returns
    -------
    footer_row : int or None
        Excel row of the first footer row (it and every row below are skipped).
    skipped : list of (int, str)
        Excel row and reason (:data:`SKIP_BLANK`, :data:`SKIP_TOTAL`, :data:`SKIP_FOOTER`); empty rows below
        the footer are left out of the list.
    keep : pyarrow.ChunkedArray of bool
        One flag per row from ``first_data_index``: True for a data row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = max(0, height - first_data_index)
    if n == 0:
        return None, [], pa.chunked_array([pa.array([], pa.bool_())])
    cols = [c.slice(first_data_index) for c in span_columns]
    keys = [c.slice(first_data_index) for c in key_columns]
    first = pc.coalesce(*cols) if cols else pa.chunked_array([pa.nulls(n, pa.string())])
    footer_at, total = -1, None
    if _may_start_total_or_footer(first):
        footer = pc.fill_null(pc.match_substring_regex(first, _FOOTER_RE), False)
        footer_at = pc.index(footer, True).as_py()
        total = pc.fill_null(pc.match_substring_regex(first, _TOTAL_RE), False)
    no_value = pc.is_null(keys[0]) if keys else pc.is_null(first)
    for col in keys[1:]:
        no_value = pc.and_(no_value, pc.is_null(col))
    none = pa.scalar(None, pa.string())
    reason = pc.if_else(no_value, pa.scalar(SKIP_BLANK), none)
    if total is not None:
        reason = pc.if_else(total, pa.scalar(SKIP_TOTAL), reason)
    footer_row = None
    if footer_at >= 0:
        footer_row = first_data_index + footer_at + 1
        tail = pc.if_else(pc.is_null(first.slice(footer_at)), pa.scalar(""), pa.scalar(SKIP_FOOTER))
        reason = pa.chunked_array(reason.slice(0, footer_at).chunks + tail.chunks, type=pa.string())
    listed = pc.fill_null(pc.not_equal(reason, ""), False)
    at = pc.indices_nonzero(listed.combine_chunks() if isinstance(listed, pa.ChunkedArray) else listed)
    reasons = pc.take(reason, at).to_pylist()
    skipped = [(first_data_index + i + 1, why) for i, why in zip(at.to_pylist(), reasons, strict=True)]
    return footer_row, skipped, pc.is_null(reason)
