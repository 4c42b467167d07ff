"""A campaign set up from the office's own 责任分工表 (``roadsafe campaign import``).

The table gives the tasks (序号, 工作任务, 具体措施, 牵头单位, 责任/配合单位, 完成时限, 工作目标); a template
campaign (``--like``) gives everything a table does not: the known units and their aliases, the reporting
rhythm, reports, reminders and ranking, and its task-grain progress form. Every cell that could not be read
is a :class:`Problem` naming row, column, value and what to do. Blocking problems (an unknown unit, an
unreadable deadline) stop the import unless it is a draft; the rest (a 旬 read as its last day, a figure
picked from the text) are listed for the office to confirm.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from roadsafe.campaign.deadlines import Deadline, parse_deadline
from roadsafe.campaign.definition import COUNTIES, Campaign, normalise_name
from roadsafe.campaign.table import (
    ROLE_NAMES,
    Grid,
    Header,
    column_letter,
    find_header,
    fold,
    match_header,
    read_grid,
)
from roadsafe.campaign.targets import find_targets

__all__ = ["ImportResult", "Problem", "TableOptions", "import_table"]

_ALL_COUNTIES = re.compile(
    r"各县[(\[（〔【]?市、?区[)\]）〕】]?(?:人民)?(?:政府)?(?:[(（]管委会[)）])?|各县区(?:人民)?(?:政府)?"
)
_VAGUE = re.compile(r"^(?:等)?(?:市直|市政府)?(?:各|有关|相关|其他|其它)")
_DUTY_SENTENCE = re.compile(r"由.+?(?:牵头|负责)|牵头负责|负责牵头")
_SECTION = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十]+部分)"
)
_TASK_NO = re.compile(r"^(?:[(（](\d{1,3})[)）]|(\d{1,3})[.、．])")  # "1." "1、" "（1）", not "2022年"
_YEAR_IN_TITLE = re.compile(r"(20\d\d)\s*年")
_OPEN, _CLOSE = "([（〔【", ")]）〕】"


@dataclass(frozen=True)
class Problem:
    """One cell (or the whole table, ``row`` None) the import could not take as it stands."""

    row: int | None
    column: str | None
    letter: str | None
    value: str
    message: str
    advice: str
    blocking: bool
    task: int | None = None
    about_column: bool = False  # the problem is the column itself (missing, not read), not one cell

    def text(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行" + (f"（第{self.task}项任务）" if self.task else ""))
        if self.column:
            where.append(f"“{self.column}”列" + (f"（{self.letter}列）" if self.letter else ""))
        place = "、".join(where) or "整张表"
        shown = self.value if len(self.value) <= 40 else self.value[:40] + "…"
        value = "" if self.about_column else (f"“{shown}”" if self.value else "（空白）")
        return f"{place}：{value}{self.message}。{self.advice}"


@dataclass(frozen=True)
class TableOptions:
    """What the command line adds to a table: code, name, year, campaign dates, and whether names not known
    to the template may be added as new units."""

    code: str
    name: str | None = None
    year: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    document: str | None = None
    accept_new_units: bool = False


@dataclass
class ImportResult:
    """Everything read from a table: YAML-ready documents plus the problems and notes."""

    source: Path
    sheet: str
    title: str
    frame: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    sections: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    forms: dict = field(default_factory=dict)
    new_units: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    document: str = ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]

    @property
    def to_confirm(self) -> list[Problem]:
        return [p for p in self.problems if not p.blocking]


def _split_units(text: str) -> list[str]:
    """A unit cell into names, on 、，,；;/ and line breaks outside brackets (各县(市、区) stays whole)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if depth == 0 and (ch in "、，,；;/" or ch.isspace()):
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _guess_kind(name: str) -> str:
    if not name.startswith("市") and re.fullmatch(r".{1,6}(?:县|区|市)(?:人民政府|政府|管委会)?", name):
        return "county"
    return "department"


