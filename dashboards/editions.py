"""Editions: a report frozen on a copy of the marts at a stated time, numbered, and reproducible.

An edition is a folder ``$ROADSAFE_HOME/reports/<kind>/<ref>/``::

    edition.json      kind, period, 期号, issue / freeze times, the campaign words it prints
    snapshot.duckdb   the marts (and ref tables) it may see, copied from the published snapshot
    bulletin.html     self-contained page   ┐
    bulletin.pdf      A4, fonts embedded    ├ rendered only from the two files above
    bulletin.xlsx     the tables            ┘
    manifest.json     every file with its sha256

``kind`` is ``weekly_bulletin`` / ``dispatch_list`` (``ref`` = ``week-05``) or ``monthly_ranking`` /
``monthly_summary`` (``ref`` = ``2022-05``). 期号 is the period's position among the kind's editions
(week 5 → 第5期; the second month → 第2期), so it does not depend on the order editions are made in.

Freezing is done once; rendering again gives the same bytes (no clock is read while rendering: the
only time an edition holds is its freeze time, used for the PDF and workbook dates too).

Examples
--------
>>> from roadsafe.settings import Settings
>>> folders = weekly_edition(Settings.from_env(), 5)  # doctest: +SKIP
>>> [f.name for f in folders]  # doctest: +SKIP
['week-05', 'week-05']
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from dashboards.edition_meta import (
    KINDS,
    MONTHLY_KINDS,
    SPAN_KINDS,
    WEEKLY_KINDS,
    EditionMeta,
    PreviousEdition,
    campaign_info,
)
from roadsafe.durable import process_alive
from roadsafe.wording import campaign_now, campaign_tz

__all__ = [
    "STEMS",
    "all_editions",
    "build_document",
    "Edition",
    "RenderResult",
    "edition_dir",
    "freeze",
    "freeze_monthly",
    "freeze_weekly",
    "list_editions",
    "monthly_edition",
    "monthly_ref",
    "open_edition",
    "plan_edition",
    "render",
    "render_edition",
    "span_edition",
    "span_ref",
    "weekly_edition",
    "weekly_ref",
]

# File stem per kind, and the short names the Airflow DAGs use.
STEMS = {
    "weekly_bulletin": "bulletin",
    "dispatch_list": "dispatch",
    "monthly_ranking": "ranking",
    "monthly_summary": "summary",
    "half_year_summary": "assessment",
    "yearly_assessment": "assessment",
    "final_assessment": "assessment",
}
_SHORT = {v: k for k, v in STEMS.items() if k not in SPAN_KINDS}  # the DAGs' short names


def weekly_ref(period_no: int) -> str:
    """``week-05``."""
    return f"week-{int(period_no):02d}"


def monthly_ref(month: str) -> str:
    """``2022-05`` (validated)."""
    dt.date.fromisoformat(f"{month}-01")
    return month


def span_ref(kind: str, ref: str | int | None) -> str:
    """``period-01`` for a report issued per period (the half-year summary), ``final`` for one issued once
    after the campaign (the yearly assessment, the 总结评估)."""
    if kind == "half_year_summary":
        if ref is None:
            raise ValueError("半年工作总结须指明第几个半年（--period N）。")
        return f"period-{int(str(ref).removeprefix('period-')):02d}"
    return "final"


def _normal_ref(kind: str, ref: str | int | None) -> str:
    if kind in WEEKLY_KINDS:
        return weekly_ref(int(str(ref).removeprefix("week-")))
    if kind in SPAN_KINDS:
        return span_ref(kind, ref)
    return monthly_ref(str(ref))


def edition_dir(settings, kind: str, ref: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"未知的报告类型：{kind}（应为 {'、'.join(KINDS)} 之一）")
    return settings.reports / kind / ref


@dataclass(frozen=True)
class Edition:
    """A frozen edition on disk."""

    folder: Path
    meta: EditionMeta

    @property
    def snapshot(self) -> Path:
        return self.folder / "snapshot.duckdb"

    @property
    def stem(self) -> str:
        return STEMS[self.meta.kind]

    def outputs(self) -> dict[str, Path]:
        return {ext: self.folder / f"{self.stem}.{ext}" for ext in ("html", "pdf", "xlsx")}

    def is_rendered(self) -> bool:
        return all(p.is_file() for p in self.outputs().values())

    def connect(self):
        from roadsafe.warehouse import open_snapshot

        return open_snapshot(self.snapshot)


def open_edition(folder: Path) -> Edition:
    """An edition from its folder (reads ``edition.json``)."""
    folder = Path(folder)
    if not (folder / "edition.json").is_file():
        raise FileNotFoundError(f"{folder} 不是报告期次目录（缺少 edition.json）")
    return Edition(folder, EditionMeta.read(folder))


def list_editions(settings) -> list[Edition]:
    """Every frozen edition under ``$ROADSAFE_HOME/reports``, by kind then 期号."""
    out = []
    for kind in KINDS:
        base = settings.reports / kind
        if not base.is_dir():
            continue
        for folder in sorted(base.iterdir()):
            if (folder / "edition.json").is_file():
                out.append(open_edition(folder))
    return sorted(out, key=lambda e: (KINDS.index(e.meta.kind), e.meta.issue_no))


# --------------------------------------------------------------------------- planning


def _report_rule(campaign, kind: str):
    rule = campaign.frame.reports.get(kind)
    if rule is None:
        raise ValueError(f"活动定义 campaign.yml 的 reports 中没有 {kind}，无法生成该报告。")
    return rule


def _weekly_times(campaign, calendar, kind: str, period_no: int) -> tuple[dt.datetime, dt.datetime]:
    from roadsafe.schedule import form_due_at, period_due_at

    period = campaign.period(period_no)
    return period_due_at(campaign, calendar, _report_rule(campaign, kind), period), form_due_at(
        campaign, calendar, period
    )


def _month_issue(campaign, calendar, kind: str, month: str) -> tuple[int, dt.datetime]:
    from roadsafe.schedule import month_ends

    rule = _report_rule(campaign, kind)
    ends = month_ends(campaign, calendar)
    for index, (m, day) in enumerate(ends, start=1):
        if m == month:
            moment = dt.datetime.combine(day, dt.time.fromisoformat(rule.time), tzinfo=campaign_tz(campaign))
            return index, moment
    raise ValueError(f"{month} 不在活动期内（{campaign.frame.start} 至 {campaign.frame.end}）。")


def _month_periods(campaign, calendar, month: str, issue_at: dt.datetime) -> tuple[int, ...]:
    """The weeks a monthly edition reports: those ending in the month whose forms were due by the issue
    time (the last days of June are reported in the next edition, not guessed)."""
    from roadsafe.schedule import form_due_at

    in_month = [p for p in campaign.periods() if p.month == month]
    due = [p.no for p in in_month if form_due_at(campaign, calendar, p) <= issue_at]
    return tuple(due or [p.no for p in in_month])


def _window(campaign, calendar, kind: str, ref: str, frozen_at: dt.datetime) -> dict:
    """Times and periods of one edition (no look at the disk)."""
    if kind in WEEKLY_KINDS:
        period_no = int(str(ref).removeprefix("week-"))
        try:
            period = campaign.period(period_no)
        except KeyError:
            raise ValueError(f"第{period_no}周不在活动期内（共{len(campaign.periods())}周）。") from None
        issue_at, form_due = _weekly_times(campaign, calendar, kind, period_no)
        return {
            "ref": weekly_ref(period_no),
            "issue_no": period_no,
            "period_no": period_no,
            "period_nos": (period_no,),
            "month": None,
            "label": period.label,
            "start": period.start,
            "end": period.end,
            "issue_at": issue_at,
            "form_due_at": form_due,
            "cutoff": min(form_due, frozen_at),
            "until": min(issue_at, frozen_at),
        }
    if kind in MONTHLY_KINDS:
        month = monthly_ref(str(ref))
        issue_no, issue_at = _month_issue(campaign, calendar, kind, month)
        period_nos = _month_periods(campaign, calendar, month, issue_at)
        periods = [campaign.period(n) for n in period_nos]
        year, mon = month.split("-")
        until = min(issue_at, frozen_at)
        return {
            "ref": month,
            "issue_no": issue_no,
            "period_no": max(period_nos),
            "period_nos": period_nos,
            "month": month,
            "label": f"{int(year)}年{int(mon)}月",
            "start": min(p.start for p in periods),
            "end": max(p.end for p in periods),
            "issue_at": issue_at,
            "form_due_at": None,
            "cutoff": until,
            "until": until,
        }
    if kind in SPAN_KINDS:
        return _span_window(campaign, calendar, kind, ref, frozen_at)
    raise ValueError(f"未知的报告类型：{kind}")


def _span_window(campaign, calendar, kind: str, ref: str, frozen_at: dt.datetime) -> dict:
    """A span report: one half year (its forms' periods), or the whole campaign, judged on the periods
    whose forms were due by the issue time."""
    from roadsafe.schedule import build_schedule, form_due_at

    rule = _report_rule(campaign, kind)
    items = [i for i in build_schedule(campaign, calendar) if i.kind == kind]
    if rule.days_after_period_end is not None:
        period_no = int(str(ref).removeprefix("period-"))
        try:
            period = campaign.period(period_no)
        except KeyError:
            raise ValueError(f"第{period_no}期不在活动期内（共{len(campaign.periods())}期）。") from None
        issue_at = next(i.due_at for i in items if i.ref == period.label)
        chosen, issue_no, label = [period], period_no, period.label
    else:
        issue_at = items[0].due_at
        periods = campaign.periods()
        chosen = [p for p in periods if form_due_at(campaign, calendar, p) <= issue_at] or periods
        issue_no, label = 1, f"{campaign.frame.start.year}年"
    until = min(issue_at, frozen_at)
    return {
        "ref": span_ref(kind, ref),
        "issue_no": issue_no,
        "period_no": max(p.no for p in chosen),
        "period_nos": tuple(p.no for p in chosen),
        "month": None,
        "label": label,
        "start": min(p.start for p in chosen),
        "end": max(p.end for p in chosen),
        "issue_at": issue_at,
        "form_due_at": None,
        "cutoff": until,
        "until": until,
    }


def _previous_ref(campaign, calendar, kind: str, window: dict) -> str | None:
    if window["issue_no"] <= 1:
        return None
    if kind in WEEKLY_KINDS:
        return weekly_ref(window["period_no"] - 1)
    if kind in SPAN_KINDS:
        return span_ref(kind, window["period_no"] - 1)
    from roadsafe.schedule import month_ends

    return month_ends(campaign, calendar)[window["issue_no"] - 2][0]


def plan_edition(
    settings, kind: str, ref: str, *, frozen_at: dt.datetime, campaign=None, calendar=None
) -> EditionMeta:
    """The :class:`EditionMeta` of an edition frozen at ``frozen_at`` (nothing is written).

    The previous edition of the kind (for the correction log) is read from disk when it exists, else
    taken as the schedule says it would have been issued.

    Parameters
    ----------
    ref : str
        ``week-05`` / ``5`` for weekly kinds, ``2022-05`` for monthly kinds.
    """
    from roadsafe.workcalendar import WorkCalendar

    if kind not in KINDS:
        raise ValueError(f"未知的报告类型：{kind}")
    if frozen_at.tzinfo is None:
        raise ValueError("frozen_at must be timezone-aware")
    campaign = campaign or settings.campaign()
    calendar = calendar or WorkCalendar.load()
    window = _window(campaign, calendar, kind, ref, frozen_at)
    previous = None
    prev_ref = _previous_ref(campaign, calendar, kind, window)
    if prev_ref is not None:
        folder = edition_dir(settings, kind, prev_ref)
        if (folder / "edition.json").is_file():
            prev = EditionMeta.read(folder)
            previous = PreviousEdition(prev.ref, prev.issue_no, prev.until, prev.period_no)
        else:
            w = _window(campaign, calendar, kind, prev_ref, frozen_at)
            previous = PreviousEdition(w["ref"], w["issue_no"], w["until"], w["period_no"])
    return EditionMeta(
        kind=kind, frozen_at=frozen_at, campaign=campaign_info(campaign), previous=previous, **window
    )


# --------------------------------------------------------------------------- freezing


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _remove_stale(folder: Path, prefix: str, suffix: str = "") -> None:
    """Remove ``<prefix><pid><suffix>`` folders or files left in ``folder`` by a killed process."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix))
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match and not process_alive(int(match.group(1))):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_manifest(edition: Edition) -> Path:
    files = {}
    for path in sorted(edition.folder.iterdir()):
        if (
            path.is_file()
            and path.name not in ("manifest.json", "delivery.json")
            and not path.name.startswith(".")
            and not path.name.endswith(".tmp")
        ):
            files[path.name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
    meta = edition.meta
    manifest = {
        "kind": meta.kind,
        "ref": meta.ref,
        "issue_no": meta.issue_no,
        "title": meta.title,
        "period_nos": list(meta.period_nos),
        "frozen_at": meta.frozen_at.isoformat(),
        "issue_at": meta.issue_at.isoformat(),
        "files": files,
    }
    path = edition.folder / "manifest.json"
    _remove_stale(edition.folder, ".manifest.json.", ".tmp")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # replaced whole: never seen half written
    tmp.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    return path


def freeze(
    settings,
    kind: str,
    ref: str | int,
    *,
    frozen_at: dt.datetime | None = None,
    refreeze: bool = False,
    campaign=None,
    calendar=None,
) -> Edition:
    """Freeze one edition: copy the published snapshot's marts it needs and write ``edition.json``.

    An edition already frozen is returned as it is (re-running a DAG task changes nothing) unless
    ``refreeze`` is set.

    Parameters
    ----------
    ref : str or int
        Week number (``5`` or ``week-05``) or month (``2022-05``).
    frozen_at : datetime, optional
        The stated freeze time; default now (campaign time zone).
    """
    from dashboards.freezing import SnapshotScope, freeze_snapshot
    from roadsafe.warehouse import SnapshotMissing

    campaign = campaign or settings.campaign()
    ref = _normal_ref(kind, ref)
    folder = edition_dir(settings, kind, ref)
    if (folder / "edition.json").is_file() and (folder / "snapshot.duckdb").is_file() and not refreeze:
        return open_edition(folder)
    if not settings.published.is_file():
        raise SnapshotMissing(f"找不到已发布的数据快照 {settings.published}：请先运行 roadsafe build。")
    meta = plan_edition(
        settings, kind, ref, frozen_at=frozen_at or campaign_now(campaign).replace(microsecond=0), campaign=campaign, calendar=calendar
    )
    staging = folder.with_name(f".{ref}.freezing")
    if staging.exists():
        shutil.rmtree(staging)
    _remove_stale(folder.parent, f".{ref}.replaced-")
    staging.mkdir(parents=True)
    try:
        scope = SnapshotScope(max_period=meta.period_no, max_month=meta.month)
        freeze_snapshot(settings.published, staging / "snapshot.duckdb", scope)
        meta.write(staging)
        # Refreezing: the old edition is renamed away whole and the new one renamed in (never a folder
        # half deleted: a kill in between leaves no edition, and the next run freezes it).
        old = folder.with_name(f".{ref}.replaced-{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        try:
            staging.rename(folder)
        except BaseException:
            if old.exists() and not folder.exists():
                old.rename(folder)
            raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    edition = Edition(folder, meta)
    _write_manifest(edition)
    return edition


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class RenderResult:
    """What rendering an edition wrote, and how long each format took (seconds)."""

    edition: Edition
    files: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)


def _builders(kind: str):
    if kind == "weekly_bulletin":
        from dashboards.bulletin import build_bulletin, collect_bulletin

        return collect_bulletin, build_bulletin
    if kind == "dispatch_list":
        from dashboards.dispatch import build_dispatch, collect_dispatch

        return collect_dispatch, build_dispatch
    if kind == "monthly_ranking":
        from dashboards.ranking import build_ranking, collect_ranking

        return collect_ranking, build_ranking
    if kind in SPAN_KINDS:
        from dashboards.assessment import build_assessment, collect_assessment

        return collect_assessment, build_assessment
    from dashboards.summary import build_summary, collect_summary

    return collect_summary, build_summary


def build_document(edition: Edition, *, review: bool = True):
    """The edition's :class:`~dashboards.rendering.Document`, read only from its frozen snapshot, with the
    office's review (``signoff.json``: 按语, reworded paragraphs) applied when there is one."""
    collect, build = _builders(edition.meta.kind)
    con = edition.connect()
    try:
        content = collect(con, edition.meta)
    finally:
        con.close()
    from dashboards.review import apply_review  # the office's 按语 and reworded paragraphs, if any

    document = build(content, edition.meta)
    return apply_review(document, edition.folder) if review else document


def render_edition(edition: Edition) -> RenderResult:
    """Render HTML, PDF and XLSX of a frozen edition and refresh its manifest.

    The files are written into a hidden folder beside the edition (``.<ref>.rendering-<pid>``), fsynced, and
    only then renamed into the edition one by one, so the site, the portal and the e-mail delivery never
    see a half-written file, and an edition is :meth:`Edition.is_rendered` only once its three files are
    complete. A render killed half way leaves that hidden folder, removed by the next render.
    """
    from dashboards.rendering import write_document

    t0 = time.perf_counter()
    document = build_document(edition)
    build_seconds = time.perf_counter() - t0
    timings: dict[str, float] = {}
    folder = edition.folder
    _remove_stale(folder.parent, f".{folder.name}.rendering-")
    staging = folder.with_name(f".{folder.name}.rendering-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        written = write_document(
            document,
            staging,
            created=edition.meta.frozen_at,
            author=edition.meta.campaign.office,
            timings=timings,
        )
        for path in written.values():
            _fsync(path)
        files = {}
        last = ("xlsx", "pdf", "html")  # the three is_rendered() looks for come last, the page the very last
        for ext in sorted(written, key=lambda k: last.index(k) if k in last else -1):
            files[ext] = folder / written[ext].name
            os.replace(written[ext], files[ext])
        _fsync(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    timings["html"] += build_seconds  # reading the snapshot, tables and charts belong to the HTML
    _write_manifest(edition)
    return RenderResult(edition, files, timings)


def render(edition_dir: Path, kind: str | None = None) -> list[Path]:
    """Render an edition folder (the DAGs' entry point); returns the written files.

    ``kind`` may be a short name (``bulletin``, ``dispatch``, ``ranking``, ``summary``) or a kind; when it
    names the other report of the same week or month (e.g. ``dispatch`` for a bulletin folder), that
    sibling edition is frozen if needed and rendered.
    """
    edition = open_edition(Path(edition_dir))
    wanted = _SHORT.get(kind or "", kind) or edition.meta.kind
    if wanted != edition.meta.kind:
        settings = _settings_for(edition)
        edition = freeze(settings, wanted, edition.meta.ref, frozen_at=edition.meta.frozen_at)
    return list(render_edition(edition).files.values())


def _settings_for(edition: Edition):
    from roadsafe.settings import Settings

    home = edition.folder.parents[2]
    return Settings(home=home, campaign_code=edition.meta.campaign.code)


# --------------------------------------------------------------------------- the DAG / CLI entry points


def weekly_edition(
    settings, period_no: int, *, frozen_at: dt.datetime | None = None, refreeze: bool = False
) -> list[Path]:
    """Freeze and render the week's bulletin and dispatch list; returns their two folders."""
    return _pair(settings, WEEKLY_KINDS, period_no, frozen_at, refreeze)


def monthly_edition(
    settings, month: str, *, frozen_at: dt.datetime | None = None, refreeze: bool = False
) -> list[Path]:
    """Freeze and render the month's ranking and summary; returns their two folders."""
    return _pair(settings, MONTHLY_KINDS, month, frozen_at, refreeze)


def span_edition(
    settings,
    kind: str,
    ref: str | int | None = None,
    *,
    frozen_at: dt.datetime | None = None,
    refreeze: bool = False,
) -> Path:
    """Freeze and render a span report (``half_year_summary`` with the period number, ``yearly_assessment``
    or ``final_assessment``) the campaign defines; returns its folder."""
    if kind not in SPAN_KINDS:
        raise ValueError(f"未知的报告类型：{kind}（应为 {'、'.join(SPAN_KINDS)} 之一）")
    campaign = settings.campaign()
    _report_rule(campaign, kind)
    frozen_at = frozen_at or campaign_now(campaign).replace(microsecond=0)
    edition = freeze(
        settings, kind, span_ref(kind, ref), frozen_at=frozen_at, refreeze=refreeze, campaign=campaign
    )
    if refreeze or not edition.is_rendered():
        render_edition(edition)
    return edition.folder


def _pair(settings, kinds, ref, frozen_at, refreeze) -> list[Path]:
    campaign = settings.campaign()
    frozen_at = frozen_at or campaign_now(campaign).replace(microsecond=0)
    folders = []
    for kind in kinds:
        edition = freeze(settings, kind, ref, frozen_at=frozen_at, refreeze=refreeze, campaign=campaign)
        if refreeze or not edition.is_rendered():
            render_edition(edition)
        folders.append(edition.folder)
    return folders


def freeze_weekly(settings, day: dt.date) -> Path:
    """For the weekly DAG: freeze (not render) the edition whose bulletin is due on ``day``, and its
    dispatch list; returns the bulletin's folder."""
    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import WorkCalendar

    campaign = settings.campaign()
    tz = campaign_tz(campaign)
    labels = {p.label: p.no for p in campaign.periods()}
    due = [
        i
        for i in build_schedule(campaign, WorkCalendar.load())
        if i.kind == "weekly_bulletin" and i.due_at.astimezone(tz).date() == day
    ]
    if not due:
        raise ValueError(f"{day} 不是工作通报的发布日。")
    period_no = labels[due[0].ref]
    frozen_at = campaign_now(campaign).replace(microsecond=0)
    for kind in WEEKLY_KINDS:
        freeze(settings, kind, period_no, frozen_at=frozen_at, campaign=campaign)
    return edition_dir(settings, "weekly_bulletin", weekly_ref(period_no))


def freeze_monthly(settings, day: dt.date) -> Path:
    """For the monthly DAG: freeze the ranking and summary of ``day``'s month; returns the ranking folder."""
    month = f"{day:%Y-%m}"
    campaign = settings.campaign()
    frozen_at = campaign_now(campaign).replace(microsecond=0)
    for kind in MONTHLY_KINDS:
        freeze(settings, kind, month, frozen_at=frozen_at, campaign=campaign)
    return edition_dir(settings, "monthly_ranking", month)


def _render_folder(folder: str) -> tuple[str, dict[str, float]]:
    """Worker for :func:`all_editions` (a separate process)."""
    result = render_edition(open_edition(Path(folder)))
    return folder, result.timings


def all_editions(
    settings, *, refreeze: bool = False, jobs: int = 1, frozen_at: dt.datetime | None = None
) -> list[RenderResult]:
    """Every weekly and monthly edition of the campaign whose issue time has come (all of them for a
    past campaign such as the 2022 sample), frozen in order and rendered ``jobs`` at a time."""
    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import WorkCalendar

    campaign = settings.campaign()
    calendar = WorkCalendar.load()
    frozen_at = frozen_at or campaign_now(campaign).replace(microsecond=0)
    labels = {p.label: p.no for p in campaign.periods()}
    wanted: list[tuple[str, str]] = []
    for item in build_schedule(campaign, calendar):
        if item.kind in KINDS and item.due_at <= frozen_at:
            if item.kind in WEEKLY_KINDS:
                ref = weekly_ref(labels[item.ref])
            elif item.kind in SPAN_KINDS:
                ref = span_ref(item.kind, labels.get(item.ref))
            else:
                ref = item.ref
            wanted.append((item.kind, ref))
    editions = [
        freeze(
            settings, kind, ref, frozen_at=frozen_at, refreeze=refreeze, campaign=campaign, calendar=calendar
        )
        for kind, ref in wanted
    ]
    todo = [e for e in editions if refreeze or not e.is_rendered()]
    timings: dict[str, dict[str, float]] = {}
    if jobs > 1 and len(todo) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            for folder, t in pool.map(_render_folder, [str(e.folder) for e in todo]):
                timings[folder] = t
    else:
        for e in todo:
            timings[str(e.folder)] = render_edition(e).timings
    out = []
    for e in editions:
        out.append(RenderResult(e, e.outputs(), timings.get(str(e.folder), {})))
    return out
