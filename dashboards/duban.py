"""督办单: the formal one-page document the office issues to a unit late or missing twice or more.

:func:`issue_duban` reads the unit's late and missing expected submissions from the published snapshot,
numbers the document (``督办〔2022〕第3号``: one sequence per campaign and year, taken by creating its
folder, so two offices clicking at once get two numbers), and writes ``reports/duban/<NNN>/duban.html``,
``duban.pdf`` (A4, WeasyPrint) and ``duban.json``. The deadline to remedy is ``days`` working days after
the issue date (working-day calendar). :func:`list_duban` lists the issued ones (the unit's portal page); each is also
recorded in the warehouse (``ops.duban``), so an edition frozen afterwards lists it (:func:`read_duban`, for
the bulletin and the ranking); :func:`duban_message` words the delivery, the PDF attached.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from dashboards.notices import Message
from roadsafe.wording import cn_date, cn_time

__all__ = [
    "duban_candidates",
    "Duban",
    "DubanRefused",
    "duban_items",
    "duban_message",
    "issue_duban",
    "list_duban",
    "read_duban",
]


DUBAN_DDL = """
create schema if not exists ops;
create table if not exists ops.duban (
    no            integer not null,
    number        varchar not null,
    campaign_code varchar not null,
    unit_id       varchar not null,
    unit_name     varchar not null,
    issued_at     timestamptz not null,
    deadline      date not null,
    late          integer not null,
    missing       integer not null
)
"""


class DubanRefused(ValueError):
    """The 督办单 cannot be issued; the text is Chinese."""


@dataclass(frozen=True)
class Duban:
    no: int
    number: str  # 督办〔2022〕第3号
    campaign_code: str
    unit_id: str
    unit_name: str
    issued_at: str  # ISO
    deadline: str  # ISO date
    late: int
    missing: int
    items: tuple[dict, ...]
    folder: str

    @property
    def pdf(self) -> Path:
        return Path(self.folder) / "duban.pdf"


def _has_compliance(con) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where schema_name = 'marts' and table_name = 'fct_submission_compliance'"
        ).fetchall()
    )


def duban_candidates(con, campaign, end: dt.datetime, times: int = 2) -> list[dict]:
    """Units with ``times`` or more expected submissions that were late or are still missing at ``end``
    (督办 candidates): ``unit_id``, ``unit_name``, ``late``, ``missing``. Read from
    ``marts.fct_submission_compliance`` (none before the first build)."""
    if not _has_compliance(con):
        return []
    rows = con.execute(
        """
        select unit_id,
               count(*) filter (where first_received_at > due_at and first_received_at <= $end) as n_late,
               count(*) filter (where first_received_at is null or first_received_at > $end) as n_missing
        from marts.fct_submission_compliance
        where due_at < $end
        group by unit_id
        having count(*) filter (where first_received_at is null or first_received_at > due_at) >= $times
        order by n_missing + n_late desc, unit_id
        """,
        {"end": end, "times": times},
    ).fetchall()
    units = campaign.units
    return [
        {"unit_id": u, "unit_name": units[u].name if u in units else u, "late": late, "missing": missing}
        for u, late, missing in rows
    ]


def duban_items(con, campaign, unit_id: str, as_of: dt.datetime) -> list[dict]:
    """The unit's expected submissions due before ``as_of`` that were late or are still missing."""
    if not _has_compliance(con):
        return []
    rows = con.execute(
        """
        select form_code, period_no, due_at,
               case when first_received_at <= $as_of then first_received_at end as first_ok
        from marts.fct_submission_compliance
        where unit_id = $unit and due_at < $as_of and (first_received_at is null or first_received_at > due_at)
        order by due_at, form_code
        """,
        {"unit": unit_id, "as_of": as_of},
    ).fetchall()
    tz = as_of.tzinfo
    out = []
    for form_code, period_no, due_at, first_ok in rows:
        form = campaign.forms[form_code].name if form_code in campaign.forms else form_code
        state = f"逾期报送（{cn_time(first_ok, tz)}）" if first_ok else "至今未报"
        out.append(
            {
                "form": f"《{form}》",
                "period": campaign.period(period_no).label,
                "due": cn_time(due_at, tz),
                "state": state,
                "missing": first_ok is None,
            }
        )
    return out


def _folder(root: Path) -> tuple[int, Path]:
    """The next number and its folder, taken atomically (``mkdir`` fails when another process took it)."""
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()]
    no = max(taken, default=0) + 1
    while True:
        folder = root / f"{no:03d}"
        try:
            folder.mkdir()
            return no, folder
        except FileExistsError:
            no += 1


