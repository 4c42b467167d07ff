"""Write the sample campaign: every form, every expected submitter, every week, as real messy files.

The truth comes from :mod:`application.samples.world`; this module decides, per file and deterministically
from the seed, how an office would have sent it (format, encoding, title rows, merged headers, total rows,
number and date spellings, aliases, ...), when it arrived (on time, late, never), and which files are wrong
and corrected later, revised, or sent twice. Everything it did is written to ``manifest.jsonl`` (one line
per file, ordered by ``received_at``) and ``manifest.json`` (the header: seed, scale, counts, missing
submissions, extra units, the rules the expectations follow).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from application.samples.texts import person, phone
from application.samples.world import World, build_world, rng
from ingest.formfile import HEADER_GROUPS, Layout, form_due_at, period_span, write_form
from roadsafe.campaign.definition import COUNTIES

__all__ = ["Manifest", "ManifestEntry", "generate_samples", "load_manifest"]

MISSING_SHARE = 0.03
# (kind, forms, how many): wrong files, each followed by a corrected resubmission.
WRONG = (
    ("inspected_gt_due", ("F1",), 3),
    ("negative_count", ("F3", "F6", "F8"), 3),
    ("misspelt_county", ("F1", "F2", "F8"), 2),
    ("text_in_number", ("F1", "F2", "F3", "F6", "F7"), 2),
    ("fixed_without_date", ("F4",), 2),
)
DUPLICATES = 3
REVISIONS = (("F3", "F6", "F8"), 3)
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

NOTES = {
    "title_row": "title row",
    "unit_row": "填报单位/统计时段 row",
    "unit_row_alias": "填报单位 names the unit by an alias",
    "unit_row_date": "填报日期 instead of 统计时段",
    "gap_row": "empty row above the header",
    "grouped_header": "two-row merged header",
    "total_row": "合计 row below the data",
    "total_row_top": "合计 row above the data",
    "blank_rows": "blank rows between data rows",
    "footer": "填报人/联系电话/审核人 footer",
    "footer_split": "footer split over three cells",
    "columns_reordered": "columns out of order",
    "header_synonyms": "header synonyms",
    "thousands": "thousands separators (1,234)",
    "fullwidth": "full-width digits",
    "wan": "numbers in 万 (3.15万)",
    "unknown_dash": "unknown values as —",
    "unknown_blank": "unknown values left blank",
    "county_aliases": "county names as aliases (浔阳 / 九江市浔阳区 / 经开区)",
    "date_native": "dates as date cells",
    "date_iso": "dates as 2022-04-15",
    "date_slash": "dates as 2022/4/15",
    "date_cn": "dates as 2022年4月15日",
    "date_cn_md": "dates as 4月15日 (no year)",
    "date_serial": "dates as Excel serial numbers",
    "template_based": "filled-in official template (validations, 填表说明 sheet)",
    "extra_column": "extra column that is not in the form",
    "percent_text": "rates as percent text (95.2%)",
    "rate_fraction": "rates as fractions (0.952)",
    "sheet_name_generic": "sheet named Sheet1",
}


@dataclass
class ManifestEntry:
    """One file of the sample campaign, as the office received it."""

    path: str
    unit_id: str
    form_code: str
    period_no: int
    received_at: str
    channel: str
    expect: str  # accepted / rejected / duplicate
    note: str
    due_at: str
    minutes_late: int
    format: str  # xlsx / xls / csv
    encoding: str | None
    cases: list[str]
    special: str | None  # wrong:<kind> / corrected / revised_first / revision / duplicate / None
    related: str | None  # the earlier (or later) file this one belongs with
    rows: int
    size_bytes: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Manifest:
    """What :func:`generate_samples` wrote. ``entries`` are ordered by ``received_at``."""

    out_dir: Path
    campaign_code: str
    seed: int
    scale: int
    entries: list[ManifestEntry]
    missing: list[dict[str, Any]]
    expected: int
    extra_units: list[dict[str, Any]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, dict[str, int]]:
        cases = Counter(c for e in self.entries for c in e.cases)
        return {
            "by_form": dict(sorted(Counter(e.form_code for e in self.entries).items())),
            "by_format": dict(
                sorted(
                    Counter(e.format + (f"/{e.encoding}" if e.encoding else "") for e in self.entries).items()
                )
            ),
            "by_expect": dict(sorted(Counter(e.expect for e in self.entries).items())),
            "by_special": dict(sorted(Counter(e.special or "-" for e in self.entries).items())),
            "late": {
                "late": sum(e.minutes_late > 0 for e in self.entries),
                "on_time": sum(e.minutes_late == 0 for e in self.entries),
            },
            "cases": dict(sorted(cases.items())),
        }

    def header(self) -> dict[str, Any]:
        return {
            "campaign_code": self.campaign_code,
            "seed": self.seed,
            "scale": self.scale,
            "files": len(self.entries),
            "expected_submissions": self.expected,
            "missing": self.missing,
            "extra_units": self.extra_units,
            "rules": self.rules,
            "counts": self.counts(),
        }


def load_manifest(out_dir) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read back ``manifest.json`` (header) and ``manifest.jsonl`` (one dict per file)."""
    out = Path(out_dir)
    header = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    lines = (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return header, [json.loads(line) for line in lines if line.strip()]


# ---------------------------------------------------------------------------------------------- planning


def _expected(campaign, world: World) -> list[tuple[str, str, int]]:
    synthetic = [c.id for c in world.counties if c.synthetic]
    county_tasks = any(COUNTIES in t.lead for t in campaign.tasks)
    out = []
    for p in campaign.periods():
        for code, form in campaign.forms.items():
            units = campaign.form_submitters(code)
            if COUNTIES in form.submitters or (form.grain == "task" and county_tasks):
                units = units + synthetic
            out.extend((code, u, p.no) for u in units)
    return out


def _has_fixed(world: World, key) -> bool:
    form, unit, week = key
    return form == "F4" and any(r["status"] == "已整改" for r in world.rows(form, unit, week))


def _plan_specials(seed, world: World, present: list) -> dict[tuple, str]:
    r = rng(seed, "specials")
    specials: dict[tuple, str] = {}

    def pick(forms, count, label, extra=lambda k: True):
        eligible = [k for k in present if k[0] in forms and k not in specials and extra(k)]
        for k in r.sample(eligible, min(count, len(eligible))):
            specials[k] = label

    for kind, forms, count in WRONG:
        extra = (lambda k: _has_fixed(world, k)) if kind == "fixed_without_date" else (lambda k: True)
        pick(forms, count, f"wrong:{kind}", extra)
    pick(REVISIONS[0], REVISIONS[1], "revision")
    pick(tuple(world.campaign.forms), DUPLICATES, "duplicate")
    for form, (_, _, count) in EXTRA_COLUMNS.items():
        pick((form,), count, "extra_column", lambda k: k[1] not in world.county_by_id or k[0] != "F1")
    return specials


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


def _received(r, due: dt.datetime, period_end: dt.date, late: bool) -> dt.datetime:
    tz = due.tzinfo
    if late:
        if r.random() < 0.6:
            return due + dt.timedelta(minutes=r.randint(3, 6 * 60))
        day = due.date() + dt.timedelta(days=r.randint(1, 3))
        return dt.datetime.combine(
            day, dt.time(r.randint(8, 17), r.randint(0, 59), r.randint(0, 59)), tzinfo=tz
        )
    if due.date() > period_end and r.random() < 0.35:
        t = dt.time(r.randint(15, 21), r.randint(0, 59), r.randint(0, 59))
        return dt.datetime.combine(period_end, t, tzinfo=tz)
    start = dt.datetime.combine(due.date(), dt.time(8, 0), tzinfo=tz)
    span = int((due - start).total_seconds()) - 300
    return start + dt.timedelta(seconds=r.randint(0, max(60, span)))


def _office_hours(t: dt.datetime, r) -> dt.datetime:
    """Move a resubmission made in the night to the next morning."""
    if t.hour < 8:
        return t.replace(hour=8, minute=r.randint(0, 59))
    if t.hour >= 22:
        return (t + dt.timedelta(days=1)).replace(hour=8, minute=r.randint(0, 59))
    return t


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------- writing


class _Writer:
    def __init__(self, campaign, world: World, out: Path, seed: int, calendar):
        self.c = campaign
        self.world = world
        self.out = out
        self.seed = seed
        self.calendar = calendar
        self.entries: list[ManifestEntry] = []
        self.due: dict[int, dt.datetime] = {
            p.no: form_due_at(campaign, p.no, calendar) for p in campaign.periods()
        }

    def unit_name(self, unit: str) -> str:
        county = self.world.county_by_id.get(unit)
        return county.name if county else self.c.units[unit].name

    def unit_alias(self, unit: str, r) -> str:
        county = self.world.county_by_id.get(unit)
        if county:
            return r.choice([*county.aliases, f"{self.c.city.name}{county.name}"] or [county.name])
        u = self.c.units[unit]
        return r.choice(u.aliases) if u.aliases else u.name

    def filename(self, form_code: str, unit: str, week: int, ext: str, style: int, suffix: str = "") -> str:
        form = self.c.forms[form_code]
        period = self.c.period(week)
        uname = self.unit_name(unit)
        if style == 1:
            return f"{uname}{form.name}（{period.label}）{suffix}.{ext}"
        if style == 2:
            no = list(self.c.forms).index(form_code) + 1
            return f"附件{no}{form.name}（{period.label}）-{uname}{suffix}.{ext}"
        if style == 3:
            return f"{uname}{form.name}{period.end:%m%d}{suffix}.{ext}"
        return f"{form.name}（{period.label}）-{uname}{suffix}.{ext}"

    def layout(
        self,
        style: _Style,
        form_code,
        unit,
        week,
        rows,
        truth_rows,
        habit: _Habit,
        received,
        r,
        used: set[str],
        extra: tuple,
    ) -> Layout:
        form = self.c.forms[form_code]
        if style.template:
            from ingest.templates import template_layout

            if unit in self.world.county_by_id and unit not in self.c.units:
                base = Layout(grouped_header=True, validations=True, sheet_name=form.name)
            else:
                _, base = template_layout(self.c, form_code, unit, week)
            base = replace(
                base,
                extra_columns=extra,
                created=received.replace(tzinfo=None) - dt.timedelta(minutes=r.randint(5, 240)),
            )
            used.update(["title_row", "unit_row", *(["footer"] if base.footer else [])])
            if form_code in HEADER_GROUPS:
                used.add("grouped_header")
            return base
        lay = dict(style.layout)
        roll = r.random()
        # The file must say its week somewhere (title 第N周, 统计时段 or a file name with 第N周), as offices'
        # files do: the sample does not rely on the submitter choosing the week.
        says_week = habit.name_style != 3 or (lay.get("unit_row") and roll >= 0.3)
        if not says_week:
            lay["title"] = True
        if lay.get("title"):
            used.add("title_row")
        if lay.get("unit_row"):
            used.add("unit_row")
            if roll < 0.15:
                used.add("unit_row_alias")
                lay["unit_text"] = (
                    f"填报单位（盖章）：{self.unit_alias(unit, r)}\u3000\u3000"
                    f"统计时段：{period_span(self.c, week)}"
                )
            elif roll < 0.3:
                used.add("unit_row_date")
                day = received.date()
                lay["unit_text"] = (
                    f"填报单位：{self.unit_name(unit)}\u3000\u3000填报日期：{day.year}年{day.month}月{day.day}日"
                )
        if lay.get("gap_before_header"):
            used.add("gap_row")
        if lay.get("grouped_header") and form_code in HEADER_GROUPS:
            used.add("grouped_header")
        if lay.get("total_row") and len(rows) > 1:
            used.add("total_row_top" if lay["total_row"] == "top" else "total_row")
            used_totals: set[str] = set()
            totals = _totals(form, truth_rows)
            lay["totals"] = {
                k: (None if v is None else _number(v, style.numbers, r, used_totals))
                for k, v in totals.items()
            }
            if extra and extra[0][0] == "inspect_rate" and totals.get("inspect_due"):
                lay["totals"]["inspect_rate"] = f"{100 * totals['inspected'] / totals['inspect_due']:.1f}%"
            used.update(used_totals)
        else:
            lay.pop("total_row", None)
        if lay.get("blank_rows_after"):
            used.add("blank_rows")
        if lay.get("footer"):
            used.add("footer")
            if lay.get("footer_split"):
                used.add("footer_split")
            lay["footer_text"] = (
                f"填报人：{habit.footer_person}\u3000\u3000联系电话：{habit.footer_phone}"
                f"\u3000\u3000审核人：{habit.checker}"
            )
        if lay.get("column_order"):
            used.add("columns_reordered")
        if lay.get("headers"):
            used.add("header_synonyms")
        if lay.get("sheet_name") == "Sheet1":
            used.add("sheet_name_generic")
        lay["extra_columns"] = extra
        lay["created"] = received.replace(tzinfo=None) - dt.timedelta(minutes=r.randint(5, 240))
        return Layout(**lay)

    def write(
        self,
        form_code,
        unit,
        week,
        truth_rows,
        style: _Style,
        habit: _Habit,
        received: dt.datetime,
        r,
        *,
        suffix="",
        special=None,
        related=None,
        detail="",
        expect="accepted",
        extra_column=False,
    ) -> ManifestEntry:
        form = self.c.forms[form_code]
        used: set[str] = set(style.tags)
        extra: tuple = ()
        if extra_column:
            truth_rows, extra = _with_extra(form_code, self.world, truth_rows, r, used)
        rows = _render(self.world, form, truth_rows, style, r, used)
        layout = self.layout(style, form_code, unit, week, rows, truth_rows, habit, received, r, used, extra)
        ext = style.fmt
        name = self.filename(form_code, unit, week, ext, habit.name_style, suffix)
        rel = Path(f"{week:02d}") / unit / name
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_form(
            path, self.c, form_code, unit, week, rows, encoding=style.encoding or "utf-8-sig", layout=layout
        )
        return self.record(
            rel,
            form_code,
            unit,
            week,
            received,
            habit,
            expect,
            special,
            related,
            detail,
            style,
            sorted(used),
            len(rows),
        )

    def record(
        self,
        rel: Path,
        form_code,
        unit,
        week,
        received,
        habit: _Habit,
        expect,
        special,
        related,
        detail,
        style: _Style,
        cases: list[str],
        n_rows: int,
    ) -> ManifestEntry:
        data = (self.out / rel).read_bytes()
        due = self.due[week]
        late = max(0, math.ceil((received - due).total_seconds() / 60))  # as ingest.load counts it
        fmt_note = style.fmt if style.fmt != "csv" else f"csv ({style.encoding})"
        parts = [fmt_note, *(NOTES[c] for c in cases if c in NOTES)]
        if late:
            parts.append(f"late by {_late_text(late)}")
        if detail:
            parts.append(detail)
        entry = ManifestEntry(
            path=rel.as_posix(),
            unit_id=unit,
            form_code=form_code,
            period_no=week,
            received_at=_iso(received),
            channel=habit.channel,
            expect=expect,
            note="; ".join(parts),
            due_at=_iso(due),
            minutes_late=late,
            format=style.fmt,
            encoding=style.encoding,
            cases=cases,
            special=special,
            related=related,
            rows=n_rows,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        self.entries.append(entry)
        return entry


def _late_text(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / "manifest.json").is_file():
            raise FileExistsError(f"{out} 不为空且不是样例数据目录，未写入。请指定一个空目录。")
        for child in out.iterdir():
            if child.is_dir() and child.name.isdigit():
                shutil.rmtree(child)
            elif child.name in {"manifest.json", "manifest.jsonl"}:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)


def generate_samples(
    campaign, out_dir, seed: int = 2022, *, scale: int = 1, ledger_scale: int = 1, calendar=None
) -> Manifest:
    """Write the sample campaign under ``out_dir`` and return its :class:`Manifest`.

    Parameters
    ----------
    campaign : Campaign or str
        A loaded campaign (or its code). The generator knows the forms of ``jiujiang-2022`` (F1-F9).
    out_dir : path
        Created if needed. A folder holding an earlier sample (``manifest.json``) is regenerated; any other
        non-empty folder is refused.
    seed : int
        The same seed gives byte-identical files and manifest.
    scale : int
        1 = the real 15 counties. N > 1 adds 15*(N-1) synthetic counties (``test001`` / 测试县001, listed in
        the manifest header under ``extra_units``) and multiplies the city departments' hazard ledgers by N.
    ledger_scale : int
        Multiplies every hazard ledger (F4) once more: ``scale=10, ledger_scale=10`` is a province-sized
        campaign (150 counties, 100× the hazard rows), as ``make bench`` uses it.
    calendar : WorkCalendar, optional
        Default :meth:`roadsafe.workcalendar.WorkCalendar.load`.

    Examples
    --------
    >>> m = generate_samples("jiujiang-2022", "/tmp/rs-samples")          # doctest: +SKIP
    >>> m.counts()["by_form"]["F1"]                                         # doctest: +SKIP
    """
    started = time.perf_counter()
    if isinstance(campaign, str):
        from roadsafe.campaign import load_campaign

        campaign = load_campaign(campaign)
    if calendar is None:
        from roadsafe.workcalendar import WorkCalendar

        calendar = WorkCalendar.load()
    out = Path(out_dir)
    _prepare(out)
    world = build_world(campaign, seed, scale, ledger_scale)
    writer = _Writer(campaign, world, out, seed, calendar)
    tz = ZoneInfo(campaign.frame.timezone)

    expected = _expected(campaign, world)
    plan = rng(seed, "missing")
    missing = set(plan.sample(expected, round(MISSING_SHARE * len(expected))))
    present = [k for k in expected if k not in missing]
    specials = _plan_specials(seed, world, present)
    units = list(dict.fromkeys(u for _, u, _ in expected))
    chronic = set(rng(seed, "chronic").sample([u for u in units if u in world.county_by_id], 2))
    habits = {u: _habit(seed, u, chronic) for u in units}

    for key in expected:
        if key in missing:
            continue
        form_code, unit, week = key
        form = campaign.forms[form_code]
        r = rng(seed, "file", form_code, unit, week)
        habit = habits[unit]
        truth = world.rows(form_code, unit, week)
        style = _style(r, habit, campaign, form_code, len(truth), week)
        due = writer.due[week]
        received = _received(r, due, campaign.period(week).end, r.random() < habit.late_p).astimezone(tz)
        special = specials.get(key)
        if special and special.startswith("wrong:"):
            kind = special.split(":", 1)[1]
            bad_rows, detail = _corrupt(kind, world, form, truth, r)
            first = writer.write(
                form_code,
                unit,
                week,
                bad_rows,
                style,
                habit,
                received,
                r,
                special=special,
                detail=f"WRONG: {detail}; corrected later",
                expect="rejected",
            )
            later = _office_hours(received + dt.timedelta(minutes=r.randint(30, 28 * 60)), r)
            second = writer.write(
                form_code,
                unit,
                week,
                truth,
                style,
                habit,
                later,
                r,
                suffix="（更正）",
                special="corrected",
                related=first.path,
                detail=f"corrected resubmission of {first.path}",
            )
            first.related = second.path
        elif special == "revision":
            first_rows, detail = _revise(form, truth, r)
            first = writer.write(
                form_code,
                unit,
                week,
                first_rows,
                style,
                habit,
                received,
                r,
                special="revised_first",
                detail=f"first version: {detail}",
            )
            later = _office_hours(received + dt.timedelta(minutes=r.randint(20 * 60, 80 * 60)), r)
            second = writer.write(
                form_code,
                unit,
                week,
                truth,
                style,
                habit,
                later,
                r,
                suffix="（修订）",
                special="revision",
                related=first.path,
                detail=f"revised figures; supersedes {first.path}",
            )
            first.related = second.path
        else:
            entry = writer.write(
                form_code,
                unit,
                week,
                truth,
                style,
                habit,
                received,
                r,
                extra_column=special == "extra_column",
                detail="column not in the form, to be ignored" if special == "extra_column" else "",
            )
            if special == "duplicate":
                again = received + dt.timedelta(minutes=r.randint(3, 90))
                src = out / entry.path
                rel = Path(entry.path).with_name(f"{Path(entry.path).stem}(1){Path(entry.path).suffix}")
                shutil.copyfile(src, out / rel)
                writer.record(
                    rel,
                    form_code,
                    unit,
                    week,
                    again,
                    habit,
                    "duplicate",
                    "duplicate",
                    entry.path,
                    f"identical re-send of {entry.path}",
                    style,
                    entry.cases,
                    entry.rows,
                )

    writer.entries.sort(key=lambda e: (e.received_at, e.path))
    manifest = Manifest(
        out_dir=out,
        campaign_code=campaign.code,
        seed=seed,
        scale=scale,
        entries=writer.entries,
        missing=[
            {"form_code": f, "unit_id": u, "period_no": w, "due_at": _iso(writer.due[w])}
            for f, u, w in expected
            if (f, u, w) in missing
        ],
        expected=len(expected),
        extra_units=[
            {"id": c.id, "name": c.name, "kind": "county", "code": c.code, "aliases": list(c.aliases)}
            for c in world.counties
            if c.synthetic
        ],
        rules=_rules(campaign, world),
    )
    (out / "manifest.jsonl").write_text(
        "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in manifest.entries),
        encoding="utf-8",
    )
    (out / "manifest.json").write_text(
        json.dumps(manifest.header(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    manifest.seconds = time.perf_counter() - started
    return manifest


def _rules(campaign, world: World) -> list[str]:
    f7 = campaign.form_submitters("F7")
    names = {u: campaign.units[u].name for u in f7}
    return [
        "Every (form_code, unit_id, period_no) in ref.expected_submissions has a file, except those listed "
        "in `missing` (never sent).",
        "The latest accepted submission per (form_code, unit_id, period_no) counts, per submitter; earlier "
        "ones stay on record. A rejected file (expect=rejected) is followed by a corrected one "
        "(special=corrected).",
        "expect=duplicate: the same bytes as an earlier file (related); it must not be loaded twice.",
        f"F7: {names[f7[0]]} reports 共享电动车总数, 已登记上牌数 and 工程运输车放大号牌已安装数 "
        "for every county and leaves 已配备头盔数 blank; "
        + "".join(
            f"{names[u]} reports 共享电动车总数 and 已配备头盔数 for the 中心城区 counties only; "
            for u in f7[1:]
        )
        + "both give the same 共享电动车总数.",
        "F1-F3: 市公安局 sends all counties and each county sends its own row; the figures agree.",
        "F4: each county sends its own hazard ledger; the city departments send the hazards on the roads "
        "they manage (ids GL-… and CG-…). F5: 市公路发展中心 the intersections and sections, "
        "市交通运输局 the speed bumps.",
        "Unknown values are blank or —, never 0. received_at is in the campaign time zone; minutes_late is "
        "against due_at (the day after the week ends, 12:00, next working day).",
        "Files with special=extra_column have one column that is not in the form (检验率 / 重点工作); "
        "expected to be accepted with the extra column ignored.",
    ]
