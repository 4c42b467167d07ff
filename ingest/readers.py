"""Reading a submitted file: find the form's table in it and load its data rows as text into DuckDB.

:func:`parse_file` opens an .xlsx, .xls or .csv (:mod:`ingest.fileformat`), picks the sheet and the form whose
header matches best (:mod:`ingest.headers`), reads what the rows around the table say about form, week and
unit (:mod:`ingest.detect`) and returns a :class:`ParsedTable`. :meth:`ParsedTable.load_into` then puts the
data rows into a temporary DuckDB table of VARCHAR cells, one column per matched form column, each row with
its Excel row number, for the normalising and validation steps.

Examples
--------
>>> from roadsafe.campaign import load_campaign                                       # doctest: +SKIP
>>> parsed = parse_file(Path("F1.xlsx"), load_campaign("jiujiang-2022"))             # doctest: +SKIP
>>> parsed.form_code, parsed.header_row, parsed.detected_period                      # doctest: +SKIP
('F1', 4, 5)
>>> parsed.load_into(duckdb.connect(), "f1_cells")                                   # doctest: +SKIP
15
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ingest.detect import detect_form, detect_period, detect_unit, row_text
from ingest.fileformat import read_grid, read_grids, sniff_format
from ingest.grid import MAX_CELL_CHARS, FileFormat, Grid, UnreadableFile, clean_column
from ingest.headers import (
    HEADER_SEARCH_ROWS,
    SKIP_FOOTER,
    SKIP_TOTAL,
    HeaderMatch,
    classify_rows,
    find_header,
)
from ingest.messages import Place, label_columns, row_label, shown_name
from roadsafe.campaign.model import FormDef

__all__ = ["FormNotRecognised", "ParsedTable", "UnreadableFile", "parse_file"]

_HINT = "请使用下载的模板，或在上传时选择报表。"


class FormNotRecognised(Exception):
    """No sheet of the file holds the header of a form (or of the form the submitter chose).

    Attributes
    ----------
    message : str
        Chinese, starts with ``未能识别报表类型：`` and ends with how to fix it.
    form_code : str or None
        The form the submitter chose, if any.
    missing : list of str
        Official headers of the chosen form's required columns that were not found.
    suggested_form : str or None
        A form whose header the file does match, when it is not the chosen one.
    """

    def __init__(
        self,
        message: str,
        form_code: str | None = None,
        missing: list[str] | None = None,
        suggested_form: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.form_code = form_code
        self.missing = list(missing or [])
        self.suggested_form = suggested_form


@dataclass
class _Source:
    """Where the rows come from, and the data rows :func:`parse_file` already extracted (used once)."""

    fmt: FileFormat
    sheet_index: int
    match: HeaderMatch
    rows: object | None = None  # pyarrow.Table: source_row + one column per matched key


@dataclass(frozen=True)
class ParsedTable:
    """A form's table found in a file.

    Attributes
    ----------
    path : Path
        The file read (e.g. the landed copy).
    original_name : str
        The file name as the submitter named it, for messages.
    sheet : str
        Sheet name; ``"CSV"`` for a CSV file.
    form_code : str
    header_row : int
        Excel row number (1-based) of the last header row.
    columns : dict
        Form column key → 0-based source column index, in form order.
    headers : dict
        Form column key → header text as found (``检验情况/已检验数`` for a two-row header).
    missing_required, missing_optional : list of str
        Keys of form columns not found.
    extra_headers : list of str
        Non-empty headers that matched no column (or a column matched further left).
    detected_form : str or None
        From the title (form name), else the form the header matches best.
    detected_period : int or None
        From ``第N周`` in the title or file name, else from the dates above/below the table.
    detected_unit : str or None
        Unit id from a ``填报单位：…`` line.
    skipped_rows : list of (int, str)
        Excel row and reason (``空行``, ``合计行``, ``表尾（填报人/联系电话/审核人）``) of the rows
        below the header that are not data.
    """

    path: Path
    original_name: str
    sheet: str
    form_code: str
    header_row: int
    columns: dict[str, int]
    headers: dict[str, str]
    missing_required: list[str]
    missing_optional: list[str]
    extra_headers: list[str]
    detected_form: str | None
    detected_period: int | None
    detected_unit: str | None
    skipped_rows: list[tuple[int, str]]
    _source: _Source | None = field(default=None, repr=False, compare=False)

    def load_into(self, con, table: str) -> int:
        """Create TEMP TABLE ``table`` with the data rows; return how many.

        Columns: ``source_row INTEGER`` (Excel row as the submitter sees it), then one VARCHAR column per
        matched form column, named by its key, in form order, holding the cell text (numbers ``1234`` /
        ``0.95``, dates ``2022-04-15``, text stripped, empty → NULL). Blank, 合计/小计 and footer rows are
        left out (they are listed in :attr:`skipped_rows`). An existing temp table of that name is replaced.
        """
        view = f"__roadsafe_rows_{uuid.uuid4().hex}"
        count = self.register_rows(con, view)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_table_name(table)} AS SELECT * FROM {view}")
        finally:
            con.unregister(view)
        return count  # the table holds exactly these rows

    def register_rows(self, con, name: str) -> int:
        """Make the data rows readable on ``con`` as ``name`` without copying them; return how many.

        The columns of :meth:`load_into` (``source_row INTEGER`` and the VARCHAR cells), as an Arrow table
        registered on the connection (``con.register``): a large file's cells are then not copied once more
        before normalising. The caller releases them with ``con.unregister(name)``.
        """
        import pyarrow as pa

        rows = self._rows()
        cells = [rows.column(k).cast(pa.string()) for k in self.columns]  # plain VARCHAR
        source_row = rows.column("source_row").cast(pa.int32())
        table = pa.table([source_row, *cells], names=["source_row", *self.columns])
        con.execute(f"drop table if exists temp.{_table_name(name)}")  # a temp table of that name would clash
        con.register(name, table)
        return table.num_rows

    def _rows(self):
        source = self._source
        if source is None:
            raise RuntimeError("ParsedTable was not made by parse_file")
        if source.rows is not None:
            rows, source.rows = source.rows, None  # the cached rows serve one load; release their memory
            return rows
        grid = read_grid(self.path, self.original_name, source.fmt, source.sheet_index)
        return _data_rows(grid, source.match)[2]


def _table_name(table: str) -> str:
    if table.replace("_", "a").isalnum() and table.isascii() and not table[0].isdigit():
        return table
    return '"' + table.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------- parse


@dataclass
class _Candidate:
    grid: Grid
    match: HeaderMatch
    head: list[list[str | None]]
    title_form: str | None

    def rank(self) -> tuple:
        m = self.match
        titled = self.title_form == m.form_code
        return (m.eligible, self.grid.visible, m.score, titled, m.quality, -self.grid.index)


def _above_texts(head: list[list[str | None]], match: HeaderMatch) -> list[str]:
    first_header = match.row - match.rows + 1
    return [t for t in (row_text(row) for row in head[:first_header]) if t]


def parse_file(
    path: Path,
    campaign,
    *,
    form_code: str | None = None,
    period_no: int | None = None,
    original_name: str | None = None,
) -> ParsedTable:
    """Find the form's table in a file.

    Parameters
    ----------
    path : Path
        The file (.xlsx, .xls or .csv; the format is told from the content).
    campaign : roadsafe.campaign.Campaign
    form_code : str, optional
        The form the submitter chose; ``None`` to recognise it from the headers (and title).
    period_no : int, optional
        The week the submitter chose. It does not change how the file is read: the file's own week is
        detected into :attr:`ParsedTable.detected_period` either way, for the caller to compare.
    original_name : str, optional
        The file name as submitted (default: ``path.name``), used in every message.

    Returns
    -------
    ParsedTable

    Raises
    ------
    UnreadableFile
        Not a spreadsheet, an empty file or workbook, a password-protected workbook, an unknown encoding.
    FormNotRecognised
        No sheet holds a form's header, or the headers do not match ``form_code``.
    """
    path = Path(path)
    name = original_name or path.name
    if form_code is not None and form_code not in campaign.forms:
        known = "、".join(campaign.forms)
        raise FormNotRecognised(
            f"未能识别报表类型：报表代码“{form_code}”不存在（可选：{known}）。{_HINT}", form_code
        )
    fmt = sniff_format(path, name)
    wanted = [form_code] if form_code else list(campaign.forms)
    best: _Candidate | None = None
    best_any: _Candidate | None = None  # best match of any form, for detected_form and hints
    any_content = False
    searched = []
    for grid in read_grids(path, name, fmt):
        searched.append(grid.sheet)
        if grid.height == 0:
            continue
        head = grid.head(HEADER_SEARCH_ROWS + 1)
        if not any(any(row) for row in head):
            continue
        any_content = True
        for code in campaign.forms:
            match = find_header(head, grid.merged_ranges, campaign.forms[code])
            if match is None:
                continue
            title_form = detect_form(_above_texts(head, match), campaign)
            cand = _Candidate(grid, match, head, title_form)
            if best_any is None or cand.rank() > best_any.rank():
                best_any = cand
            if code in wanted and (best is None or cand.rank() > best.rank()):
                best = cand
    if not searched:
        raise UnreadableFile(
            f"文件“{shown_name(name)}”无法读取：文件中没有任何工作表。请填写报表后重新上传。"
        )
    if not any_content:
        what = "所有单元格都是空的" if fmt == "csv" else "所有工作表都是空的"
        raise UnreadableFile(
            f"文件“{shown_name(name)}”无法读取：文件中没有任何内容（{what}）。请填写报表后重新上传。"
        )
    if best is None or not best.match.eligible:
        raise _not_recognised(name, campaign, form_code, best, best_any, searched)
    del period_no  # see the docstring: detection does not depend on it
    return _parsed(path, name, campaign, fmt, best, best_any, form_code)


def _not_recognised(name, campaign, form_code, best, best_any, searched) -> FormNotRecognised:
    suggestion = best_any.match.form_code if best_any is not None and best_any.match.eligible else None
    where = "、".join(f"“{shown_name(s)}”" for s in searched[:5]) or "文件"
    if form_code is None:
        return FormNotRecognised(
            f"未能识别报表类型：文件“{shown_name(name)}”的工作表{where}前 {HEADER_SEARCH_ROWS} 行中找不到任何报表的表头"
            f"（如“县区”“隐患编号”“任务编号”等列名）。{_HINT}"
        )
    form = campaign.forms[form_code]
    required = [c for c in form.columns if c.required]
    found = best.match.columns if best is not None else {}
    missing = [c.header for c in required if c.key not in found]
    text = f"未能识别报表类型：文件“{shown_name(name)}”的表头与「{form_code} {form.name}」不符，"
    if missing:
        text += f"缺少必填列：{'、'.join(missing)}。"
    else:
        absent = [c.header for c in form.columns if c.key not in found]
        found_headers = "、".join(shown_name(h) for h in best.match.headers.values())
        text += f"只找到列：{found_headers}；未找到：{'、'.join(absent)}。"
    if suggestion and suggestion != form_code:
        text += f"文件的表头是「{suggestion} {campaign.forms[suggestion].name}」的，请确认选择的报表。"
    text += _HINT
    return FormNotRecognised(text, form_code, missing, suggestion if suggestion != form_code else None)


def _data_rows(grid: Grid, match: HeaderMatch):
    """Footer row, skipped rows and the data rows (an Arrow table) of the sheet below ``match``'s header."""
    import pyarrow as pa

    span = [name for name in grid.data.column_names if int(name[1:]) <= match.last_column]
    wanted = dict.fromkeys([*span, *(f"c{index}" for index in match.columns.values())])
    start = match.row + 1
    # only the rows below the header are cleaned: a column holding nothing but its header costs nothing
    clean = {name: clean_column(grid.data.column(name).slice(start), grid.fastexcel) for name in wanted}
    footer, skipped, keep = classify_rows(
        [clean[name] for name in span],
        [clean[f"c{i}"] for i in match.columns.values()],
        0,
        grid.height - start,
    )
    footer = footer + start if footer is not None else None
    skipped = [(row + start, why) for row, why in skipped]
    import pyarrow.compute as pc

    n = max(0, grid.height - start)
    ones = pa.repeat(pa.scalar(1, pa.int32()), n)
    columns = {"source_row": pc.cumulative_sum(ones, start=pa.scalar(start, pa.int32()))}  # start+1 … height
    columns.update({key: clean[f"c{index}"] for key, index in match.columns.items()})
    rows = pa.table(columns)
    if skipped or footer is not None or keep.null_count or not pc.all(keep).as_py():
        rows = rows.filter(keep)
    return footer, skipped, rows