def issue_duban(settings, unit_id: str, *, issued_at: dt.datetime, days: int = 5, calendar=None) -> Duban:
    """Write a numbered 督办单 for ``unit_id`` (see the module text); :class:`DubanRefused` for an unknown
    unit or one with nothing late or missing."""
    from dashboards.rendering import render_template, write_html, write_pdf
    from roadsafe.warehouse import open_snapshot
    from roadsafe.workcalendar import WorkCalendar

    campaign = settings.campaign()
    unit = campaign.units.get(unit_id) or campaign.resolve_unit(unit_id)
    if unit is None or unit.kind not in ("county", "department"):
        raise DubanRefused(f"“{unit_id}”不是本活动的报送单位。")
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    con = open_snapshot(settings.published)
    try:
        items = duban_items(con, campaign, unit.id, issued_at)
    finally:
        con.close()
    if not items:
        raise DubanRefused(f"{unit.name}没有逾期或缺报的报表，无需督办。")
    calendar = calendar or WorkCalendar.load()
    day, left = issued_at.date(), days
    while left:
        day += dt.timedelta(days=1)
        left -= calendar.is_working_day(day)
    no, folder = _folder(settings.reports / "duban")
    number = f"督办〔{issued_at.year}〕第{no}号"
    missing = sum(1 for i in items if i["missing"])
    frame = campaign.frame
    html = render_template(
        "duban.html.j2",
        number=number,
        office=frame.office,
        office_short=frame.office_short,
        campaign_name=frame.name,
        document=frame.document,
        unit_name=unit.name,
        issued_text=cn_date(issued_at),
        as_of_text=cn_time(issued_at),
        deadline_text=cn_date(day),
        late=len(items) - missing,
        missing=missing,
        items=items,
    )
    write_html(html, folder / "duban.html")
    write_pdf(html, folder / "duban.pdf")
    duban = Duban(
        no=no,
        number=number,
        campaign_code=campaign.code,
        unit_id=unit.id,
        unit_name=unit.name,
        issued_at=issued_at.isoformat(),
        deadline=day.isoformat(),
        late=len(items) - missing,
        missing=missing,
        items=tuple(items),
        folder=str(folder),
    )
    tmp = folder / ".duban.json.tmp"
    tmp.write_text(json.dumps(asdict(duban), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, folder / "duban.json")
    _record(settings, duban)
    return duban


def _record(settings, duban: Duban) -> None:
    from roadsafe.warehouse import connect, writer_turn

    with writer_turn(settings) as deadline:
        con = connect(settings, deadline=deadline)
        try:
            con.execute(DUBAN_DDL)
            con.execute(
                "insert into ops.duban values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [duban.no, duban.number, duban.campaign_code, duban.unit_id, duban.unit_name,
                 dt.datetime.fromisoformat(duban.issued_at), dt.date.fromisoformat(duban.deadline),
                 duban.late, duban.missing],
            )  # fmt: skip
        finally:
            con.close()


def read_duban(con, campaign_code: str, until: dt.datetime, since: dt.datetime | None = None) -> list[dict]:
    """The 督办单 issued in ``(since, until]`` according to a (frozen) snapshot: ``number``, ``unit_name``,
    ``issued_at``, ``deadline``, ``late``, ``missing``; empty when none was ever issued."""
    if not con.execute(
        "select 1 from duckdb_tables() where schema_name = 'ops' and table_name = 'duban'"
    ).fetchall():
        return []
    cur = con.execute(
        "select number, unit_name, issued_at, deadline, late, missing from ops.duban "
        "where campaign_code = ? and issued_at <= ? and (? is null or issued_at > ?) order by no",
        [campaign_code, until, since, since],
    )
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def list_duban(settings, unit_id: str | None = None) -> list[Duban]:
    """The 督办单 issued (of one unit when given), by number."""
    root = settings.reports / "duban"
    out = []
    for meta in sorted(root.glob("*/duban.json")) if root.is_dir() else []:
        data = json.loads(meta.read_text(encoding="utf-8"))
        data["items"] = tuple(data["items"])
        duban = Duban(**data)
        if unit_id is None or duban.unit_id == unit_id:
            out.append(duban)
    return out


def duban_message(campaign, duban: Duban, portal_url: str) -> Message:
    """The delivery of a 督办单: a short covering text, the PDF attached."""
    office = campaign.frame.office
    deadline = cn_date(dt.date.fromisoformat(duban.deadline))
    subject = f"【督办单】{duban.number} {duban.unit_name}"
    summary = f"逾期报送{duban.late}份、至今未报{duban.missing}份"
    text = (
        f"{duban.unit_name}：\n\n现将{duban.number}督办单印发给你单位（见附件 PDF）。贵单位{summary}，"
        f"请于{deadline}前补报全部未报报表，并书面说明逾期原因和整改措施。\n报送地址：{portal_url}\n\n——{office}\n"
    )
    markdown = f"### 督办单 {duban.number}\n> {duban.unit_name}：{summary}\n\n请于**{deadline}**前整改到位。\n\n——{office}"
    return Message(subject, text, markdown, attachments=((f"{duban.number}.pdf", duban.pdf.read_bytes()),))