class _Units:
    """Resolves the names of a table to unit ids of the template; names it does not know become new units."""

    def __init__(self, template: Campaign, accept_new: bool, taken: set[str]):
        self.template = template
        self.accept_new = accept_new
        self.taken = taken
        self.new: dict[str, dict] = {}
        self.reported: set[str] = set()  # new unit ids already listed for confirmation

    def _new_id(self, kind: str) -> str:
        prefix = "county" if kind == "county" else "dept"
        n = 1
        while f"{prefix}{n:02d}" in self.taken:
            n += 1
        self.taken.add(f"{prefix}{n:02d}")
        return f"{prefix}{n:02d}"

    def resolve(self, name: str) -> str | None:
        unit = self.template.resolve_unit(name)
        if unit is not None and unit.kind in {"county", "department"}:
            return unit.id
        key = normalise_name(name)
        if key in self.new:
            return self.new[key]["id"]
        if not self.accept_new:
            return None
        kind = _guess_kind(key)
        self.new[key] = {"id": self._new_id(kind), "name": key, "kind": kind}
        return self.new[key]["id"]


@dataclass
class _Cell:
    row: int
    column: str
    letter: str
    value: str
    task: int | None


def _problem(cell: _Cell, message: str, advice: str, blocking: bool) -> Problem:
    return Problem(cell.row, cell.column, cell.letter, cell.value, message, advice, blocking, cell.task)


def _units_in(cell: _Cell, units: _Units, problems: list[Problem], lead: bool) -> list[str]:
    refs: list[str] = []
    text = _ALL_COUNTIES.sub("§", fold(cell.value))
    if _DUTY_SENTENCE.search(text):
        problems.append(
            _problem(
                cell,
                "是一段分工说明，不是单位名单",
                "请只填写单位名称；分别由不同单位牵头的事项，请拆成单独的任务行",
                blocking=True,
            )
        )
        return []
    for part in _split_units(text):
        name, _, rest = part.partition("等") if not part.startswith("等") else ("", "", part)
        for piece in (name, rest):
            if piece == "§":
                refs.append(COUNTIES)
            elif "§" in piece:
                refs.append(COUNTIES)
            elif piece and (_VAGUE.match(piece) or piece.startswith("等")):
                within = "" if piece == fold(cell.value) else f"中的“{piece}”"
                problems.append(
                    _problem(
                        cell,
                        f"{within}未写明具体单位，" + ("不能作为牵头单位" if lead else "已不列入协作单位"),
                        "请写明具体单位名称；如指全部县区，请写“各县(市、区)人民政府”",
                        blocking=lead,
                    )
                )
            elif piece:
                within = "" if piece == fold(cell.value) else f"中的“{piece}”"
                known = units.template.resolve_unit(piece) is not None
                ref = units.resolve(piece)
                if ref is None:
                    problems.append(
                        _problem(
                            cell,
                            f"{within}不在已知单位中",
                            "如为已有单位的其他写法，请改用标准名称或在 units.yml 中为该单位添加别名；"
                            "如确为新单位，请核对名称后加 --accept-new-units 重新导入",
                            blocking=True,
                        )
                    )
                else:
                    if not known and ref not in units.reported:
                        units.reported.add(ref)
                        problems.append(
                            _problem(
                                cell,
                                f"{within}不在已知单位中，已作为新增单位（编号 {ref}）写入 units.yml",
                                "请核对单位名称、类别和编号；编号一经使用（登录名、文件夹）不宜再改",
                                blocking=False,
                            )
                        )
                    refs.append(ref)
    return list(dict.fromkeys(refs))


def _text(value: object) -> str:
    """A text cell with white space removed (OCR and line breaks put spaces inside Chinese sentences)."""
    return "".join(str(value or "").split())


def _strip_number(text: str) -> str:
    return _TASK_NO.sub("", text, count=1).strip()


