"""A small, fully known warehouse for report tests: ``ref.*`` from the real campaign definition and the
marts the reports read, filled with deterministic figures following docs/ARCHITECTURE.md. A few ``raw.*``
rows are written first to derive the submission and task-report marts from, then the ``raw`` schema is
dropped: reports read marts, never raw, and would fail here if they did.

The numbers are invented but consistent (scores add up, statuses follow actual vs 序时进度), so tests can
compare what a report prints with what the marts hold. Hostile free text is planted on purpose:
``HOSTILE_PROGRESS`` (a spreadsheet formula) and ``HOSTILE_DIFFICULTY`` (a script tag) in 市公安局's F9
for task 4 in every week.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from ingest.schema import ensure_raw_schema
from roadsafe.campaign import Campaign
from roadsafe.reftables import reference_rows, write_reference
from roadsafe.workcalendar import WorkCalendar

__all__ = ["HOSTILE_DIFFICULTY", "HOSTILE_PROGRESS", "MISSING", "build_fixture_warehouse"]

HOSTILE_PROGRESS = '=HYPERLINK("http://evil.example/x","点击查看佐证")'
HOSTILE_DIFFICULTY = "<script>alert('xss')</script>部分县区警力不足"

# (form, unit, period) that never arrive, and those that arrive late (minutes).
MISSING = {("F4", "duchang", 5), ("F9", "xuanchuan", 5), ("F4", "hukou", 5), ("F1", "balihu", 4)}
LATE = {("F7", "chengguan", 5): 26 * 60, ("F9", "jiaoyu", 5): 200, ("F4", "pengze", 3): 90}
# Resubmissions that replace an earlier accepted one: (form, unit, period) -> hours after due.
RESUBMIT = {("F1", "gongan", 4): 30, ("F4", "wuning", 4): 50, ("F9", "gonglu", 5): 2}

_STATUS_F9 = ("推进中", "推进中", "已完成")
_SUBMISSION_COLUMNS = (
    "submission_id, campaign_code, form_code, unit_id, period_no, file_sha256, original_name, stored_path, "
    "size_bytes, channel, submitted_by, received_at, due_at, minutes_late, status, superseded_by, row_count, "
    "error_count, warning_count"
)
_F9_COLUMNS = (
    "submission_id, sheet, source_row, subject_unit_id, record_key, task_no, status, progress, "
    "difficulties, evidence"
)


def _h(*parts: object) -> int:
    """A stable pseudo-random integer from the parts (no global random state)."""
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def _frac(*parts: object) -> float:
    return _h(*parts) / 0xFFFFFFFF


def build_fixture_warehouse(path: Path, campaign: Campaign, calendar: WorkCalendar | None = None) -> Path:
    """Write the fixture warehouse to ``path`` and return it."""
    calendar = calendar or WorkCalendar.load()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        write_reference(con, campaign, calendar)
        ensure_raw_schema(con, campaign)
        ref = reference_rows(campaign, calendar)
        _submissions(con, campaign, ref)
        _submission_marts(con)
        _indicators(con, campaign, ref)
        _tasks(con, campaign)
        _ranking(con, campaign, ref)
        _documents(con)
        con.execute("drop schema raw cascade")
        con.execute("checkpoint")
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------- raw + compliance


def _submissions(con, campaign: Campaign, ref: dict) -> None:
    tz = ZoneInfo(campaign.frame.timezone)
    subs, f9, compliance = [], [], []
    seq = 0

    def add(form, unit, period, received, due, status="accepted", superseded_by=None):
        nonlocal seq
        seq += 1
        sid = f"S{seq:06d}"
        late = max(0, int((received - due).total_seconds() // 60))
        subs.append(
            (
                sid,
                campaign.code,
                form,
                unit,
                period,
                hashlib.sha256(sid.encode()).hexdigest(),
                f"{form}-{unit}-{period}.xlsx",
                f"landing/{sid}.xlsx",
                1000,
                "cli",
                None,
                received,
                due,
                late,
                status,
                superseded_by,
                10,
                0,
                0,
            )
        )
        return sid

    months = {p[0]: p[5] for p in ref["periods"]}
    for form, unit, period, due in sorted(ref["expected_submissions"], key=lambda r: (r[2], r[0], r[1])):
        due = due.astimezone(tz)
        key = (form, unit, period)
        if key in MISSING or ((form, unit) == ("F9", "xuanchuan") and period >= 5):
            compliance.append(
                (
                    form,
                    unit,
                    period,
                    months[period],
                    due,
                    False,
                    None,
                    None,
                    False,
                    False,
                    None,
                    True,
                    0,
                    0,
                    None,
                )
            )
            continue
        minutes_before = 30 + _h(key) % 600
        received = due - dt.timedelta(minutes=minutes_before)
        if key in LATE:
            received = due + dt.timedelta(minutes=LATE[key])
        attempts, rejected = 1, 0
        if (_h("rej", key) % 23) == 0:  # a rejected first try, then a good one
            add(form, unit, period, received - dt.timedelta(minutes=20), due, status="rejected")
            attempts, rejected = 2, 1
        current = add(form, unit, period, received, due)
        last = received
        if key in RESUBMIT:
            last = due + dt.timedelta(hours=RESUBMIT[key])
            newer = add(form, unit, period, last, due)
            subs[-2] = subs[-2][:15] + (newer,) + subs[-2][16:]
            current = newer
            attempts += 1
        late = max(0, -(-int((received - due).total_seconds()) // 60))
        compliance.append(
            (
                form,
                unit,
                period,
                months[period],
                due,
                True,
                received,
                last,
                late == 0,
                late > 0,
                late,
                False,
                attempts,
                rejected,
                current,
            )
        )
        if form == "F9":
            for task_no in campaign.tasks_led_by(unit):
                f9.append(_f9_row(current, unit, task_no, period))
    con.executemany(
        f"insert into raw.submissions ({_SUBMISSION_COLUMNS}) values ({', '.join('?' * 19)})", subs
    )
    con.executemany(f"insert into raw.form_f9 ({_F9_COLUMNS}) values ({', '.join('?' * 10)})", f9)
    con.execute("create schema if not exists marts")
    con.execute(
        """
        create table marts.fct_submission_compliance (
            form_code varchar, unit_id varchar, period_no integer, month varchar, due_at timestamptz,
            received boolean, first_received_at timestamptz, last_received_at timestamptz, on_time boolean,
            is_late boolean, minutes_late integer, missing boolean, attempts integer,
            rejected_attempts integer, accepted_submission_id varchar
        )
        """
    )
    con.executemany(f"insert into marts.fct_submission_compliance values ({', '.join('?' * 15)})", compliance)


def _submission_marts(con) -> None:
    """fct_submissions and fct_task_reports with the marts' columns (dbt_project/models/marts), from the
    raw rows: every attempt with its version chain; each lead's latest F9 row as of every period."""
    con.execute(
        """
        create table marts.fct_submissions as
        select s.submission_id, s.form_code, s.unit_id, s.period_no,
               p.period_no is not null as in_campaign_period, s.status, s.received_at, s.due_at,
               s.minutes_late,
               case when s.status = 'accepted' then row_number() over (
                   partition by s.form_code, s.unit_id, s.period_no, s.status
                   order by s.received_at, s.submission_id) end as version_no,
               s.status = 'accepted' and s.superseded_by is null as is_current,
               s.superseded_by, prev.submission_id as replaces, s.row_count, s.error_count,
               s.warning_count, s.original_name, s.channel
        from raw.submissions s
        left join raw.submissions prev on prev.superseded_by = s.submission_id
        left join ref.periods p on p.period_no = s.period_no
        order by s.submission_id
        """
    )
    con.execute(
        """
        create table marts.fct_task_reports as
        with leads as (
            select distinct task_no, unit_id from ref.task_units where role = 'lead'
        ),
        grid as (
            select l.task_no, l.unit_id, p.period_no from leads l cross join ref.periods p
        ),
        reports as (
            select try_cast(f.task_no as integer) as task_no, s.unit_id, s.period_no as report_period_no,
                   s.form_code, s.submission_id, s.received_at, f.status as report_status,
                   case f.status when '未启动' then 'not_started' when '推进中' then 'in_progress'
                                 when '已完成' then 'done' end as report_stage,
                   f.progress, f.difficulties, f.evidence,
                   [s.submission_id || ':' || f.sheet || ':' || f.source_row] as source_rows
            from raw.form_f9 f join raw.submissions s using (submission_id)
            where s.status = 'accepted' and s.superseded_by is null
        )
        select g.task_no, g.unit_id, g.period_no, r.report_period_no,
               coalesce(r.report_period_no = g.period_no, false) as reported_this_period,
               r.form_code, r.submission_id, r.received_at, r.report_status, r.report_stage,
               r.progress, r.difficulties, r.evidence, r.source_rows
        from grid g
        left join reports r
               on r.task_no = g.task_no and r.unit_id = g.unit_id and r.report_period_no <= g.period_no
        qualify row_number() over (
            partition by g.task_no, g.unit_id, g.period_no order by r.report_period_no desc nulls last
        ) = 1
        order by g.task_no, g.unit_id, g.period_no
        """
    )


