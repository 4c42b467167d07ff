"""Writing one submission file and its manifest entry."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import replace
from pathlib import Path

from application.samples.manifest import ManifestEntry
from application.samples.messiness import _Habit, _number, _render, _Style, _totals, _with_extra
from application.samples.world import World
from ingest.formfile import HEADER_GROUPS, Layout, form_due_at, period_span, write_form

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
