"""The simulated truth of the sample campaign: what really happened in every county, week by week.

The generator (:mod:`application.samples.generator`) only *writes* this truth into files, messily. Every number
comes from a seeded :class:`random.Random` per purpose (``_rng(seed, "F1", county)``), so one part can change
without shifting the others, and nothing depends on the clock or on the global random state.

What the truth looks like (jiujiang-2022, scale 1):

- F1/F2: stock counts per county; inspection, cancellation, renewal and review rates climb from ~40-65 % in
  week 1 towards their targets by week 12, a few counties lag behind (序时进度).
- F3/F8: weekly flows; this year's deaths run at roughly half of last year's.
- F4: a hazard ledger per county plus the 市公路发展中心 (``GL-…``) and 市城管局 (``CG-…``) ledgers; hazards
  are found mostly in April, each moves 未整改 → 整改中 → 已整改 with its own dates.
- F5: 46 key intersections (5 + 41) and 10 accident-prone sections (市公路发展中心), 25 rural speed bumps
  (市交通运输局); the five items are finished one by one.
- F6: high-risk transport enterprises fall about 50 % a month (slower in lagging counties).
- F7: 31,500 shared e-bikes in 中心城区, registered by the end of April except one late county; helmets;
  3,000+ enlarged plates by the end of June.
- F9: per lead unit and task, 未启动 → 推进中 → 已完成 around the task deadline, some late.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from application.samples.texts import (
    CITY_ROADS,
    HAZARDS,
    NATIONAL,
    VILLAGES,
    difficulty,
    evidence,
    progress_text,
)
from roadsafe.campaign.definition import COUNTIES

__all__ = ["County", "Hazard", "Site", "World", "build_world", "rng"]

SITE_CATEGORIES = (
    ("2018年以来死亡2人以上路口", "LK", 5),
    ("2021年以来死亡1人路口", "LK", 41),
    ("十大事故多发路段", "LD", 10),
    ("农村公路平交路口减速带", "JSD", 25),
)
FIVE_ITEMS = ("warning_sign", "road_marking", "speed_bump", "warning_post", "signal_light")


def rng(seed: int, *parts: object) -> random.Random:
    """A random stream of its own for one purpose (string seeds hash with SHA-512: stable across runs)."""
    return random.Random("|".join(map(str, (seed, *parts))))


@dataclass(frozen=True)
class County:
    id: str
    name: str
    code: str | None
    aliases: tuple[str, ...]
    central: bool
    size: float
    synthetic: bool = False


@dataclass
class Hazard:
    id: str
    county: str
    road_name: str
    road_type: str
    hazard_type: str
    found_on: dt.date
    start_on: dt.date
    fixed_on: dt.date
    responsible: str

    def row(self, day: dt.date) -> dict[str, Any] | None:
        if self.found_on > day:
            return None
        if self.fixed_on <= day:
            status, fixed = "已整改", self.fixed_on
        elif self.start_on <= day:
            status, fixed = "整改中", None
        else:
            status, fixed = "未整改", None
        return {
            "hazard_id": self.id,
            "county": self.county,
            "road_name": self.road_name,
            "road_type": self.road_type,
            "hazard_type": self.hazard_type,
            "found_on": self.found_on,
            "status": status,
            "fixed_on": fixed,
            "responsible_unit": self.responsible,
        }


@dataclass
class Site:
    id: str
    county: str
    name: str
    category: str
    item_weeks: dict[str, int | None]  # week an item is in place; None: never (or not applicable)
    applicable: tuple[str, ...]
    completed_on: dt.date | None

    def row(self, week: int, day: dt.date) -> dict[str, Any]:
        row: dict[str, Any] = {
            "site_id": self.id,
            "county": self.county,
            "site_name": self.name,
            "category": self.category,
        }
        for key in FIVE_ITEMS:
            if key in self.applicable:
                w = self.item_weeks.get(key)
                row[key] = "是" if w is not None and w <= week else "否"
            else:
                row[key] = None
        row["completed_on"] = self.completed_on if self.completed_on and self.completed_on <= day else None
        return row


@dataclass
class TaskPlan:
    unit: str
    task_no: int
    start_week: int
    done_week: int | None
    on_time: bool


@dataclass
class World:
    campaign: Any
    seed: int
    scale: int
    counties: list[County]
    county_rows: dict[str, dict[int, dict[str, dict[str, Any]]]] = field(
        default_factory=dict
    )  # form→week→county
    hazards: dict[str, list[Hazard]] = field(default_factory=dict)  # submitter → ledger
    sites: dict[str, list[Site]] = field(default_factory=dict)
    plans: dict[str, list[TaskPlan]] = field(default_factory=dict)  # unit → its tasks

    @cached_property
    def county_by_id(self) -> dict[str, County]:
        return {c.id: c for c in self.counties}

    @property
    def weeks(self) -> list:
        return self.campaign.periods()

    def subjects(self, form_code: str, submitter: str) -> list[County]:
        """The counties a submitter reports on in a county-grain form."""
        if submitter in self.county_by_id:
            return [self.county_by_id[submitter]]
        if form_code == "F7" and submitter != self.f7_primary:
            return [c for c in self.counties if c.central]
        return list(self.counties)

    @cached_property
    def f7_primary(self) -> str:
        return self.campaign.form_submitters("F7")[0]

    def rows(self, form_code: str, submitter: str, week: int) -> list[dict[str, Any]]:
        """The true rows of one submission (typed: int, date, str; None = unknown; county = unit id)."""
        form = self.campaign.forms[form_code]
        day = self.campaign.period(week).end
        if form.grain == "county":
            out = []
            for county in self.subjects(form_code, submitter):
                row = dict(self.county_rows[form_code][week][county.id])
                if form_code == "F7":
                    if submitter == self.f7_primary:
                        row["helmets_equipped"] = None
                    else:
                        row["ebikes_registered"] = None
                        row["enlarged_plates"] = None
                out.append(row)
            return out
        if form_code == "F4":
            return [r for h in self.hazards.get(submitter, []) if (r := h.row(day)) is not None]
        if form_code == "F5":
            return [s.row(week, day) for s in self.sites.get(submitter, [])]
        if form_code == "F9":
            return [self._task_row(plan, week) for plan in self.plans.get(submitter, [])]
        raise KeyError(form_code)

    # ------------------------------------------------------------------ F9

    def _task_row(self, plan: TaskPlan, week: int) -> dict[str, Any]:
        r = rng(self.seed, "F9", plan.unit, plan.task_no, week)
        if week < plan.start_week:
            status = "未启动"
        elif plan.done_week is not None and week >= plan.done_week:
            status = "已完成"
        else:
            status = "推进中"
        unit = self._unit_name(plan.unit)
        values = {"d": _as_of(self.campaign.period(week).end), "u": unit, **self._counters(plan, week)}
        values.update(self._metrics(week, plan))
        progress = progress_text(
            plan.task_no, self.campaign.task(plan.task_no).title, status, values, on_time=plan.on_time
        )
        return {
            "task_no": plan.task_no,
            "status": status,
            "progress": progress,
            "difficulties": difficulty(r, status == "已完成", plan.task_no)
            if status != "未启动"
            else "正在制定方案。",
            "evidence": evidence(r, _doc_prefix(unit), week, plan.task_no) if status != "未启动" else None,
        }

    def _unit_name(self, unit_id: str) -> str:
        if unit_id in self.county_by_id:
            return self.county_by_id[unit_id].name
        return self.campaign.units[unit_id].name

    def _counters(self, plan: TaskPlan, week: int) -> dict[str, int]:
        r = rng(self.seed, "F9-counters", plan.unit, plan.task_no)
        totals = {"a": 0, "b": 0, "c": 0}
        for w in range(1, week + 1):
            active = w >= plan.start_week
            step = {"a": r.randint(1, 6), "b": r.randint(12, 160), "c": r.randint(1, 12)}
            if active:
                for k in totals:
                    totals[k] += step[k]
        if plan.task_no == 19:
            totals["a"] = min(len(self.counties), totals["a"])
        return totals

    @cached_property
    def _city_hr_start(self) -> int:
        return sum(v["high_risk_enterprises"] for v in self.county_rows["F6"][1].values())

    def _metrics(self, week: int, plan: TaskPlan) -> dict[str, Any]:
        no = plan.task_no
        m: dict[str, Any] = {}
        day = self.campaign.period(week).end
        if no == 1:
            all_h = [h for ledger in self.hazards.values() for h in ledger if h.found_on <= day]
            fixed = sum(h.fixed_on <= day for h in all_h)
            m = {"found": len(all_h), "fixed": fixed, "fix_rate": _pct(fixed, len(all_h))}
        elif no == 2:
            rows = self._upto("F6", week)
            m = {
                "inspected": sum(r["enterprises_inspected"] or 0 for r in rows),
                "problems": sum(r["problems_found"] or 0 for r in rows),
                "problems_fixed": sum(r["problems_fixed"] or 0 for r in rows),
                "hr_start": self._city_hr_start,
                "hr_now": sum(v["high_risk_enterprises"] for v in self.county_rows["F6"][week].values()),
            }
        elif no == 4:
            t = self._totals("F1", week)
            m = {
                "inspect_due": t["inspect_due"],
                "inspected_v": t["inspected"],
                "cancel_due": t["cancel_due"],
                "cancelled": t["cancelled"],
                "inspect_rate": _pct(t["inspected"], t["inspect_due"]),
                "cancel_rate": _pct(t["cancelled"], t["cancel_due"]),
            }
        elif no == 5:
            t = self._totals("F2", week)
            m = {
                **t,
                "renew_rate": _pct(t["renewed"], t["renew_due"]),
                "review_rate": _pct(t["reviewed"], t["review_due"]),
            }
        elif no == 6:
            m = {"sites_text": self._sites_text(plan.unit, week)}
        elif no == 9:
            rows = self._upto("F3", week)
            m = {
                "drunk": sum(r["drunk_driving"] for r in rows),
                "ebike": sum(r["ebike_violations"] for r in rows),
                "truck": sum(r["truck_violations"] for r in rows),
                "points": sum(r["highway_point_violations"] + r["rural_point_violations"] for r in rows),
            }
        elif no in (14, 15, 17):
            central = [c.id for c in self.counties if c.central]
            rows = [self.county_rows["F7"][week][c] for c in central]
            shared = sum(r["shared_ebikes"] for r in rows)
            m = {
                "registered": sum(r["ebikes_registered"] for r in rows),
                "helmets": sum(r["helmets_equipped"] for r in rows),
                "plates": sum(r["enlarged_plates"] for r in rows),
            }
            m["registered_rate"] = _pct(m["registered"], shared)
            m["helmet_rate"] = _pct(m["helmets"], shared)
        return m

    def _sites_text(self, unit: str, week: int) -> str:
        day = self.campaign.period(week).end
        sites = self.sites.get(unit, [])
        done = [s for s in sites if s.completed_on and s.completed_on <= day]
        parts = []
        for category, _, _ in SITE_CATEGORIES:
            total = sum(s.category == category for s in sites)
            if total:
                n = sum(s.category == category for s in done)
                parts.append(f"{category}{total}处，已完成{n}处")
        if not parts:
            return f"{self._unit_name(unit)}配合推进事故多发路口改造。"
        return f"{self._unit_name(unit)}负责的" + "；".join(parts) + "。"

    def _upto(self, form_code: str, week: int) -> list[dict[str, Any]]:
        return [row for w in range(1, week + 1) for row in self.county_rows[form_code][w].values()]

    def _totals(self, form_code: str, week: int) -> dict[str, int]:
        rows = list(self.county_rows[form_code][week].values())
        keys = [k for k in rows[0] if k != "county"]
        return {k: sum(r[k] or 0 for r in rows) for k in keys}


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}%" if den else "—"


def _as_of(day: dt.date) -> str:
    return f"截至{day.month}月{day.day}日"


def _doc_prefix(unit_name: str) -> str:
    core = unit_name.removeprefix("市").removesuffix("局").removesuffix("部").removesuffix("支队")
    if unit_name.endswith(("县", "区", "市")) and not unit_name.startswith("市"):
        return f"{unit_name[:2]}府办字"
    return f"九{core[:1]}字"


# -------------------------------------------------------------------------------------------- building


def _target(campaign, form: str, column: str, default: float) -> float:
    for ind in campaign.indicators.values():
        if (
            ind.numerator.form == form
            and ind.numerator.columns == [column]
            and isinstance(ind.target, int | float)
        ):
            return float(ind.target)
    return default


def _counties(campaign, seed: int, scale: int) -> list[County]:
    central: set[str] = set()
    for group in campaign.units_def.groups[:1]:
        central.update(group.members)
    out = []
    for u in campaign.counties:
        r = rng(seed, "county", u.id)
        out.append(
            County(u.id, u.name, u.code, tuple(u.aliases), u.id in central, round(r.uniform(0.55, 2.0), 3))
        )
    for n in range(1, len(out) * (scale - 1) + 1):
        r = rng(seed, "county", "synthetic", n)
        out.append(
            County(f"test{n:03d}", f"测试县{n:03d}", None, (), False, round(r.uniform(0.55, 2.0), 3), True)
        )
    return out


def _lagging(seed: int, key: str, counties: list[County], k: int = 3) -> set[str]:
    ids = [c.id for c in counties]
    return set(rng(seed, "lag", key).sample(ids, min(k * max(1, len(ids) // 15), len(ids))))


def _curve(week: int, start: float, end: float, full_week: int = 12) -> float:
    t = min(1.0, (week - 1) / (full_week - 1))
    return start + (end - start) * (1 - (1 - t) ** 1.6)


def _poisson(r: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(r.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


def build_world(campaign, seed: int = 2022, scale: int = 1, ledger_scale: int = 1) -> World:
    """Simulate the whole campaign for ``seed``; ``scale`` multiplies the counties and the city ledgers,
    ``ledger_scale`` every hazard ledger (F4) once more."""
    if scale < 1 or ledger_scale < 1:
        raise ValueError("scale and ledger_scale must be >= 1")
    counties = _counties(campaign, seed, scale)
    world = World(campaign, seed, scale, counties)
    weeks = campaign.periods()
    world.county_rows = {
        "F1": _f1(seed, counties, weeks),
        "F2": _f2(seed, counties, weeks),
        "F3": _f3(seed, counties, weeks),
        "F6": _f6(seed, counties, weeks),
        "F7": _f7(campaign, seed, counties, weeks),
        "F8": _f8(seed, counties, weeks),
    }
    world.hazards = _hazards(campaign, seed, counties, scale, ledger_scale)
    world.sites = _sites(campaign, seed, counties)
    world.plans = _plans(campaign, seed, counties)
    return world


def _stock_rates(seed, form, counties, weeks, spec):
    """Stock forms: for each (due, done) pair a base count and a done share climbing to its target."""
    lag = _lagging(seed, form, counties)
    out: dict[int, dict[str, dict[str, Any]]] = {p.no: {} for p in weeks}
    for c in counties:
        r = rng(seed, form, c.id)
        row_base: dict[str, int] = {}
        plan = []
        for due_key, done_key, lo, hi, s0, _s1, target, lag_target in spec:
            base = max(8, int(c.size * r.uniform(lo, hi)))
            first = r.uniform(*s0)
            final = (
                r.uniform(*lag_target)
                if c.id in lag
                else min(1.0, r.uniform(target, target + (1 - target) * 0.9) + r.choice([0, 0, 0.01]))
            )
            growth = r.uniform(0.0, 0.004)
            plan.append((due_key, done_key, base, first, final, growth))
            row_base[due_key] = base
        prev: dict[str, int] = {}
        for p in weeks:
            row: dict[str, Any] = {"county": c.id}
            for due_key, done_key, base, first, final, growth in plan:
                due = base + int(base * growth * (p.no - 1))
                share = _curve(p.no, first, final) if p.no <= 12 else min(1.0, final + 0.003)
                done = max(prev.get(done_key, 0), min(due, int(due * share)))
                prev[done_key] = done
                row[due_key], row[done_key] = due, done
            out[p.no][c.id] = row
    return out


def _f1(seed, counties, weeks):
    rows = _stock_rates(
        seed,
        "F1",
        counties,
        weeks,
        [
            ("inspect_due", "inspected", 450, 1400, (0.55, 0.66), None, 0.955, (0.86, 0.925)),
            ("cancel_due", "cancelled", 40, 150, (0.35, 0.55), None, 0.992, (0.90, 0.965)),
        ],
    )
    for c in counties:
        r = rng(seed, "F1-total", c.id)
        first = rows[1][c.id]
        total = int(first["inspect_due"] * r.uniform(4.2, 6.5))
        if total >= 9000:  # big counties report round figures (and some write them as 1.04万)
            total = round(total, -2)
        for p in weeks:
            rows[p.no][c.id] = {
                "county": c.id,
                "vehicles_total": total,
                **{k: v for k, v in rows[p.no][c.id].items() if k != "county"},
            }
    # Two counties had not yet counted their vehicles due for cancellation in week 1: unknown, not zero.
    for cid in rng(seed, "F1-unknown").sample([c.id for c in counties], min(2, len(counties))):
        rows[1][cid]["cancel_due"] = rows[1][cid]["cancelled"] = None
    return rows


def _f2(seed, counties, weeks):
    return _stock_rates(
        seed,
        "F2",
        counties,
        weeks,
        [
            ("renew_due", "renewed", 300, 1100, (0.55, 0.65), None, 0.995, (0.955, 0.985)),
            ("review_due", "reviewed", 500, 1700, (0.60, 0.70), None, 0.98, (0.93, 0.97)),
        ],
    )


def _days(p) -> float:
    return ((p.end - p.start).days + 1) / 7


def _f3(seed, counties, weeks):
    out = {p.no: {} for p in weeks}
    for c in counties:
        r = rng(seed, "F3", c.id)
        base = {
            "drunk_driving": r.uniform(4, 12),
            "ebike_violations": r.uniform(60, 260),
            "truck_violations": r.uniform(8, 40),
            "highway_point_violations": r.uniform(30, 130),
            "rural_point_violations": r.uniform(15, 90),
        }
        for p in weeks:
            push = 1.25 if 2 <= p.no <= 6 else 1.0
            out[p.no][c.id] = {
                "county": c.id,
                **{
                    k: max(0, round(v * c.size * push * _days(p) * r.uniform(0.75, 1.25)))
                    for k, v in base.items()
                },
            }
            if p.no == 4:  # 五一 holiday: more drink-driving checks
                out[p.no][c.id]["drunk_driving"] += r.randint(1, 6)
    return out


def _f6(seed, counties, weeks):
    lag = _lagging(seed, "F6", counties, 2)
    out = {p.no: {} for p in weeks}
    for c in counties:
        r = rng(seed, "F6", c.id)
        start = max(4, int(c.size * r.uniform(8, 24)))
        factor = r.uniform(0.92, 0.95) if c.id in lag else r.uniform(0.83, 0.87)
        for p in weeks:
            hr = max(1 if c.id in lag else 0, round(start * factor ** (p.no - 1)))
            big = 2.0 if p.no <= 4 else 1.0
            inspected = max(1, round(c.size * r.uniform(3, 9) * big * _days(p)))
            found = round(inspected * r.uniform(0.6, 1.8))
            fixed = round(found * r.uniform(0.55, 1.0))
            out[p.no][c.id] = {
                "county": c.id,
                "high_risk_enterprises": hr,
                "enterprises_inspected": inspected,
                "problems_found": found,
                "problems_fixed": fixed,
            }
    return out


def _split(total: int, weights: list[float], unit: int = 100) -> list[int]:
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(x // unit * unit) for x in raw]
    parts[0] += total - sum(parts)
    return parts


def _f7(campaign, seed, counties, weeks):
    r = rng(seed, "F7")
    central = [c for c in counties if c.central]
    ebikes = int(_target(campaign, "F7", "ebikes_registered", 31500))
    plates_target = int(_target(campaign, "F7", "enlarged_plates", 3000))
    shares = _split(ebikes, [c.size for c in central]) if central else []
    plates = _split(plates_target + r.randint(60, 240), [c.size for c in central], 1) if central else []
    reg_deadline = next((p.no for p in weeks if p.contains(dt.date(weeks[0].start.year, 4, 30))), 4)
    late_reg = r.choice(central).id if central else None
    late_helmet = r.choice(central).id if central else None
    lag_plates = r.choice(central).id if central else None
    out = {p.no: {} for p in weeks}
    for c in counties:
        rc = rng(seed, "F7", c.id)
        if c.central:
            i = central.index(c)
            shared, plate_goal = shares[i], plates[i]
            reg_done = reg_deadline + (2 if c.id == late_reg else 0)
            helmet_done = reg_deadline + (rc.randint(1, 3) if c.id == late_helmet else 0)
            plate_share_end = 0.9 if c.id == lag_plates else 1.0
        else:
            shared = round(c.size * rc.uniform(300, 1200), -1)
            plate_goal = round(c.size * rc.uniform(40, 180))
            reg_done, helmet_done, plate_share_end = (
                rc.randint(6, 12),
                rc.randint(5, 12),
                rc.uniform(0.7, 1.0),
            )
        reg0, helmet0 = rc.uniform(0.3, 0.5), rc.uniform(0.55, 0.75)
        prev = {"ebikes_registered": 0, "helmets_equipped": 0, "enlarged_plates": 0}
        for p in weeks:
            reg = (
                shared
                if p.no >= reg_done
                else int(shared * (reg0 + (0.985 - reg0) * (p.no - 1) / max(1, reg_done - 1)))
            )
            helmets = (
                shared
                if p.no >= helmet_done
                else int(shared * (helmet0 + (0.99 - helmet0) * (p.no - 1) / max(1, helmet_done - 1)))
            )
            plate = (
                int(plate_goal * min(plate_share_end, 0.08 + 0.92 * (p.no - 1) / 11))
                if p.no < 13
                else int(plate_goal * plate_share_end)
            )
            row = {
                "county": c.id,
                "shared_ebikes": shared,
                "ebikes_registered": max(prev["ebikes_registered"], reg),
                "helmets_equipped": max(prev["helmets_equipped"], helmets),
                "enlarged_plates": max(prev["enlarged_plates"], plate),
            }
            prev = {k: row[k] for k in prev}
            out[p.no][c.id] = row
    return out


def _f8(seed, counties, weeks):
    lag = _lagging(seed, "F8", counties, 2)
    out = {p.no: {} for p in weeks}
    for c in counties:
        r = rng(seed, "F8", c.id)
        lam = c.size * r.uniform(0.25, 0.7)
        ratio = r.uniform(0.7, 0.95) if c.id in lag else r.uniform(0.35, 0.6)
        acc_rate = c.size * r.uniform(2.0, 6.0)
        for p in weeks:
            d = _days(p)
            last_year = _poisson(r, lam * d)
            deaths = _poisson(r, lam * ratio * d)
            accidents = _poisson(r, acc_rate * d) + deaths
            injuries = _poisson(r, accidents * 1.25)
            out[p.no][c.id] = {
                "county": c.id,
                "accidents": accidents,
                "deaths": deaths,
                "injuries": injuries,
                "deaths_last_year": last_year,
            }
    return out


# ------------------------------------------------------------------------- ledgers


def _road(r: random.Random, road_type: str) -> str:
    if road_type == "城市道路":
        a, b, c = r.sample(CITY_ROADS, 3)
        return r.choice([f"{a}与{b}交叉口", f"{a}（{b}至{c}段）", a])
    if road_type == "国省道":
        return f"{r.choice(NATIONAL)}线K{r.randint(1, 420)}+{r.randint(0, 9)}00"
    if road_type == "县乡道":
        return f"{r.choice('XY')}{r.randint(1, 899):03d}线K{r.randint(0, 60)}+{r.randint(0, 9)}00"
    a, b = r.sample(VILLAGES, 2)
    return f"{a}村至{b}村村道"


def _hazard(seed, prefix, n, county: County, road_type, responsible, r, lag, campaign) -> Hazard:
    start, end = campaign.frame.start, campaign.frame.end
    if n == 1:
        found = start + dt.timedelta(days=r.randint(0, 5))
    elif r.random() < 0.7:
        found = start + dt.timedelta(days=r.randint(0, 27))
    else:
        found = start + dt.timedelta(days=r.randint(28, (end - start).days - 4))
    begin = found + dt.timedelta(days=r.randint(0, 6))
    late = found > start + dt.timedelta(days=43)
    duration = r.uniform(3, 18) if late else r.uniform(4, 30)
    if lag:
        duration *= 1.3
    if r.random() < 0.03:
        duration += 90  # needs construction: not finished within the campaign
    fixed = begin + dt.timedelta(days=round(duration))
    return Hazard(
        f"{prefix}-{n:03d}",
        county.id,
        _road(r, road_type),
        road_type,
        r.choice(HAZARDS[road_type]),
        found,
        begin,
        fixed,
        responsible,
    )


def _hazards(campaign, seed, counties, scale, ledger_scale=1) -> dict[str, list[Hazard]]:
    lag = _lagging(seed, "F4", counties)
    out: dict[str, list[Hazard]] = {}
    submitters = campaign.form_submitters("F4")
    departments = [u for u in submitters if campaign.units[u].kind == "department"]
    for c in counties:
        r = rng(seed, "F4", c.id)
        prefix = c.code or c.id.upper()[:4]
        types = ["城市道路", "县乡道", "村道"] if c.central else ["县乡道", "村道", "村道", "城市道路"]
        units = [
            f"{c.name}交通运输局",
            f"{c.name}公路事业发展中心",
            f"{c.name}住建局",
            f"{c.name}公安局交警大队",
        ]
        n = max(3, round(c.size * r.uniform(12, 28))) * ledger_scale
        out[c.id] = [
            _hazard(seed, prefix, i, c, r.choice(types), r.choice(units), r, c.id in lag, campaign)
            for i in range(1, n + 1)
        ]
    # City departments' ledgers: the first for highways (GL-), the second for city roads (CG-).
    for idx, dept in enumerate(departments):
        r = rng(seed, "F4", dept)
        name = campaign.units[dept].name
        if idx == 0:
            pool, types, prefix, n = counties, ["国省道", "国省道", "县乡道"], "GL", 40 * scale * ledger_scale
        else:
            pool = [c for c in counties if c.central] or counties
            types, prefix, n = ["城市道路"], "CG", 24 * scale * ledger_scale
        ledger = []
        for i in range(1, n + 1):
            county = r.choice(pool)
            unit = f"{name}{county.name[:2]}分中心" if prefix == "GL" else f"{county.name}城管局"
            ledger.append(_hazard(seed, prefix, i, county, r.choice(types), unit, r, False, campaign))
        out[dept] = ledger
    return out


def _sites(campaign, seed, counties) -> dict[str, list[Site]]:
    submitters = campaign.form_submitters("F5")
    highway, rural = submitters[0], submitters[-1]
    weeks = campaign.periods()
    r = rng(seed, "F5")
    real = [c for c in counties if not c.synthetic] or counties
    rural_counties = [c for c in real if not c.central] or real
    out: dict[str, list[Site]] = {highway: [], rural: []} if highway != rural else {highway: []}
    counters: dict[str, int] = {}
    lag_site = r.randint(1, 41)
    for category, prefix, count in SITE_CATEGORIES:
        for i in range(1, count + 1):
            counters[prefix] = counters.get(prefix, 0) + 1
            sid = f"{prefix}{counters[prefix]:03d}"
            if prefix == "JSD":
                county = r.choice(rural_counties)
                village = r.choice(VILLAGES)
                name = f"{r.choice(NATIONAL[6:])}线与{village}村道平交路口"
                week = r.randint(3, 11)
                item_weeks = {"speed_bump": week}
                applicable = ("speed_bump",)
                owner = rural
            else:
                county = r.choices(real, weights=[c.size for c in real])[0]
                if prefix == "LD":
                    a = r.randint(1, 300)
                    name = f"{r.choice(NATIONAL)}线K{a}—K{a + r.randint(1, 6)}段"
                else:
                    a, b = r.sample(CITY_ROADS, 2)
                    name = (
                        f"{a}与{b}交叉口"
                        if county.central and r.random() < 0.7
                        else f"{r.choice(NATIONAL)}线与{r.choice(VILLAGES)}村道平交路口"
                    )
                start = r.randint(2, 8)
                item_weeks = {k: min(12, start + r.randint(0, 4)) for k in FIVE_ITEMS}
                if category == "2021年以来死亡1人路口" and i == lag_site:
                    item_weeks["signal_light"] = None  # the one site still waiting for its signal light
                applicable = FIVE_ITEMS
                owner = highway
            done_weeks = [item_weeks.get(k) for k in applicable]
            completed = None
            if all(w is not None for w in done_weeks):
                p = weeks[max(done_weeks) - 1]  # type: ignore[type-var]
                completed = p.start + dt.timedelta(days=r.randint(0, (p.end - p.start).days))
            out[owner].append(Site(sid, county.id, name, category, item_weeks, applicable, completed))
    return out


def _plans(campaign, seed, counties) -> dict[str, list[TaskPlan]]:
    weeks = campaign.periods()
    last = weeks[-1].no
    out: dict[str, list[TaskPlan]] = {}
    county_tasks = [t.no for t in campaign.tasks if COUNTIES in t.lead]
    leads = campaign.form_submitters("F9")
    synthetic = [c.id for c in counties if c.synthetic and county_tasks]
    for unit in leads + synthetic:
        numbers = county_tasks if unit in synthetic else campaign.tasks_led_by(unit)
        plans = []
        for no in numbers:
            task = campaign.task(no)
            r = rng(seed, "plan", unit, no)
            deadline_week = campaign.period_for(task.deadline).no
            start = 1 if r.random() < 0.8 else r.randint(2, 3)
            if deadline_week >= last:
                done = r.choice([last - 1, last, last]) if r.random() < 0.85 else None
            elif r.random() < 0.15:
                done = deadline_week + r.randint(1, 3)
            else:
                done = deadline_week - r.choice([0, 0, 1, 1, 2])
            if done is not None:
                done = max(done, start + 1)
                if done > last:
                    done = None
            on_time = done is not None and done <= deadline_week
            plans.append(TaskPlan(unit, no, start, done, on_time))
        out[unit] = plans
    return out