def _f9_row(sid: str, unit: str, task_no: int, period: int) -> tuple:
    status = "已完成" if period >= 3 + _h(unit, task_no) % 8 else _STATUS_F9[_h(unit, task_no, period) % 2]
    progress = (
        f"第{period}周：已召开专题会议{1 + _h(unit, task_no, period) % 3}次，完成阶段工作{period * 8}%。"
    )
    difficulties = "" if _h("d", unit, task_no, period) % 3 else "基层力量不足，建议市级统筹调度。"
    if unit == "gongan" and task_no == 4:
        progress, difficulties = HOSTILE_PROGRESS, HOSTILE_DIFFICULTY
    return (
        sid,
        "Sheet1",
        3 + task_no,
        unit,
        str(task_no),
        str(task_no),
        status,
        progress,
        difficulties or None,
        "佐证材料.pdf",
    )


# --------------------------------------------------------------------------- indicators


def _indicators(con, campaign: Campaign, ref: dict) -> None:
    periods = {p[0]: p for p in ref["periods"]}
    targets = {(r[0], r[1]): r for r in ref["indicator_targets"]}
    rows = []
    for code, unit in ref["indicator_scopes"]:
        ind = campaign.indicators[code]
        deadline = ind.deadline if isinstance(ind.deadline, dt.date) else None
        denominator = 0.0
        if ind.kind == "rate" and ind.denominator is not None:
            denominator = float(200 + _h(code, unit) % 3000)
        t = targets.get((code, unit))
        if t is None:
            target = None
        elif t[3]:
            target = float(4 + _h(code, unit, "n") % 6)
        else:
            target = t[2]
        baseline = 0.0 if ind.kind == "count" else round(0.2 + 0.4 * _frac(code, unit, "b"), 4)
        speed = 0.6 + 0.7 * _frac(code, unit, "s")  # < 1: lagging, > 1: ahead
        for no, period in periods.items():
            end = period[3]
            total_days = ((deadline or campaign.frame.end) - campaign.frame.start).days or 1
            share = min(1.0, max(0.0, ((end - campaign.frame.start).days + 1) / total_days))
            if target is None:
                if ind.kind == "rate":  # e.g. 隐患整改率, reported as information
                    actual = round(0.3 + 0.6 * _frac(code, unit, no), 4)
                else:
                    actual = float(50 + _h(code, unit, no) % 200)
                expected = gap = None
                status = "正常推进"  # the mart's status for indicators reported without a target
            else:
                expected = baseline + (target - baseline) * share
                actual = min(
                    target * 1.02 if ind.kind == "rate" else target,
                    baseline + (target - baseline) * share * speed,
                )
                if ind.kind == "count":
                    actual = float(round(actual))
                    expected = float(round(expected, 1))
                else:
                    actual, expected = round(min(actual, 1.0), 4), round(expected, 4)
                gap = round(actual - expected, 4)
                if actual >= target:
                    status = "已完成"
                elif deadline and end >= deadline:
                    status = "逾期未完成"
                elif actual < expected - (0.02 if ind.kind == "rate" else 0.05 * target):
                    status = "滞后"
                else:
                    status = "正常推进"
            if (code, unit, no) in {("I02", "duchang", 5), ("I12", "duchang", 5), ("I12", "hukou", 5)}:
                actual = gap = None
                status = "数据缺报"
            numerator = None if actual is None else (actual * denominator if denominator else actual)
            rows.append(
                (
                    code,
                    unit,
                    no,
                    numerator,
                    denominator or None,
                    actual,
                    target,
                    deadline,
                    baseline,
                    expected,
                    gap,
                    status,
                    [f"S000001:Sheet1:{3 + no}"],
                )
            )
    con.execute(
        """
        create temp table indicator_rows (
            indicator_code varchar, unit_id varchar, period_no integer, numerator double, denominator double,
            actual double, target double, deadline date, baseline double, expected double, gap double,
            status varchar, source_rows varchar[]
        )
        """
    )
    con.executemany(f"insert into indicator_rows values ({', '.join('?' * 13)})", rows)
    # The mart's column list (dbt_project/models/marts/fct_indicator_values.sql), names joined in.
    con.execute(
        """
        create table marts.fct_indicator_values as
        select v.indicator_code, v.unit_id, v.period_no, i.name as indicator_name, i.kind as indicator_kind,
               i.value_rule, i.direction, i.is_goal, u.name as unit_name, u.kind as unit_kind,
               u.sort_order as unit_sort_order, p.label as period_label, p.start_date as period_start_date,
               p.end_date as period_end_date, p.month, v.numerator, v.denominator, v.actual,
               v.actual - lag(v.actual) over (partition by v.indicator_code, v.unit_id order by v.period_no)
                   as week_change,
               v.target, coalesce(t.is_assumption, false) as target_is_assumption, v.deadline, v.baseline,
               v.expected, v.gap, v.status, v.status <> '数据缺报' as is_present, v.source_rows
        from indicator_rows v
        join ref.indicators i using (indicator_code)
        join ref.units u using (unit_id)
        join ref.periods p using (period_no)
        left join ref.indicator_targets t on t.indicator_code = v.indicator_code and t.unit_id = v.unit_id
        """
    )


