"""Write the sample campaign: every form, every expected submitter, every week, as real messy files.

The truth comes from :mod:`application.samples.world`; this module decides, per file and deterministically
from the seed, how an office would have sent it (format, encoding, title rows, merged headers, total rows,
number and date spellings, aliases, ...), when it arrived (on time, late, never), and which files are wrong
and corrected later, revised, or sent twice. Everything it did is written to ``manifest.jsonl`` (one line
per file, ordered by ``received_at``) and ``manifest.json`` (the header: seed, scale, counts, missing
submissions, extra units, the rules the expectations follow).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from application.samples.manifest import Manifest
from application.samples.messiness import EXTRA_COLUMNS, _corrupt, _habit, _revise, _style
from application.samples.world import World, build_world, rng
from application.samples.writer import _iso, _Writer
from roadsafe.campaign.definition import COUNTIES

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
            bad_rows, detail = _corrupt(special.split(":", 1)[1], world, form, truth, r)
            first = {"special": special, "detail": f"WRONG: {detail}; corrected later", "expect": "rejected"}
            _then_again(
                writer,
                key,
                bad_rows,
                truth,
                style,
                habit,
                received,
                r,
                (30, 28 * 60),
                first,
                ("（更正）", "corrected", "corrected resubmission of {}"),
            )
        elif special == "revision":
            first_rows, detail = _revise(form, truth, r)
            first = {"special": "revised_first", "detail": f"first version: {detail}"}
            _then_again(
                writer,
                key,
                first_rows,
                truth,
                style,
                habit,
                received,
                r,
                (20 * 60, 80 * 60),
                first,
                ("（修订）", "revision", "revised figures; supersedes {}"),
            )
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


def _then_again(
    writer, key, rows, truth, style, habit, received, r, minutes, first: dict, second: tuple
) -> None:
    """A first file of ``rows``, then (``minutes`` later, in office hours) the true figures sent again with
    ``second`` = (name suffix, special, detail template taking the first file's path); each names the other."""
    form_code, unit, week = key
    entry = writer.write(form_code, unit, week, rows, style, habit, received, r, **first)
    later = _office_hours(received + dt.timedelta(minutes=r.randint(*minutes)), r)
    suffix, special, detail = second
    again = writer.write(
        form_code,
        unit,
        week,
        truth,
        style,
        habit,
        later,
        r,
        suffix=suffix,
        special=special,
        related=entry.path,
        detail=detail.format(entry.path),
    )
    entry.related = again.path


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