def _check_cells(
    name: str, grid: Grid, match: HeaderMatch, footer: int | None, skipped, rows, form: FormDef
) -> None:
    """Refuse the file when a cell of the table holds more than Excel can (a cell of megabytes comes from no
    spreadsheet), or a formula whose result the file does not carry (the cell would read as empty)."""
    import pyarrow.compute as pc

    place = Place(name, grid.sheet)

    def where(row: int, key: str) -> str:
        """The message's place: the row named by its key cells (see ingest.messages.row_label)."""
        at = pc.index(rows.column("source_row"), row).as_py()
        keys = [k for k in label_columns(form) if k in rows.column_names] if at >= 0 else []
        label = row_label(form, {k: rows.column(k)[at].as_py() for k in keys}, key)
        return place.prefix(row, match.headers[key], label)

    for key in match.columns:
        column = rows.column(key)
        if column.null_count == len(column):
            continue
        lengths = pc.utf8_length(column)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_CELL_CHARS:
            at = pc.index(pc.greater(lengths, MAX_CELL_CHARS), True).as_py()
            row = rows.column("source_row")[at].as_py()
            raise UnreadableFile(
                f"{where(row, key)}内容过长（{longest} 个字符），超过了 Excel 单元格最多 "
                f"{MAX_CELL_CHARS} 个字符的上限，请核对该单元格的内容后重新报送。",
                grid.sheet,
                row,
                match.headers[key],
            )
    if not grid.unresolved:
        return
    by_column = {index: key for key, index in match.columns.items()}
    # data rows, and rows that look blank only because their formulas have no saved result
    last = min(grid.height, footer - 1 if footer is not None else grid.height)
    not_data = {row for row, why in skipped if why in (SKIP_TOTAL, SKIP_FOOTER)}
    cells = sorted(
        (r + 1, c)
        for r, c in grid.unresolved
        if c in by_column and match.row < r < last and r + 1 not in not_data
    )
    if not cells:
        return
    row, col = cells[0]
    text = f"{where(row, by_column[col])}单元格是公式，但文件中没有保存公式的计算结果，无法读取数值"
    if len(cells) > 1:
        examples = "、".join(f"第{r}行“{shown_name(match.headers[by_column[c]])}”列" for r, c in cells[1:4])
        more = "等" if len(cells) > 4 else ""
        text += f"（本表共有 {len(cells)} 个这样的单元格，另如{examples}{more}）"
    raise UnreadableFile(
        text + "。请在 Excel（或 WPS）中打开文件，确认数值显示正确后保存，再重新报送；"
        "或将公式单元格复制后“选择性粘贴”为数值。",
        grid.sheet,
        row,
        match.headers[by_column[col]],
    )