class _Reader:
    def __init__(
        self, grid: Grid, header: Header, template: Campaign, options: TableOptions, year: int | None
    ):
        self.grid, self.header, self.options, self.year = grid, header, options, year
        self.template = template
        taken = set(template.units)
        self.units = _Units(template, options.accept_new_units, taken)
        self.problems: list[Problem] = []
        self.sections: list[dict] = []
        self.tasks: list[dict] = []
        self.deadlines: dict[int, tuple[Deadline, _Cell]] = {}

    def cell(self, i: int, role: str, task: int | None = None) -> _Cell:
        j = self.header.columns[role]
        cells = self.grid.rows[i]
        value = cells[j] if j < len(cells) else None
        header = self.header.headers.get(j, ROLE_NAMES[role])
        shown = (
            value.isoformat() if isinstance(value, dt.date) else ("" if value is None else str(value).strip())
        )
        return _Cell(i + 1, header, column_letter(j), shown, task)

    def raw(self, i: int, role: str) -> object:
        j = self.header.columns.get(role)
        cells = self.grid.rows[i]
        return cells[j] if j is not None and j < len(cells) else None

    def _section(self, text: str) -> None:
        title = re.sub(r"[(（]共.*?[)）]$", "", _SECTION.sub("", text)).rstrip("。.")
        self.sections.append({"no": len(self.sections) + 1, "title": title})

    def read(self) -> None:
        cols = self.header.columns
        for i in range(self.header.row + 1, len(self.grid.rows)):
            cells = self.grid.rows[i]
            texts = [fold(c) for c in cells]
            filled = [t for t in texts if t]
            if not filled or filled[0].startswith(("注:", "注：", "备注")):
                continue
            if len(match_header(cells)) >= 3:  # the header repeated on a new page
                continue
            unit_roles = [r for r in ("lead", "responsible", "co", "deadline") if r in cols]
            first = filled[0]
            # A section row: its heading alone (merged across the row), or with no units and no deadline.
            if _SECTION.match(first) and (
                len(set(filled)) == 1 or not any(fold(self.raw(i, r)) for r in unit_roles)
            ):
                self._section(_text(first))
                continue
            self._task(i)

    def _number(self, i: int, title: str) -> int | None:
        raw = fold(self.raw(i, "no"))
        if m := re.fullmatch(r"(\d{1,3})[.、]?", raw):
            return int(m.group(1))
        if m := _TASK_NO.match(title):
            return int(m.group(1) or m.group(2))
        return None

    def _task(self, i: int) -> None:
        cols = self.header.columns
        title_role = "title" if "title" in cols else "measures"
        title_text = _text(self.raw(i, title_role))
        no = self._number(i, title_text)
        if no is None:
            no = (self.tasks[-1]["no"] + 1) if self.tasks else 1
            if "no" in cols:
                self.problems.append(
                    _problem(
                        self.cell(i, "no", no),
                        "不是任务序号",
                        f"已按顺序编为第{no}项，请核对",
                        blocking=False,
                    )
                )
        if any(t["no"] == no for t in self.tasks):
            self.problems.append(
                _problem(
                    self.cell(i, "no" if "no" in cols else title_role, no),
                    "与前面的任务序号重复",
                    "请改正序号",
                    True,
                )
            )
        title = _strip_number(title_text).rstrip("。")
        summary = _text(self.raw(i, "measures")) if "measures" in cols and title_role == "title" else ""
        if not summary:
            head, dot, rest = title.partition("。")
            title, summary = (head, rest) if dot and rest else (title, title)
        if not title:
            self.problems.append(
                _problem(self.cell(i, title_role, no), "工作任务为空", "请填写任务名称", True)
            )
        if not self.sections:
            self.sections.append({"no": 1, "title": "重点任务"})
        lead, co = self._units(i, no)
        task = {
            "no": no,
            "section": self.sections[-1]["no"],
            "title": title,
            "summary": summary,
            "lead": lead,
            "co": co,
        }
        goal = _text(self.raw(i, "goal"))
        task["requirements"] = self._targets(
            i, no, [("goal", goal), (title_role, title_text), ("measures", summary)]
        )
        self._deadline(i, no, task)
        self.tasks.append(task)

    def _units(self, i: int, no: int) -> tuple[list[str], list[str]]:
        cols = self.header.columns
        if "lead" in cols:
            cell = self.cell(i, "lead", no)
            lead = _units_in(cell, self.units, self.problems, lead=True)
            co = []
            for role in ("responsible", "co"):
                if role in cols:
                    co += _units_in(self.cell(i, role, no), self.units, self.problems, lead=False)
        else:
            role = "responsible" if "responsible" in cols else "co"
            cell = self.cell(i, role, no)
            refs = _units_in(cell, self.units, self.problems, lead=True)
            lead, co = refs[:1], refs[1:]
        if not lead and not any(p.row == i + 1 and p.blocking for p in self.problems):
            self.problems.append(_problem(cell, "未写明牵头单位", "请填写牵头单位", True))
        return lead, [u for u in dict.fromkeys(co) if u not in lead]

    def _targets(self, i: int, no: int, texts: list[tuple[str, str]]) -> list[dict]:
        found: dict[str, tuple[str, list[str]]] = {}  # quote → (column role, labels)
        for role, text in texts:
            if role not in self.header.columns:
                continue
            for target in find_targets(text):
                labels = found.setdefault(target.quote, (role, []))[1]
                if target.label not in labels:
                    labels.append(target.label)
        requirements = []
        for quote, (role, labels) in found.items():
            label = "、".join(labels)
            requirements.append(
                {
                    "quote": quote,
                    "judged_by": "lead_report",
                    "note": f"从表格文字识别的目标：{label}，待确认（确认后可改为按指标判断）。",
                }
            )
            self.problems.append(
                _problem(
                    self.cell(i, role, no),
                    f"中识别出目标值“{label}”（“{quote}”）",
                    "此目标从表格文字识别，请核对；如需按报表数据考核，请在 indicators.yml 中设定指标",
                    blocking=False,
                )
            )
        return requirements

    def _deadline(self, i: int, no: int, task: dict) -> None:
        if "deadline" not in self.header.columns:
            return
        cell = self.cell(i, "deadline", no)
        deadline = parse_deadline(self.raw(i, "deadline"), self.year)
        if deadline.error:
            self.problems.append(
                _problem(
                    cell, f"{deadline.error}", "请填写具体完成日期，如“2022年6月30日前”或“6月底前”", True
                )
            )
        elif deadline.note:
            self.problems.append(_problem(cell, deadline.note, "请核对完成时限", blocking=False))
        if deadline.frequency:
            task["frequency"] = deadline.frequency
        self.deadlines[no] = (deadline, cell)


