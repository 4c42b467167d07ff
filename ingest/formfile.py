"""Official form files (报表): the layout every form is issued in and, mostly, returned in.

One layout serves the blank templates (:mod:`ingest.templates`) and the sample campaign
(:mod:`application.samples`)::

    2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）          ← title, merged across
    填报单位：市公安局　　统计时段：2022年5月5日至5月11日                  ← unit / period line
    县区 | 重点车辆总数 | 检验情况          | 注销情况                      ← header (optionally two rows,
         |              | 应检验数 | 已检验数 | 应注销数 | 已注销数           parent cells merged)
    浔阳区 | 3120 | 690 | 455 | 71 | 40                                    ← data rows
    合计 | …                                                                ← optional total row
    填报人：　　　联系电话：　　　审核人：                                  ← footer

:func:`build_grid` lays a form out as a plain grid of cells plus merged ranges; the writers put that grid
into .xlsx (xlsxwriter), .xls (xlwt) or .csv (any encoding, merged cells saved the way Excel saves them:
the value in the top-left cell, the others empty). Values are written as given: ``int``/``float`` as
numbers, :class:`datetime.date` as date cells (ISO text in CSV), ``str`` as text, ``None`` as an empty cell.
Nothing here changes values; the sample generator renders messy spellings (``1,234``, ``3.15万``) itself.

Examples
--------
>>> from roadsafe.campaign import load_campaign
>>> c = load_campaign("jiujiang-2022")
>>> form_title(c, "F1", 5)
'2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）'
>>> unit_line(c, "gongan", 5)
'填报单位：市公安局\\u3000\\u3000统计时段：2022年5月5日至5月11日'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from roadsafe.wording import cn_date

__all__ = [
    "DEFAULT_FOOTER",
    "HEADER_GROUPS",
    "FormGrid",
    "Layout",
    "build_grid",
    "display_width",
    "form_due_at",
    "form_filename",
    "form_title",
    "period_span",
    "unit_line",
    "write_form",
    "write_form_csv",
    "write_form_xls",
    "write_form_xlsx",
]

# Parent headers of the two-row header, per form code: (parent, column keys under it). A group is used only
# when all its columns are present and next to each other in the written order; other columns span both rows.
HEADER_GROUPS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "F1": (("检验情况", ("inspect_due", "inspected")), ("注销情况", ("cancel_due", "cancelled"))),
    "F2": (("换证情况", ("renew_due", "renewed")), ("审验情况", ("review_due", "reviewed"))),
    "F3": (
        (
            "严重交通违法查处数（起）",
            (
                "drunk_driving",
                "ebike_violations",
                "truck_violations",
                "highway_point_violations",
                "rural_point_violations",
            ),
        ),
    ),
    "F4": (("整改情况", ("status", "fixed_on", "responsible_unit")),),
    "F5": (
        ("“五必上”落实情况", ("warning_sign", "road_marking", "speed_bump", "warning_post", "signal_light")),
    ),
    "F6": (("本周检查情况", ("enterprises_inspected", "problems_found", "problems_fixed")),),
    "F7": (("共享电动车", ("shared_ebikes", "ebikes_registered", "helmets_equipped")),),
    "F8": (("本周事故情况", ("accidents", "deaths", "injuries")),),
}

DEFAULT_FOOTER = "填报人：　　　　　　联系电话：　　　　　　审核人：　　　　　　"

RowKind = Literal["title", "unit", "gap", "header", "data", "blank", "total", "footer"]


@dataclass(frozen=True)
class Layout:
    """How a form is laid out on its sheet. Every field has the official default.

    Attributes
    ----------
    title, unit_row : bool
        The merged title row and the 填报单位/统计时段 row above the header.
    unit_text : str, optional
        The whole 填报单位 line instead of :func:`unit_line` (e.g. an alias or 填报日期).
    gap_before_header : bool
        An empty row between the unit line and the header.
    grouped_header : bool
        Two header rows with merged parent cells (:data:`HEADER_GROUPS`); ignored for forms without groups.
    headers : mapping
        Column key → header text written instead of the official one (a synonym).
    column_order : sequence of keys, optional
        Columns in this order first, the rest after in form order.
    extra_columns : sequence of (key, header)
        Columns that are not in the form, written after the form's columns (values come from the rows).
    total_row : "bottom", "top" or None
        A 合计 row below the data (or right under the header); ``totals`` gives its values, else integer
        and float values of the data rows are summed.
    blank_rows_after : sequence of int
        Data row indexes after which an empty row is inserted.
    footer, footer_text, footer_split
        The 填报人/联系电话/审核人 line, as one cell or split over three cells.
    merge_banners : bool
        Merge the title, unit and footer rows across the table (xlsx/xls).
    validations, header_comments, cell_comments, validation_rows, instructions
        Template features (xlsx only): drop-down lists and number checks per column type, comments on header
        cells (by key) and data cells (by (row index, key)), how many data rows the checks cover at least, and
        a 填表说明 sheet (rows of cells) after the form sheet.
    freeze_header, fit_widths : bool
        Freeze the rows above the data; size columns to their Chinese headers.
    date_format : str
        Number format of date cells in xlsx/xls.
    created : datetime, optional
        Workbook creation time (xlsx). Default: 09:00 on the day after the period ends, so files are
        byte-for-byte reproducible.
    """

    title: bool = True
    unit_row: bool = True
    unit_text: str | None = None
    gap_before_header: bool = False
    grouped_header: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    column_order: Sequence[str] | None = None
    extra_columns: Sequence[tuple[str, str]] = ()
    total_row: Literal["bottom", "top"] | None = None
    total_label: str = "合计"
    totals: Mapping[str, Any] | None = None
    blank_rows_after: Sequence[int] = ()
    footer: bool = True
    footer_text: str = DEFAULT_FOOTER
    footer_split: bool = False
    merge_banners: bool = True
    sheet_name: str | None = None
    validations: bool = False
    header_comments: Mapping[str, str] = field(default_factory=dict)
    cell_comments: Mapping[tuple[int, str], str] = field(default_factory=dict)
    validation_rows: int = 0
    instructions: Sequence[Sequence[str]] | None = None
    freeze_header: bool = True
    fit_widths: bool = True
    date_format: str = "yyyy-mm-dd"
    created: dt.datetime | None = None


@dataclass
class FormGrid:
    """A form laid out as cells. Row and column indexes are 0-based (Excel row = index + 1)."""

    form_code: str
    title: str
    columns: list[tuple[str, str]]  # (key, header) in written order
    cells: list[list[Any]] = field(default_factory=list)
    kinds: list[RowKind] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2 inclusive
    header_first: int = 0
    header_rows: int = 1
    data_rows: list[int] = field(default_factory=list)  # grid row of each data row, in order
    total_at: int | None = None
    sheet_name: str = "Sheet1"

    @property
    def ncols(self) -> int:
        return len(self.columns)

    @property
    def first_data_row(self) -> int:
        return self.header_first + self.header_rows

    def column_index(self, key: str) -> int:
        return next(i for i, (k, _) in enumerate(self.columns) if k == key)

    def covered(self) -> set[tuple[int, int]]:
        """Cells inside a merged range other than its top-left cell."""
        out: set[tuple[int, int]] = set()
        for r1, c1, r2, c2 in self.merges:
            out.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1) if (r, c) != (r1, c1))
        return out


# ---------------------------------------------------------------------------------------------- texts


def period_span(campaign, period_no: int) -> str:
    """``2022年5月5日至5月11日`` (one day: ``2022年6月30日``)."""
    p = campaign.period(period_no)
    if p.start == p.end:
        return cn_date(p.start)
    return f"{cn_date(p.start)}至{cn_date(p.end, with_year=p.end.year != p.start.year)}"


def form_title(campaign, form_code: str, period_no: int) -> str:
    """The title row: campaign name, form name and the period label."""
    return f"{campaign.frame.name} {campaign.forms[form_code].name}（{campaign.period(period_no).label}）"


def unit_line(campaign, unit_id: str, period_no: int, unit_name: str | None = None) -> str:
    """``填报单位：市公安局　　统计时段：2022年5月5日至5月11日``."""
    name = unit_name or _unit_name(campaign, unit_id)
    return f"填报单位：{name}\u3000\u3000统计时段：{period_span(campaign, period_no)}"


def form_filename(campaign, form_code: str, unit_id: str, period_no: int, ext: str = "xlsx") -> str:
    """``重点车辆隐患清零周报（第5周）-市公安局.xlsx``."""
    form = campaign.forms[form_code]
    return f"{form.name}（{campaign.period(period_no).label}）-{_unit_name(campaign, unit_id)}.{ext}"


def form_due_at(campaign, period_no: int, calendar=None) -> dt.datetime:
    """When a period's forms are due (aware, campaign time zone): :func:`roadsafe.schedule.form_due_at`.

    Examples
    --------
    >>> from roadsafe.campaign import load_campaign
    >>> form_due_at(load_campaign("jiujiang-2022"), 4).isoformat()   # week 4 ends 05-04 (劳动节)
    '2022-05-05T12:00:00+08:00'
    """
    from roadsafe.schedule import form_due_at as schedule_due_at

    if calendar is None:
        from roadsafe.workcalendar import WorkCalendar

        calendar = WorkCalendar.load()
    return schedule_due_at(campaign, calendar, campaign.period(period_no))


def display_width(text: Any) -> int:
    """Width of a text in Excel column units, counting wide (CJK) characters twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _unit_name(campaign, unit_id: str) -> str:
    unit = campaign.units.get(unit_id)
    return unit.name if unit else unit_id