def _parsed(path, name, campaign, fmt, best: _Candidate, best_any: _Candidate | None, form_code):
    grid, match = best.grid, best.match
    footer, skipped, rows = _data_rows(grid, match)
    _check_cells(name, grid, match, footer, skipped, rows, campaign.forms[match.form_code])
    above = _above_texts(best.head, match)
    below: list[str] = []
    if footer is not None:
        near = list(range(footer - 1, min(footer + 3, grid.height)))
        below = [t for t in (row_text(r) for r in grid.rows_text(near)) if t]
    header_form = None
    if best_any is not None and best_any.grid is grid and best_any.match.eligible:
        header_form = best_any.match.form_code
    detected_form = (
        detect_form(above, campaign)
        or header_form
        or (match.form_code if form_code is None else None)
        or detect_form([name], campaign)
    )
    detected_period = detect_period([*above, *below], campaign, names=[name])
    detected_unit = detect_unit([*above, *below], campaign)
    return ParsedTable(
        path=path,
        original_name=name,
        sheet=grid.sheet,
        form_code=match.form_code,
        header_row=match.row + 1,
        columns=dict(match.columns),
        headers=dict(match.headers),
        missing_required=list(match.missing_required),
        missing_optional=list(match.missing_optional),
        extra_headers=list(match.extra_headers),
        detected_form=detected_form,
        detected_period=detected_period,
        detected_unit=detected_unit,
        skipped_rows=skipped,
        _source=_Source(fmt=fmt, sheet_index=grid.index, match=match, rows=rows),
    )