def _title_of(grid: Grid, header: Header) -> str:
    lines = [fold(c) for c in grid.above if fold(c)]  # a Word table's title is written above it
    lines += [fold(c) for row in grid.rows[: header.row] for c in row if fold(c)]
    return next((t for t in dict.fromkeys(lines) if "表" in t or len(t) > 6), lines[0] if lines else "")


def _name_from_title(title: str) -> str:
    name = re.sub(r"^附件\d*[:：]?", "", title).replace("《", "").replace("》", "")
    return re.sub(r"(?:重点工作|重点任务|工作任务|任务)?(?:责任)?分工(?:方案|表)$", "", name).strip()


def _dates(reader: _Reader, options: TableOptions) -> tuple[dt.date | None, dt.date | None, list[Problem]]:
    days = [d.day for d, _ in reader.deadlines.values() if d.day]
    notes: list[Problem] = []
    start, end = options.start, options.end
    if end is None and days:
        end = max(days)
        notes.append(
            Problem(
                None,
                None,
                None,
                end.isoformat(),
                "为活动结束日期（最晚的完成时限）",
                "如不对，请加 --end 指定",
                False,
            )
        )
    if start is None and days:
        first = min(days)
        start = first.replace(day=1)
        notes.append(
            Problem(
                None,
                None,
                None,
                start.isoformat(),
                "为活动开始日期（表中未给出，按最早完成时限所在月的1日暂定）",
                "请加 --start 指定印发或启动日期",
                False,
            )
        )
    if end is None:
        notes.append(
            Problem(None, None, None, "", "无法确定活动结束日期", "请加 --end 指定", True, about_column=True)
        )
    return start, end, notes