def _tasks(con, campaign: Campaign) -> None:
    """fct_task_status with the mart's columns: status from the indicators at the widest scope (worst
    wins), else from the leads' F9; the leads' words attributed as ``单位：…；单位：…``."""
    con.execute(
        """
        create table marts.fct_task_status as
        with ind as (
            select it.task_no, v.period_no,
                   count(*) as indicators,
                   count(*) filter (where v.status = '已完成') as done,
                   count(*) filter (where v.status = '滞后') as behind,
                   count(*) filter (where v.status = '逾期未完成') as overdue,
                   count(*) filter (where v.status = '数据缺报') as missing,
                   string_agg(v.indicator_code || ' ' || v.indicator_name || '：' || v.status, '；'
                              order by v.indicator_code) as indicator_summary
            from marts.fct_indicator_values v
            join ref.indicator_tasks it using (indicator_code)
            where v.unit_kind in ('city', 'group') and v.direction <> 'none'
            group by all
        ),
        lead_grid as (
            select tu.task_no, tu.unit_id, u.name as unit_name, u.sort_order, p.period_no
            from ref.task_units tu join ref.units u using (unit_id) cross join ref.periods p
            where tu.role = 'lead'
        ),
        f9 as (
            select task_no, unit_id, period_no, report_status as status, progress, difficulties
            from marts.fct_task_reports
            where reported_this_period
        ),
        leads as (
            select g.task_no, g.period_no,
                   min(coalesce(f.status, '未报送')) as worst,
                   count(*) as leads_expected, count(f.status) as leads_reporting,
                   string_agg(g.unit_name || '：' || coalesce(f.status, '未报送'), '；' order by g.sort_order)
                       as lead_report_status,
                   string_agg(g.unit_name || '：' || f.progress, '；' order by g.sort_order)
                       filter (where f.progress is not null) as progress_text,
                   string_agg(g.unit_name || '：' || f.difficulties, '；' order by g.sort_order)
                       filter (where f.difficulties is not null) as difficulties,
                   bool_and(f.status = '已完成') as all_done,
                   bool_or(f.status is null) as any_missing
            from lead_grid g left join f9 f using (task_no, unit_id, period_no)
            group by all
        ),
        grid as (
            select t.task_no, t.section_no, t.section_title, t.title as task_title,
                   t.deadline as task_deadline, t.is_milestone, p.period_no, p.end_date
            from ref.tasks t cross join ref.periods p
        )
        select g.task_no, g.period_no, g.section_no, g.section_title, g.task_title, g.task_deadline,
               g.is_milestone,
               case when ind.indicators is not null then 'indicators' else 'task_reports' end as status_basis,
               case
                   when ind.indicators is not null and ind.overdue > 0 then '逾期未完成'
                   when ind.indicators is not null and ind.missing > 0 then '数据缺报'
                   when ind.indicators is not null and ind.behind > 0 then '滞后'
                   when ind.indicators is not null and ind.done = ind.indicators then '已完成'
                   when ind.indicators is not null then '正常推进'
                   when leads.all_done then '已完成'
                   when g.end_date >= g.task_deadline then '逾期未完成'
                   when leads.any_missing then '数据缺报'
                   else '正常推进'
               end as status,
               ind.indicator_summary, leads.lead_report_status, leads.progress_text, leads.difficulties,
               coalesce(leads.leads_expected, 0) as leads_expected,
               coalesce(leads.leads_reporting, 0) as leads_reporting
        from grid g
        left join ind using (task_no, period_no)
        left join leads using (task_no, period_no)
        order by 1, 2
        """
    )


