"""A 责任分工表 as a grid of cells: read from .xlsx/.xls/.csv or a Word .docx table, its header row found,
and written back.

Offices lay the table out as a title, a header row (序号, 工作任务, 具体措施, 牵头单位, 责任单位/配合单位,
完成时限, 工作目标 …), section rows (一、… / （一）…) and one row per task; a long table repeats its header
on every page. Merged cells (one 牵头单位 over several tasks) are read as if each cell held the value.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROLES", "Grid", "Header", "column_letter", "find_header", "read_grid", "write_grid"]

SUFFIXES = (".xlsx", ".xls", ".csv", ".docx")

# What a column holds → the headers offices use for it (matched whole first, then as part of the header).
ROLES: dict[str, tuple[str, ...]] = {
    "no": ("序号", "编号", "任务编号", "序"),
    "title": (
        "工作任务",
        "整治任务",
        "整治内容",
        "目标任务",
        "重点任务",
        "主要任务",
        "重点工作",
        "任务名称",
        "任务",
    ),
    "measures": ("具体措施", "工作措施", "主要措施", "具体内容", "工作内容", "措施"),
    "lead": ("牵头单位", "牵头部门", "主责单位", "牵头"),
    "responsible": ("责任单位", "责任部门"),
    "co": ("配合单位", "协作单位", "参加单位", "协办单位", "配合部门", "参与单位", "协作部门"),
    "deadline": ("完成时限", "完成时间", "时间节点", "完成期限", "时间要求", "时限"),
    "goal": ("工作目标", "预期目标", "目标要求", "目标"),
}
ROLE_NAMES = {
    "no": "序号",
    "title": "工作任务",
    "measures": "具体措施",
    "lead": "牵头单位",
    "responsible": "责任单位",
    "co": "配合单位",
    "deadline": "完成时限",
    "goal": "工作目标",
}


@dataclass(frozen=True)
class Grid:
    """The cells of one sheet (or Word table), ``rows[i][j]`` = row i+1, column j+1 (None when empty);
    ``above`` the paragraphs written above a Word table (its title)."""

    sheet: str
    rows: list[list[object]]
    above: tuple[str, ...] = ()


@dataclass(frozen=True)
class Header:
    """Where the header row is (0-based) and which column (0-based) plays each role; ``unused`` headers
    are columns the import does not read (工作推进落实情况, 备注 …)."""

    row: int
    columns: dict[str, int]
    headers: dict[int, str]
    unused: list[tuple[int, str]]


def column_letter(index: int) -> str:
    """0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def fold(value: object) -> str:
    """A cell as text: full-width folded, white space (line breaks inside a cell too) removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "".join(unicodedata.normalize("NFKC", str(value)).split())


def _read_workbook(path: Path) -> list[Grid]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))  # the parser ingest uses: no XML entity expansion
    grids = []
    for name in book.sheet_names:
        sheet = book.get_sheet_by_name(name)
        # Not skipping the empty area keeps row numbers those of the sheet (the report names them).
        rows = [[None if v == "" else v for v in row] for row in sheet.to_python(skip_empty_area=False)]
        for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
            value = rows[r0][c0] if r0 < len(rows) and c0 < len(rows[r0]) else None
            for r in range(r0, min(r1 + 1, len(rows))):
                for c in range(c0, min(c1 + 1, len(rows[r]))):
                    rows[r][c] = value
        grids.append(Grid(name, rows))
    return grids


def _read_csv(path: Path) -> list[Grid]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError("文件既不是 UTF-8 也不是 GB18030 编码")
    rows = [[c if c.strip() else None for c in row] for row in csv.reader(text.splitlines())]
    return [Grid(path.stem, rows)]


def _read_docx(path: Path) -> list[Grid]:
    from roadsafe.campaign.docx_table import read_docx_tables

    return [Grid(name, rows, above) for name, rows, above in read_docx_tables(path)]


_OLD_WORD = (
    "这是旧版 Word 文档（.doc）或 WPS 文档，系统无法读取其中的表格。请在 Word 或 WPS 中打开，"
    "另存为 .docx 或 .xlsx 文件后再导入"
)


def read_grid(path: Path) -> list[Grid]:
    """Every sheet (or Word table) of a table file. Raises ValueError (Chinese) for a file that cannot be read."""
    from roadsafe.campaign.docx_table import is_docx

    suffix = path.suffix.lower()
    readers = {".xlsx": _read_workbook, ".xls": _read_workbook, ".csv": _read_csv, ".docx": _read_docx}
    if suffix in (".xlsx", ".xls", ".doc", ".docx", ".wps") and is_docx(path):
        suffix = ".docx"  # judged by content: a Word document saved under another name
    elif suffix in (".doc", ".wps", ".docx"):
        raise ValueError(_OLD_WORD)
    if suffix not in readers:
        raise ValueError(f"不支持的文件类型“{path.suffix}”，请另存为 .xlsx、.xls、.csv 或 .docx 后再导入")
    try:
        return readers[suffix](path)
    except ValueError:
        raise
    except Exception as exc:  # a damaged or mislabelled file: the office needs the reason, not a trace
        raise ValueError(
            f"无法读取文件（{type(exc).__name__}：{exc}），请确认文件未损坏且类型与扩展名一致"
        ) from exc


def _role_of(text: str, exact: bool) -> str | None:
    for role, words in ROLES.items():
        if (text in words) if exact else any(w in text for w in words):
            return role
    return None


def match_header(cells: list[object]) -> dict[str, int]:
    """Role → column for a row read as a header (empty when it is not one)."""
    columns: dict[str, int] = {}
    texts = [re.sub(r"[(（].*?[)）]", "", fold(c)) for c in cells]
    for exact in (True, False):
        for j, text in enumerate(texts):
            if not text or j in columns.values():
                continue
            role = _role_of(text, exact)
            if role and role not in columns:
                columns[role] = j
    return columns


def find_header(grid: Grid, scan: int = 15) -> Header | None:
    """The first row (within ``scan``) naming a task column and a unit or deadline column."""
    for i, cells in enumerate(grid.rows[:scan]):
        columns = match_header(cells)
        has_task = "title" in columns or "measures" in columns
        if has_task and ({"lead", "responsible", "co"} & columns.keys()):
            headers = {j: fold(c) for j, c in enumerate(cells) if fold(c)}
            unused = [(j, h) for j, h in headers.items() if j not in columns.values()]
            return Header(row=i, columns=columns, headers=headers, unused=unused)
    return None


def write_grid(path: Path, title: str, header: list[str], rows: list[list[str] | str]) -> None:
    """Write a table: a title row, the header, then rows; a plain string is a section row across the table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    ws = book.active
    ws.title = "责任分工表"
    width = len(header)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        if isinstance(row, str):
            ws.append([row])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)
            ws.cell(ws.max_row, 1).font = Font(bold=True)
        else:
            ws.append(row)
    for j, w in enumerate((6, 28, 60, 18, 30, 16)[:width]):
        ws.column_dimensions[column_letter(j)].width = w
    for line in ws.iter_rows(min_row=3):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)
