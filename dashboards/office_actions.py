"""The office's actions, one way for the portal and the command line: return (退回) an accepted file,
excuse (情况说明) a late or missing one, and keep the enforcement register (督办案件: open, act, close).

Each action is checked against the published snapshot and the campaign, then appended to the office's
record (:class:`roadsafe.office_record.OfficeRecord`: who, when, why). The figures follow at the next
build, which loads the record into ``ref.office_*`` (``roadsafe build`` right after a command-line action;
after a portal action the next build, started by the next arrival or run by the operator, picks it up —
the portal shows such a decision as 待生效 until then). A return is also told to the unit (e-mail and
group robot, exactly once, through :mod:`dashboards.outreach`).

Refusals raise :class:`roadsafe.office_record.OfficeRecordError` with a Chinese message.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dashboards.notices import Message
from roadsafe.office_record import CASE_KINDS, CASE_SOURCES, OfficeRecord, OfficeRecordError, cases
from roadsafe.wording import cn_time

__all__ = [
    "case_action",
    "close_case",
    "deliver_return",
    "excuse_submission",
    "office_view",
    "open_case",
    "return_message",
    "return_submission",
]


def _snapshot_rows(settings, sql: str, params: list) -> list[dict]:
    from roadsafe.warehouse import SnapshotMissing, open_snapshot

    try:
        con = open_snapshot(settings.published)
    except SnapshotMissing as exc:
        raise OfficeRecordError(str(exc)) from exc
    try:
        cur = con.execute(sql, params)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _iso(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("an office action needs an aware time")
    return at.isoformat()


def return_submission(settings, submission_id: str, *, by: str, reason: str, at: dt.datetime) -> dict:
    """Return the current accepted file ``submission_id`` of its (form, unit, period); the recorded entry."""
    campaign = settings.campaign()
    sid = str(submission_id or "").strip().upper()
    found = _snapshot_rows(
        settings,
        "select submission_id, form_code, unit_id, period_no, status, is_current from marts.fct_submissions "
        "where submission_id = ?",
        [sid],
    )
    if not found:
        raise OfficeRecordError(f"找不到回执编号为{sid or '（空）'}的报送。")
    row = found[0]
    if row["status"] != "accepted" or not row["is_current"]:
        raise OfficeRecordError(
            f"回执{sid}不是该报表当前有效的报送（已被更正替代、未通过校验或已退回），只能退回当前有效的文件。"
        )
    return OfficeRecord(settings.home).append(
        "return", campaign=campaign.code, by=by, at=_iso(at), reason=reason, submission_id=sid,
        form_code=row["form_code"], unit_id=row["unit_id"], period_no=row["period_no"],
    )  # fmt: skip


def excuse_submission(
    settings, unit_id: str, form_code: str, period_no: int, *, by: str, reason: str, at: dt.datetime
) -> dict:
    """Record a 情况说明 for a late or missing (form, unit, period); the recorded entry."""
    campaign = settings.campaign()
    found = _snapshot_rows(
        settings,
        "select timeliness from marts.fct_submission_compliance "
        "where unit_id = ? and form_code = ? and period_no = ?",
        [unit_id, form_code, int(period_no)],
    )
    if not found:
        raise OfficeRecordError(f"{_unit(campaign, unit_id)}不需报送第{int(period_no)}周的{form_code}，无需说明。")
    if found[0]["timeliness"] == "按时":
        raise OfficeRecordError(f"{_unit(campaign, unit_id)}第{int(period_no)}周的{form_code}已按时报送，无需说明。")
    return OfficeRecord(settings.home).append(
        "excuse", campaign=campaign.code, by=by, at=_iso(at), reason=reason, form_code=form_code,
        unit_id=unit_id, period_no=int(period_no),
    )  # fmt: skip


def _unit(campaign, unit_id: str) -> str:
    unit = campaign.units.get(unit_id)
    if unit is None:
        raise OfficeRecordError(f"找不到单位“{unit_id}”。")
    return unit.name


def open_case(
    settings, unit_id: str, *, case_kind: str, title: str, by: str, reason: str, at: dt.datetime,
    task_no: int | None = None, source: str = "manual", source_ref: str | None = None,
) -> dict:  # fmt: skip
    """Open a case of the enforcement register against a unit (and a task); the recorded entry."""
    campaign = settings.campaign()
    _unit(campaign, unit_id)
    if task_no not in (None, ""):
        if int(task_no) not in {t.no for t in campaign.tasks}:
            raise OfficeRecordError(f"找不到任务{task_no}（本专项共{len(campaign.tasks)}项任务）。")
    if source == "duban":
        from dashboards.duban import list_duban

        numbers = {d.number for d in list_duban(settings, unit_id)}
        if source_ref not in numbers:
            raise OfficeRecordError(f"该单位没有编号为“{source_ref or ''}”的督办单。")
    if case_kind not in CASE_KINDS or source not in CASE_SOURCES:
        raise OfficeRecordError("督办方式须为：" + "、".join(CASE_KINDS.values()) + "。")
    return OfficeRecord(settings.home).append(
        "case_open", campaign=campaign.code, by=by, at=_iso(at), reason=reason, unit_id=unit_id,
        case_kind=case_kind, task_no=task_no, source=source, source_ref=source_ref, title=title,
    )  # fmt: skip


def case_action(
    settings, case_id: str, *, action: str, on_date, by: str, reason: str, at: dt.datetime
) -> dict:
    """Add a dated action (约谈, 督导检查, 整改反馈…) to an open case; the recorded entry."""
    return OfficeRecord(settings.home).append(
        "case_action", campaign=settings.campaign().code, by=by, at=_iso(at), reason=reason,
        case_id=str(case_id).strip().upper(), action=action, on_date=on_date,
    )  # fmt: skip


def close_case(
    settings, case_id: str, *, evidence: bytes, evidence_name: str, by: str, reason: str, at: dt.datetime
) -> dict:
    """销号: close an open case with its evidence (checked and stored first); the recorded entry."""
    record = OfficeRecord(settings.home)
    code = settings.campaign().code
    case_id = str(case_id).strip().upper()
    known = {c.case_id: c for c in cases(record.entries(code))}
    if case_id not in known:
        raise OfficeRecordError(f"找不到案件{case_id}。")
    if not known[case_id].is_open:
        raise OfficeRecordError(f"案件{case_id}已销号，不能再登记。")
    stored = record.store_evidence(evidence, evidence_name)
    return record.append(
        "case_close", campaign=code, by=by, at=_iso(at), reason=reason, case_id=case_id, evidence=stored
    )


def office_view(settings, unit_id: str | None = None) -> dict:
    """What the portal shows: returns, excuses and cases (of one unit when given), newest first, each
    entry marked ``pending`` until a build has loaded it into the published snapshot."""
    campaign = settings.campaign()
    entries = OfficeRecord(settings.home).entries(campaign.code)
    applied = _applied_ids(settings)

    def mine(e) -> bool:
        return unit_id is None or e.get("unit_id") == unit_id

    tz = ZoneInfo(campaign.frame.timezone)
    decisions = []
    for e in reversed(entries):
        if e["kind"] in ("return", "excuse") and mine(e):
            decisions.append(
                {**e, "unit_name": campaign.units[e["unit_id"]].name if e["unit_id"] in campaign.units else
                 e["unit_id"], "when": cn_time(dt.datetime.fromisoformat(e["at"]), tz),
                 "pending": e["id"] not in applied, "label": campaign.period(e["period_no"]).label}
            )  # fmt: skip
    found = [c for c in cases(entries) if mine({"unit_id": c.unit_id})]
    found.sort(key=lambda c: (not c.is_open, c.case_id))
    return {
        "decisions": decisions,
        "cases": found,
        "open_cases": [c for c in found if c.is_open],
        "when": lambda at: cn_time(dt.datetime.fromisoformat(at), tz),
        "unit_name": lambda uid: campaign.units[uid].name if uid in campaign.units else uid,
    }


def _applied_ids(settings) -> set[str]:
    """The ids of the returns and excuses the published snapshot was built with."""
    from roadsafe.warehouse import SnapshotMissing, open_snapshot

    try:
        con = open_snapshot(settings.published)
    except SnapshotMissing:
        return set()
    try:
        found = {
            t for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'ref' "
                "and table_name in ('office_returns', 'office_excuses')"
            ).fetchall()
        }  # fmt: skip
        ids: set[str] = set()
        if "office_returns" in found:
            ids |= {r for (r,) in con.execute("select return_id from ref.office_returns").fetchall()}
        if "office_excuses" in found:
            ids |= {r for (r,) in con.execute("select excuse_id from ref.office_excuses").fetchall()}
        return ids
    finally:
        con.close()


def return_message(campaign, entry: dict, portal_url: str) -> Message:
    """The notice of a return (退回通知) to the unit."""
    unit = campaign.units[entry["unit_id"]].name
    form = campaign.forms[entry["form_code"]].name if entry["form_code"] in campaign.forms else ""
    label = campaign.period(entry["period_no"]).label
    when = cn_time(dt.datetime.fromisoformat(entry["at"]), ZoneInfo(campaign.frame.timezone))
    subject = f"【退回通知】{entry['form_code']} {form}（{label}）报送文件已退回"
    lines = [
        f"{unit}：",
        f"你单位报送的{entry['form_code']} {form}（{label}，回执编号{entry['submission_id']}）经"
        f"{campaign.frame.name}办公室审核，于{when}退回。",
        f"退回理由：{entry['reason']}",
        "该文件的数据已不计入各项指标，请核实修改后重新报送。",
        f"报送入口：{portal_url}",
    ]
    text = "\n".join(lines) + "\n"
    return Message(subject, text, "### " + subject + "\n\n" + "\n\n".join(lines[1:]))


def deliver_return(settings, entry: dict) -> list[dict]:
    """Tell the unit of a return, exactly once (ledger key ``<campaign>/<unit>/return/<id>``)."""
    from dashboards.outreach import Outgoing, deliver, portal_url, routes_for, smtp_config
    from roadsafe.contacts import load_contacts

    campaign = settings.campaign()
    key = f"{campaign.code}/{entry['unit_id']}/return/{entry['id']}"
    routes = routes_for(load_contacts(settings), entry["unit_id"], "return", (), key, smtp_config())
    item = Outgoing(
        key, campaign.code, entry["unit_id"], "return", return_message(campaign, entry, portal_url()), routes
    )
    return deliver(settings, [item])