# --------------------------------------------------------------------------- ranking


def _ranking(con, campaign: Campaign, ref: dict) -> None:
    """rpt_ranking_breakdown and rpt_monthly_ranking with the marts' columns; points add up to the score,
    ties share a rank (1, 2, 2, 4), the last ``bottom_marked`` places are marked."""
    months = [m[0] for m in ref["months"]]
    scopes = {
        "county": [u.id for u in campaign.counties],
        "department": [u for u in campaign.responsible_units if campaign.units[u].kind == "department"],
    }
    order = {u: i for i, u in enumerate(campaign.units)}
    names = {u.id: u.name for u in campaign.units.values()}
    weights = {
        scope: {c: w for (s, c, w, _o) in ref["ranking_weights"] if s == scope}
        for scope in ("county", "department")
    }
    items_of = {
        "attainment": [("I02", "I02 重点车辆检验率", 0.5), ("I12", "I12 道路交通隐患整改率", 0.5)],
        "timeliness": [("F1", "F1 重点车辆隐患清零周报", 1.0)],
        "quality": [("F1", "F1 重点车辆隐患清零周报", 0.6), ("F4", "F4 道路交通隐患排查整治台账", 0.4)],
    }
    rank_rows, breakdown = [], []
    previous: dict[tuple[str, str], int] = {}
    bottom = campaign.frame.ranking.bottom_marked
    for month in months:
        for scope, units in scopes.items():
            total = sum(weights[scope].values())
            scored = []
            for unit in units:
                parts, values = {}, {}
                for component, weight in weights[scope].items():
                    points_total = 0.0
                    for item, label, share in items_of[component]:
                        value = round(0.55 + 0.45 * _frac(month, unit, component, item), 4)
                        if month == "2022-05" and unit in ("dean", "pengze") and component != "quality":
                            value = 0.7  # a planted tie on score and tie breakers: 德安县 = 彭泽县
                        max_points = weight * 100.0 / total * share
                        points = max_points * value
                        points_total += points
                        breakdown.append(
                            (
                                month,
                                scope,
                                unit,
                                component,
                                item,
                                names[unit],
                                order[unit],
                                label,
                                value,
                                max_points,
                                points,
                                f"得分{points:.2f}/{max_points:g}",
                            )
                        )
                    parts[component] = points_total
                    values[component] = points_total / (weight * 100.0 / total)
                score = round(sum(parts.values()), 2)
                scored.append((unit, score, parts, values))
            scored.sort(
                key=lambda r: (
                    -r[1],
                    -round(r[3]["attainment"], 6),
                    -round(r[3]["timeliness"], 6),
                    order[r[0]],
                )
            )
            ranks, position, last_key = {}, 0, None
            for i, (unit, score, _p, vals) in enumerate(scored):
                key = (score, round(vals["attainment"], 6), round(vals["timeliness"], 6))
                if i and key == last_key:
                    ranks[unit] = ranks[scored[i - 1][0]]
                else:
                    ranks[unit] = i + 1
                last_key = key
                position = i + 1
            edge = min(ranks[u] for u, *_ in scored[position - bottom :])
            for unit, score, parts, vals in scored:
                prev = previous.get((scope, unit))
                rank = ranks[unit]
                rank_rows.append(
                    (
                        month,
                        scope,
                        unit,
                        names[unit],
                        order[unit],
                        score,
                        vals["attainment"],
                        vals["timeliness"],
                        vals["quality"],
                        parts["attainment"],
                        parts["timeliness"],
                        parts["quality"],
                        rank,
                        len(scored),
                        prev,
                        None if prev is None else prev - rank,
                        rank >= edge,
                        "排名靠后" if rank >= edge else None,
                    )
                )
                previous[(scope, unit)] = rank
    con.execute(
        """
        create table marts.rpt_monthly_ranking (
            month varchar, scope varchar, unit_id varchar, unit_name varchar, unit_sort_order integer,
            score double, attainment double, timeliness double, quality double, attainment_points double,
            timeliness_points double, quality_points double, rank bigint, units_ranked bigint,
            previous_rank bigint, rank_change bigint, is_bottom boolean, mark varchar
        )
        """
    )
    con.executemany(f"insert into marts.rpt_monthly_ranking values ({', '.join('?' * 18)})", rank_rows)
    con.execute(
        """
        create table marts.rpt_ranking_breakdown (
            month varchar, scope varchar, unit_id varchar, component varchar, item varchar, unit_name varchar,
            unit_sort_order integer, item_label varchar, value double, weight double, points double,
            detail varchar
        )
        """
    )
    con.executemany(f"insert into marts.rpt_ranking_breakdown values ({', '.join('?' * 12)})", breakdown)