# ---------------------------------------------------------------------------------------------- grid


def _columns(form, layout: Layout) -> list[tuple[str, str]]:
    cols = [(c.key, layout.headers.get(c.key, c.header)) for c in form.columns]
    cols += [(k, layout.headers.get(k, h)) for k, h in layout.extra_columns]
    if layout.column_order:
        by_key = dict(cols)
        first = [k for k in layout.column_order if k in by_key]
        cols = [(k, by_key[k]) for k in first] + [(k, h) for k, h in cols if k not in first]
    return cols


def _groups(form_code: str, keys: list[str]) -> list[tuple[str, int, int]]:
    """(parent, first column, last column) of each usable header group."""
    out = []
    for parent, members in HEADER_GROUPS.get(form_code, ()):
        if not all(m in keys for m in members):
            continue
        idx = sorted(keys.index(m) for m in members)
        if idx[-1] - idx[0] == len(idx) - 1:
            out.append((parent, idx[0], idx[-1]))
    return out


def _sum(values: list[Any]) -> Any:
    nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not nums:
        return None
    total = sum(nums)
    return int(total) if all(isinstance(v, int) for v in nums) else total


def build_grid(campaign, form_code: str, unit_id: str, period_no: int, rows, layout: Layout) -> FormGrid:
    """Lay a form out as a :class:`FormGrid` (see the module docstring for the shape)."""
    if form_code not in campaign.forms:
        raise ValueError(f"报表代码“{form_code}”不在活动“{campaign.frame.name}”的报表定义中。")
    form = campaign.forms[form_code]
    rows = list(rows or [])
    columns = _columns(form, layout)
    keys = [k for k, _ in columns]
    n = len(columns)
    grid = FormGrid(form_code=form_code, title=form_title(campaign, form_code, period_no), columns=columns)
    grid.sheet_name = _sheet_name(layout.sheet_name or form.name)

    def add(kind: RowKind, cells: list[Any]) -> int:
        grid.cells.append(cells + [None] * (n - len(cells)))
        grid.kinds.append(kind)
        return len(grid.cells) - 1

    def banner(kind: RowKind, text: str) -> None:
        r = add(kind, [text])
        if layout.merge_banners and n > 1:
            grid.merges.append((r, 0, r, n - 1))

    if layout.title:
        banner("title", grid.title)
    if layout.unit_row:
        banner("unit", layout.unit_text or unit_line(campaign, unit_id, period_no))
    if layout.gap_before_header:
        add("gap", [])

    groups = _groups(form_code, keys) if layout.grouped_header else []
    grid.header_first = len(grid.cells)
    if groups:
        grid.header_rows = 2
        top = add("header", [h for _, h in columns])
        bottom = add("header", [None] * n)
        grouped: set[int] = set()
        for parent, c1, c2 in groups:
            grid.cells[top][c1] = parent
            for c in range(c1, c2 + 1):
                grid.cells[top][c] = parent if c == c1 else None
                grid.cells[bottom][c] = columns[c][1]
                grouped.add(c)
            if c2 > c1:
                grid.merges.append((top, c1, top, c2))
        for c in range(n):
            if c not in grouped:
                grid.merges.append((top, c, bottom, c))
    else:
        add("header", [h for _, h in columns])

    label_col = keys.index(form.key_column) if form.key_column in keys else 0
    total_cells: list[Any] | None = None
    if layout.total_row:
        totals = layout.totals
        if totals is None:
            totals = {
                c.key: _sum([r.get(c.key) for r in rows])
                for c in form.columns
                if c.type in {"integer", "rate"}
            }
        total_cells = [totals.get(k) for k in keys]
        total_cells[label_col] = layout.total_label
    if total_cells is not None and layout.total_row == "top":
        grid.total_at = add("total", total_cells)
    blank_after = set(layout.blank_rows_after)
    for i, row in enumerate(rows):
        grid.data_rows.append(add("data", [row.get(k) for k in keys]))
        if i in blank_after and i < len(rows) - 1:
            add("blank", [])
    if total_cells is not None and layout.total_row == "bottom":
        grid.total_at = add("total", total_cells)
    if layout.footer:
        if layout.footer_split and n >= 3:
            parts = [p for p in layout.footer_text.replace("\u3000", " ").split() if p]
            cells: list[Any] = [None] * n
            for part, col in zip(parts, (0, n // 2, n - 1), strict=False):
                cells[col] = part
            add("footer", cells)
        else:
            banner("footer", layout.footer_text)
    return grid


def _sheet_name(name: str) -> str:
    for ch in "[]:*?/\\":
        name = name.replace(ch, "")
    return name[:31] or "Sheet1"


# ---------------------------------------------------------------------------------------------- writers


def _layout(layout: Layout | None, options: dict[str, Any]) -> Layout:
    layout = layout or Layout()
    unknown = set(options) - {f.name for f in fields(Layout)}
    if unknown:
        raise TypeError(f"unknown layout options: {sorted(unknown)}")
    return replace(layout, **options) if options else layout


def _created(campaign, period_no: int, layout: Layout) -> dt.datetime:
    if layout.created is not None:
        return layout.created.replace(tzinfo=None)
    return dt.datetime.combine(campaign.period(period_no).end + dt.timedelta(days=1), dt.time(9, 0))


def write_form(
    path, campaign, form_code, unit_id, period_no, rows=None, *, encoding="utf-8-sig", layout=None, **options
) -> FormGrid:
    """Write a form file; the format follows the suffix (.xlsx, .xls, .csv)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        return write_form_xlsx(path, campaign, form_code, unit_id, period_no, rows, layout=layout, **options)
    if suffix == ".xls":
        return write_form_xls(path, campaign, form_code, unit_id, period_no, rows, layout=layout, **options)
    if suffix == ".csv":
        return write_form_csv(
            path, campaign, form_code, unit_id, period_no, rows, encoding=encoding, layout=layout, **options
        )
    raise ValueError(f"不支持的文件格式“{suffix}”，请使用 .xlsx、.xls 或 .csv。")


def write_form_csv(
    path, campaign, form_code, unit_id, period_no, rows=None, *, encoding="utf-8-sig", layout=None, **options
) -> FormGrid:
    """Write the form as CSV in ``encoding`` (``gbk``, ``utf-8-sig``, ``utf-8``), CRLF line ends as Excel."""
    layout = _layout(layout, options)
    grid = build_grid(campaign, form_code, unit_id, period_no, rows, layout)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for cells in grid.cells:
        writer.writerow(["" if v is None else _csv_text(v) for v in cells])
    Path(path).write_bytes(buf.getvalue().encode(encoding))
    return grid


def _csv_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _widths(grid: FormGrid, form) -> list[float]:
    widths = []
    types = {c.key: c.type for c in form.columns}
    for c, (key, header) in enumerate(grid.columns):
        w = display_width(header)
        for r in grid.data_rows:
            v = grid.cells[r][c]
            if v is not None:
                w = max(w, min(display_width(v if not isinstance(v, dt.date) else "2022-04-15"), 40))
        if types.get(key) == "text" and (w >= 40 or (form is not None and form.grain == "task")):
            w = max(w, 48)
        widths.append(max(6, w + 2))
    return widths


def _wrap_columns(grid: FormGrid, widths: list[float]) -> set[int]:
    return {c for c, w in enumerate(widths) if w >= 40}


def write_form_xlsx(
    path, campaign, form_code, unit_id, period_no, rows=None, *, layout=None, **options
) -> FormGrid:
    """Write the form as .xlsx in the official layout (see :class:`Layout` for the options).

    Returns the :class:`FormGrid` written, so callers know where the header and data rows are.
    """
    import xlsxwriter

    layout = _layout(layout, options)
    form = campaign.forms[form_code] if form_code in campaign.forms else None
    grid = build_grid(campaign, form_code, unit_id, period_no, rows, layout)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties(
        {
            "title": grid.title,
            "author": campaign.frame.office_short,
            "created": _created(campaign, period_no, layout),
        }
    )
    base = {"font_name": "宋体", "font_size": 11, "valign": "vcenter"}
    fmt = {
        "title": wb.add_format({**base, "bold": True, "font_size": 16, "align": "center"}),
        "unit": wb.add_format({**base}),
        "gap": wb.add_format(base),
        "header": wb.add_format(
            {**base, "bold": True, "border": 1, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"}
        ),
        "data": wb.add_format({**base, "border": 1}),
        "wrap": wb.add_format({**base, "border": 1, "text_wrap": True}),
        "date": wb.add_format({**base, "border": 1, "num_format": layout.date_format, "align": "left"}),
        "total": wb.add_format({**base, "border": 1, "bold": True}),
        "footer": wb.add_format(base),
        "blank": wb.add_format(base),
    }
    ws = wb.add_worksheet(grid.sheet_name)
    widths = _widths(grid, form)
    wrap = _wrap_columns(grid, widths)
    covered = grid.covered()
    merged_at = {(r1, c1): (r1, c1, r2, c2) for r1, c1, r2, c2 in grid.merges}
    for r, (kind, cells) in enumerate(zip(grid.kinds, grid.cells, strict=True)):
        for c, value in enumerate(cells):
            if (r, c) in covered:
                continue
            f = fmt[kind]
            if kind == "data" and c in wrap:
                f = fmt["wrap"]
            if (r, c) in merged_at:
                r1, c1, r2, c2 = merged_at[(r, c)]
                ws.merge_range(r1, c1, r2, c2, None, f)
                if value is None:
                    continue
            if value is None:
                if kind in {"header", "data", "total"}:
                    ws.write_blank(r, c, None, f)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, c, value, fmt["date"] if kind == "data" else f)
            elif _is_number(value):
                ws.write_number(r, c, value, f)
            else:
                ws.write_string(r, c, str(value), f)
    if layout.title and grid.kinds and grid.kinds[0] == "title":
        ws.set_row(0, 30)
    if grid.header_rows == 2 or any(display_width(h) > 14 for _, h in grid.columns):
        for r in range(grid.header_first, grid.first_data_row):
            ws.set_row(r, 30)
    if layout.fit_widths:
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
    if layout.freeze_header:
        ws.freeze_panes(grid.first_data_row, 0)
    header_row = grid.first_data_row - 1
    for key, text in layout.header_comments.items():
        if key in dict(grid.columns):
            c = grid.column_index(key)
            r = header_row if (header_row, c) not in covered else grid.header_first
            ws.write_comment(r, c, text, {"x_scale": 1.6, "y_scale": 1.2})
    for (i, key), text in layout.cell_comments.items():
        if i < len(grid.data_rows) and key in dict(grid.columns):
            ws.write_comment(
                grid.data_rows[i], grid.column_index(key), text, {"x_scale": 2.4, "y_scale": 2.0}
            )
    if layout.validations and form is not None:
        _add_validations(wb, ws, grid, form, campaign, layout)
    if layout.instructions:
        _write_instructions(wb, layout.instructions, base)
    wb.close()
    return grid


def _add_validations(wb, ws, grid: FormGrid, form, campaign, layout: Layout) -> None:
    first = grid.first_data_row
    last = first + max(len(grid.data_rows), layout.validation_rows, 1) - 1
    if grid.data_rows:
        last = max(last, grid.data_rows[-1])
    lists_sheet = None
    lists_used = 0

    def list_source(values: list[str]):
        nonlocal lists_sheet, lists_used
        if len(",".join(values)) <= 250 and not any("," in v for v in values):
            return values
        if lists_sheet is None:
            lists_sheet = wb.add_worksheet("_lists")
            lists_sheet.hide()
        col = lists_used
        lists_used += 1
        for i, v in enumerate(values):
            lists_sheet.write_string(i, col, v)
        letter = _col_letter(col)
        return f"=_lists!${letter}$1:${letter}${len(values)}"

    county_names = [u.name for u in campaign.counties]
    for key, header in grid.columns:
        try:
            col = form.column(key)
        except KeyError:
            continue
        c = grid.column_index(key)
        short = header[:28]
        opts: dict[str, Any] | None = None
        if col.type == "county":
            opts = {
                "validate": "list",
                "source": list_source(county_names),
                "input_title": short,
                "input_message": "请从下拉列表选择县(市、区)规范名称。",
                "error_title": "县区名称有误",
                "error_message": "请从下拉列表中选择县(市、区)。",
            }
        elif col.type in {"enum", "yesno"}:
            values = list(col.values or []) if col.type == "enum" else ["是", "否"]
            opts = {
                "validate": "list",
                "source": list_source(values),
                "input_title": short,
                "input_message": "请从下拉列表选择：" + "、".join(values)[:200],
                "error_title": "填写值不在可选范围内",
                "error_message": "请从下拉列表中选择。",
            }
        elif col.type == "integer":
            what = (
                "截至本周末累计数"
                if col.measure == "stock"
                else "本周内发生数"
                if col.measure == "flow"
                else "数量"
            )
            opts = {
                "validate": "integer",
                "criteria": ">=",
                "value": 0,
                "error_type": "warning",
                "input_title": short,
                "input_message": f"{what}，填写不小于0的整数；数据不详请留空或填“—”，不要填0。",
                "error_title": "请填写整数",
                "error_message": "应为不小于0的整数。数据不详请留空或填“—”。是否仍要保留？",
            }
        elif col.type == "rate":
            opts = {
                "validate": "decimal",
                "criteria": "between",
                "minimum": 0,
                "maximum": 1,
                "error_type": "warning",
                "input_title": short,
                "input_message": "填写0至1之间的小数或百分数（如95%）。",
                "error_title": "比率超出范围",
                "error_message": "比率应在0至100%之间。",
            }
        elif col.type == "date":
            start = campaign.frame.start
            opts = {
                "validate": "date",
                "criteria": "between",
                "error_type": "warning",
                "minimum": dt.date(start.year - 5, 1, 1),
                "maximum": dt.date(campaign.frame.end.year + 1, 12, 31),
                "input_title": short,
                "input_message": "日期格式如2022-04-15；尚未发生请留空。",
                "error_title": "日期有误",
                "error_message": "请填写有效日期，格式如2022-04-15。",
            }
        elif col.type == "task":
            opts = {
                "validate": "integer",
                "criteria": "between",
                "minimum": 1,
                "maximum": max((t.no for t in campaign.tasks), default=1),
                "input_title": short,
                "input_message": "任务编号（见实施方案），请勿修改。",
            }
        if opts:
            ws.data_validation(first, c, last, c, opts)


def _col_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _write_instructions(wb, rows: Sequence[Sequence[str]], base: dict) -> None:
    ws = wb.add_worksheet("填表说明")
    title = wb.add_format({**base, "bold": True, "font_size": 14})
    text = wb.add_format({**base, "text_wrap": True, "valign": "top"})
    widths = [0, 0, 0]
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            ws.write_string(r, c, str(value), title if r == 0 else text)
            if c < 3:
                widths[c] = max(widths[c], min(display_width(value), 90))
    for c, w in enumerate(widths):
        if w:
            ws.set_column(c, c, w + 2)


def write_form_xls(
    path, campaign, form_code, unit_id, period_no, rows=None, *, layout=None, **options
) -> FormGrid:
    """Write the form as legacy .xls (BIFF8, xlwt). Validations and comments are not written."""
    import xlwt

    layout = _layout(layout, options)
    form = campaign.forms[form_code] if form_code in campaign.forms else None
    grid = build_grid(campaign, form_code, unit_id, period_no, rows, layout)
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(grid.sheet_name)
    border = "borders: left thin, right thin, top thin, bottom thin;"
    font = "font: name 宋体, height 220;"
    style = {
        "title": xlwt.easyxf("font: name 宋体, bold on, height 320; align: horiz center, vert center;"),
        "unit": xlwt.easyxf(font + "align: vert center;"),
        "gap": xlwt.easyxf(font),
        "header": xlwt.easyxf(
            "font: name 宋体, bold on, height 220; align: horiz center, vert center, wrap on;" + border
        ),
        "data": xlwt.easyxf(font + border),
        "total": xlwt.easyxf("font: name 宋体, bold on, height 220;" + border),
        "footer": xlwt.easyxf(font),
        "blank": xlwt.easyxf(font),
    }
    date_style = xlwt.easyxf(font + border, num_format_str=layout.date_format)
    covered = grid.covered()
    merged_at = {(r1, c1): (r1, c1, r2, c2) for r1, c1, r2, c2 in grid.merges}
    for r, (kind, cells) in enumerate(zip(grid.kinds, grid.cells, strict=True)):
        for c, value in enumerate(cells):
            if (r, c) in covered:
                continue
            st = date_style if isinstance(value, dt.date) and kind == "data" else style[kind]
            if isinstance(value, str) and len(value) > 32000:
                value = value[:32000]
            if (r, c) in merged_at:
                r1, c1, r2, c2 = merged_at[(r, c)]
                ws.write_merge(r1, r2, c1, c2, "" if value is None else value, st)
            elif value is None:
                if kind in {"header", "data", "total"}:
                    ws.write(r, c, None, st)
            else:
                ws.write(r, c, value, st)
    if layout.fit_widths:
        for c, w in enumerate(_widths(grid, form)):
            ws.col(c).width = int(256 * min(w, 250))
    if layout.freeze_header:
        ws.set_panes_frozen(True)
        ws.set_horz_split_pos(grid.first_data_row)
        ws.set_remove_splits(True)
    wb.save(str(path))
    return grid
