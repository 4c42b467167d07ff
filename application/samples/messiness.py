"""How each office makes its files messy: habits, styles, rendered values, corrupted and revised rows."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from application.samples.texts import person, phone
from application.samples.world import World, rng
from ingest.formfile import HEADER_GROUPS

EXTRA_COLUMNS = {"F1": ("inspect_rate", "检验率", 3), "F9": ("task_title", "重点工作", 3)}

_EXCEL_EPOCH = dt.date(1899, 12, 30)

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

_MISSPELL = {
    "浔": "寻",
    "阳": "杨",
    "濂": "廉",
    "溪": "西",
    "桑": "嗓",
    "宁": "宇",
    "修": "休",
    "永": "水",
    "德": "得",
    "都": "部",
    "湖": "胡",
    "彭": "澎",
    "瑞": "端",
    "庐": "芦",
    "共": "公",
    "八": "入",
    "经": "径",
    "测": "侧",
}


# ---------------------------------------------------------------------------------------------- styles


@dataclass
class _Habit:
    """How one office usually works."""

    fmt: str
    encoding: str | None
    name_style: int
    channel: str
    late_p: float
    aliases: bool
    footer_person: str
    footer_phone: str
    checker: str


def _habit(seed, unit: str, chronic_late: set[str]) -> _Habit:
    r = rng(seed, "habit", unit)
    fmt = r.choices(["xlsx", "xls", "csv"], [0.72, 0.12, 0.16])[0]
    encoding = r.choices(["gbk", "utf-8-sig", "utf-8"], [0.45, 0.33, 0.22])[0] if fmt == "csv" else None
    return _Habit(
        fmt=fmt,
        encoding=encoding,
        name_style=r.choices([0, 1, 2, 3], [0.6, 0.15, 0.1, 0.15])[0],
        channel=r.choices(["inbox", "portal", "cli"], [0.6, 0.32, 0.08])[0],
        late_p=0.3 if unit in chronic_late else 0.075,
        aliases=r.random() < 0.3,
        footer_person=person(r),
        footer_phone=phone(r),
        checker=person(r),
    )


@dataclass
class _Style:
    fmt: str
    encoding: str | None
    layout: dict[str, Any]
    numbers: str
    dates: str
    unknown: str
    aliases: bool
    template: bool
    tags: list[str]


def _style(r, habit: _Habit, campaign, form_code: str, n_rows: int, week: int) -> _Style:
    form = campaign.forms[form_code]
    if r.random() < 0.8:
        fmt, encoding = habit.fmt, habit.encoding
    else:
        fmt = r.choices(["xlsx", "xls", "csv"], [0.72, 0.12, 0.16])[0]
        encoding = r.choices(["gbk", "utf-8-sig", "utf-8"], [0.45, 0.33, 0.22])[0] if fmt == "csv" else None
    sheet = fmt != "csv"
    tags: list[str] = []
    lay: dict[str, Any] = {}
    template = fmt == "xlsx" and r.random() < 0.1
    if template:
        tags.append("template_based")
    else:
        lay["title"] = r.random() < (0.85 if sheet else 0.35)
        lay["unit_row"] = r.random() < (0.85 if lay["title"] else 0.3)
        lay["gap_before_header"] = r.random() < 0.08
        lay["grouped_header"] = form_code in HEADER_GROUPS and r.random() < (0.35 if sheet else 0.12)
        if form.grain == "county" and n_rows > 1 and r.random() < 0.45:
            lay["total_row"] = "top" if r.random() < 0.15 else "bottom"
        if n_rows >= 4 and r.random() < 0.12:
            lay["blank_rows_after"] = tuple(sorted(r.sample(range(n_rows - 1), min(2, n_rows - 1))))
        lay["footer"] = r.random() < (0.75 if sheet else 0.3)
        lay["footer_split"] = r.random() < 0.3
        if not lay["grouped_header"] and r.random() < 0.07:
            rest = [k for k in form.column_keys if k != form.key_column]
            keys = list(rest)
            while keys == rest:
                r.shuffle(keys)
            lay["column_order"] = (form.key_column, *keys)  # offices move columns, not the row label
        if r.random() < 0.12:
            with_syn = [c for c in form.columns if c.synonyms]
            chosen = r.sample(with_syn, min(len(with_syn), r.randint(1, 3)))
            lay["headers"] = {c.key: r.choice(c.synonyms) for c in chosen}
        roll = r.random()
        lay["sheet_name"] = (
            form.name if roll < 0.5 else "Sheet1" if roll < 0.85 else campaign.period(week).label
        )
    numbers = r.choices(["plain", "thousands", "fullwidth", "wan", "mixed"], [0.68, 0.12, 0.08, 0.06, 0.06])[
        0
    ]
    if sheet:
        dates = r.choices(
            ["native", "iso", "slash", "cn", "cn_md", "serial"], [0.4, 0.18, 0.14, 0.12, 0.08, 0.08]
        )[0]
    else:
        dates = r.choices(["iso", "slash", "cn", "cn_md"], [0.4, 0.25, 0.2, 0.15])[0]
    unknown = "dash" if r.random() < 0.6 else "blank"
    aliases = habit.aliases or r.random() < 0.1
    return _Style(fmt, encoding, lay, numbers, dates, unknown, aliases, template, tags)


# ---------------------------------------------------------------------------------------------- rendering


def _number(value: int, style: str, r, used: set[str]) -> Any:
    if style == "mixed":
        style = r.choice(["plain", "thousands", "fullwidth", "wan", "plain"])
    if style == "thousands" and abs(value) >= 1000:
        used.add("thousands")
        return f"{value:,}"
    if style == "fullwidth":
        used.add("fullwidth")
        return str(value).translate(_FULLWIDTH)
    if style == "wan" and value >= 10000 and value % 100 == 0:
        used.add("wan")
        return f"{value / 10000:g}万"
    return value


def _date(value: dt.date, style: str, used: set[str]) -> Any:
    used.add(f"date_{style}")
    if style == "native":
        return value
    if style == "iso":
        return value.isoformat()
    if style == "slash":
        return f"{value.year}/{value.month}/{value.day}"
    if style == "cn":
        return f"{value.year}年{value.month}月{value.day}日"
    if style == "cn_md":
        return f"{value.month}月{value.day}日"
    return (value - _EXCEL_EPOCH).days  # serial


def _county_name(world: World, value: Any, aliases: bool, r, used: set[str]) -> Any:
    county = world.county_by_id.get(value) if isinstance(value, str) else None
    if county is None:
        return value
    if aliases and r.random() < 0.5:
        choices = [*county.aliases, f"{world.campaign.city.name}{county.name}"]
        used.add("county_aliases")
        return r.choice(choices)
    return county.name


def _render(world: World, form, rows: list[dict], style: _Style, r, used: set[str]) -> list[dict]:
    types = {c.key: c.type for c in form.columns}
    out = []
    for row in rows:
        cells = {}
        for key, value in row.items():
            kind = types.get(key)
            if value is None:
                if kind in {"integer", "date"}:
                    used.add(f"unknown_{style.unknown}")
                    cells[key] = "—" if style.unknown == "dash" else None
                else:
                    cells[key] = None
            elif kind == "county":
                cells[key] = _county_name(world, value, style.aliases, r, used)
            elif kind == "integer" and isinstance(value, int):
                cells[key] = _number(value, style.numbers, r, used)
            elif kind == "date" and isinstance(value, dt.date):
                cells[key] = _date(value, style.dates, used)
            else:
                cells[key] = value
        out.append(cells)
    return out


def _totals(form, rows: list[dict]) -> dict[str, Any]:
    totals = {}
    for col in form.columns:
        if col.type == "integer":
            nums = [r[col.key] for r in rows if isinstance(r.get(col.key), int)]
            totals[col.key] = sum(nums) if nums else None
    return totals


# ---------------------------------------------------------------------------------------------- wrong files


def _misspell(campaign, name: str) -> str:
    for i, ch in enumerate(name):
        if ch in _MISSPELL:
            candidate = name[:i] + _MISSPELL[ch] + name[i + 1 :]
            if campaign.resolve_unit(candidate) is None:
                return candidate
    return name + "区县"


def _corrupt(kind: str, world: World, form, rows: list[dict], r) -> tuple[list[dict], str]:
    rows = copy.deepcopy(rows)
    name = world.county_by_id
    if kind == "inspected_gt_due":
        i = r.choice([i for i, row in enumerate(rows) if row.get("inspect_due") is not None])
        rows[i]["inspected"] = rows[i]["inspect_due"] + r.randint(3, 60)
        return rows, f"已检验数 > 应检验数 in the row of {name[rows[i]['county']].name}"
    if kind == "negative_count":
        flows = [c.key for c in form.columns if c.measure == "flow"]
        i, key = r.randrange(len(rows)), r.choice(flows)
        rows[i][key] = -r.randint(1, 9)
        return rows, f"negative count in {form.column(key).header} ({name[rows[i]['county']].name})"
    if kind == "misspelt_county":
        i = r.randrange(len(rows))
        wrong = _misspell(world.campaign, name[rows[i]["county"]].name)
        rows[i]["county"] = wrong
        return rows, f"misspelt county {wrong}"
    if kind == "text_in_number":
        numeric = [c.key for c in form.columns if c.type == "integer"]
        candidates = [(i, k) for i, row in enumerate(rows) for k in numeric if isinstance(row.get(k), int)]
        i, key = r.choice(candidates)
        rows[i][key] = r.choice(["见附件", f"约{rows[i][key]}"])
        return rows, f"text {rows[i][key]!r} in number column {form.column(key).header}"
    if kind == "fixed_without_date":
        i = r.choice([i for i, row in enumerate(rows) if row["status"] == "已整改"])
        rows[i]["fixed_on"] = None
        return rows, f"整改状态 已整改 without 整改完成日期 ({rows[i]['hazard_id']})"
    raise ValueError(kind)


def _revise(form, rows: list[dict], r) -> tuple[list[dict], str]:
    rows = copy.deepcopy(rows)
    flows = [c.key for c in form.columns if c.measure == "flow"]
    i, key = r.randrange(len(rows)), r.choice(flows)
    rows[i][key] = (rows[i][key] or 0) + r.randint(1, 5)
    return rows, f"{form.column(key).header} of row {i + 1} was later revised"


def _with_extra(
    form_code: str, world: World, rows: list[dict], r, used: set[str]
) -> tuple[list[dict], tuple]:
    key, header, _ = EXTRA_COLUMNS[form_code]
    rows = copy.deepcopy(rows)
    percent = r.random() < 0.6
    for row in rows:
        if key == "inspect_rate":
            due, done = row.get("inspect_due"), row.get("inspected")
            if due:
                row[key] = f"{100 * done / due:.1f}%" if percent else round(done / due, 3)
        else:
            row[key] = world.campaign.task(row["task_no"]).title
    used.add("extra_column")
    if key == "inspect_rate":
        used.add("percent_text" if percent else "rate_fraction")
    return rows, ((key, header),)


# ---------------------------------------------------------------------------------------------- timing