# --------------------------------------------------------------------------- the units' written documents

# (unit, month) -> (received local time, title, text): the units' own 月度工作小结 that came in
DOCUMENTS = {
    ("xunyang", "2022-05"): (
        dt.datetime(2022, 5, 30, 16, 0),
        "浔阳区5月份道路交通安全专项整治工作小结",
        "浔阳区5月份道路交通安全专项整治工作小结 本月共排查道路交通安全隐患42处，已整改38处；查处酒驾醉驾违法行为57起。",
    ),
    ("gongan", "2022-05"): (
        dt.datetime(2022, 5, 31, 14, 30),
        "市公安局5月份工作小结",
        "市公安局5月份工作小结 本月组织全市统一行动3次，重点车辆检验率明显提升。",
    ),
}


def _documents(con) -> None:
    """marts.fct_document_submissions: every responsible unit and occurrence of ref.oneoffs, with the
    :data:`DOCUMENTS` received (a monthly summary due at noon of the month's last working day)."""
    tz = ZoneInfo("Asia/Shanghai")
    rows = []
    for code, occurrence, unit_id, name, due_at in con.execute(
        "select code, occurrence, unit_id, name, due_at from ref.oneoffs order by 1, 2, 3"
    ).fetchall():
        due = due_at.astimezone(tz)
        got = DOCUMENTS.get((unit_id, occurrence)) if code == "monthly_summary" else None
        received = got[0].replace(tzinfo=tz) if got else None
        late = max(0, -(-int((received - due).total_seconds()) // 60)) if got else None
        rows.append(
            (
                code,
                occurrence,
                unit_id,
                name,
                due,
                f"{due:%Y-%m}",
                got is not None,
                received,
                bool(got and late == 0),
                bool(got and late > 0),
                late,
                1 if got else 0,
                f"D{_h(unit_id, occurrence) % 900000 + 100000}" if got else None,
                "D2" if got else None,
                received,
                got[1] if got else None,
                3 if got else None,
                "docx" if got else None,
                f"{got[1]}.docx" if got else None,
                got[2] if got else None,
            )  # fmt: skip
        )
    con.execute(
        """
        create table marts.fct_document_submissions (
            oneoff_code varchar, occurrence varchar, unit_id varchar, oneoff_name varchar,
            due_at timestamptz, month varchar, received boolean, first_received_at timestamptz,
            on_time boolean, is_late boolean, minutes_late integer, versions bigint, submission_id varchar,
            document_code varchar, last_received_at timestamptz, title varchar, page_count integer,
            file_format varchar, original_name varchar, excerpt varchar
        )
        """
    )
    con.executemany(f"insert into marts.fct_document_submissions values ({', '.join('?' * 20)})", rows)