def import_table(path: Path, template: Campaign, template_docs: dict, options: TableOptions) -> ImportResult:
    """Read a 责任分工表 into a campaign. ``template_docs`` are the template's raw campaign.yml,
    units.yml and forms.yml (what the new campaign inherits). Never raises for bad cells: they are problems."""
    grids = read_grid(path)
    found = next(((g, h) for g in grids if (h := find_header(g)) is not None), None)
    if found is None:
        result = ImportResult(path, grids[0].sheet if grids else "", "")
        result.problems.append(
            Problem(
                None,
                None,
                None,
                "",
                "未找到表头",
                "表头应含“序号”“工作任务”“牵头单位”“配合单位”“完成时限”等列，请检查后再导入",
                True,
                about_column=True,
            )
        )
        return result
    grid, header = found
    title = _title_of(grid, header)
    result = ImportResult(path, grid.sheet, title)
    year = options.year
    if year is None and (m := _YEAR_IN_TITLE.search(title or path.stem)):
        year = int(m.group(1))
    if "deadline" not in header.columns:
        result.problems.append(
            Problem(
                header.row + 1,
                None,
                None,
                "",
                "表中没有“完成时限”列",
                "请增加“完成时限”列后再导入",
                True,
                about_column=True,
            )
        )
    if "lead" not in header.columns and "responsible" in header.columns:
        result.problems.append(
            Problem(
                header.row + 1,
                None,
                None,
                "",
                "表中没有“牵头单位”列，已按惯例以“责任单位”中排在首位的单位为牵头单位",
                "请核对各任务的牵头单位",
                False,
                about_column=True,
            )
        )
    for j, unused in header.unused:
        result.problems.append(
            Problem(
                header.row + 1,
                unused,
                column_letter(j),
                "",
                "未导入（不属于任务定义）",
                "无需处理；如该列应为任务的组成部分，请改用标准列名",
                False,
                about_column=True,
            )
        )

    reader = _Reader(grid, header, template, options, year)
    reader.read()
    result.problems += reader.problems
    start, end, notes = _dates(reader, options)
    result.problems += notes
    for no, (deadline, cell) in reader.deadlines.items():
        task = next(t for t in reader.tasks if t["no"] == no)
        task["deadline"] = deadline.day or end
        day = task["deadline"]
        if day and start and end and not start <= day <= end:
            result.problems.append(
                _problem(
                    cell,
                    f"（{day.isoformat()}）不在活动期内（{start}至{end}）",
                    "请核对完成时限或活动起止日期",
                    True,
                )
            )
    name = options.name or _name_from_title(title)
    if not name:
        result.problems.append(
            Problem(
                None,
                None,
                None,
                "",
                "未能从表格标题确定活动名称",
                "请加 --name 指定活动名称",
                True,
                about_column=True,
            )
        )
    result.sections, result.tasks = reader.sections, sorted(reader.tasks, key=lambda t: t["no"])
    result.new_units = list(reader.units.new.values())
    result.frame = _frame(template_docs["campaign"], options, name, start, end, result)
    result.units = _units_doc(template_docs["units"], result.new_units)
    result.forms = {
        code: body for code, body in (template_docs["forms"] or {}).items() if body.get("grain") == "task"
    }
    result.document = "\n".join(
        "\t".join(_text(c) for c in row if _text(c)) for row in grid.rows if any(_text(c) for c in row)
    )
    return result


def _frame(base: dict, options: TableOptions, name: str, start, end, result: ImportResult) -> dict:
    frame = {k: v for k, v in base.items() if k not in {"short_name", "issued_on", "goal", "office_inputs"}}
    frame.update(code=options.code, name=name, start=start, end=end)
    frame["document"] = options.document or name
    if not options.document:
        result.problems.append(
            Problem(
                None,
                None,
                None,
                frame["document"],
                "暂作为文件名称（未给出文号）",
                "如有文号，请加 --document 指定",
                False,
            )
        )
    kept = [o for o in base.get("oneoffs", []) if "due" not in o]
    for dropped in (o for o in base.get("oneoffs", []) if "due" in o):
        result.problems.append(
            Problem(
                None,
                None,
                None,
                dropped.get("name", ""),
                "（一次性报送，截止日期属模板活动）未沿用",
                "如本活动需要，请在 campaign.yml 的 oneoffs 中补充",
                False,
            )
        )
    frame["oneoffs"] = kept
    return frame


def _units_doc(base: dict, new_units: list[dict]) -> dict:
    doc = {k: (list(v) if isinstance(v, list) else v) for k, v in base.items()}
    for unit in new_units:
        key = "counties" if unit["kind"] == "county" else "departments"
        doc[key] = [*doc.get(key, []), {"id": unit["id"], "name": unit["name"]}]
    return doc
