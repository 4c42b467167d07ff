"""What every leaders' page is drawn from, read once from the published snapshot: the site's data (statuses,
values, compliance, ranking), the closed month's ranking as issued, the 督办单, and where each figure came
from (the marts' ``source_rows``: ``submission_id:sheet:row``, named by the file's original name)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from dashboards import data as d
from dashboards.duban import read_duban
from dashboards.leaders.issued import IssuedRanking, ranking_as_issued
from roadsafe.wording import cn_date, local

__all__ = ["LeadersData", "Origin", "leaders_data", "origins", "stamp"]

WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class Origin:
    """One file a figure came from and the rows of it that count."""

    submission_id: str
    file: str
    sheet: str
    rows: tuple[int, ...]

    def text(self) -> str:
        rows = "、".join(str(r) for r in self.rows[:12]) + ("等" if len(self.rows) > 12 else "")
        sheet = f"工作表“{self.sheet}”" if self.sheet else ""
        return f"{self.file}（报送编号 {self.submission_id}）{sheet}第{rows}行"


@dataclass(frozen=True)
class LeadersData:
    site: object  # dashboards.site.SiteData (not imported: the site module calls the export)
    issued: IssuedRanking
    duban_week: list[dict]  # issued in the last seven days (the front page)
    duban_all: list[dict]  # issued so far (a unit's open items)
    values_src: pl.DataFrame  # indicator_code, unit_id, period_no, source_rows
    reports: pl.DataFrame  # marts.fct_task_reports, every lead unit's words per period so far
    accepted: pl.DataFrame  # form_code, unit_id, period_no, accepted_submission_id (the file that counts)
    files: dict[str, str]  # submission_id -> the file's original name
    as_of: dt.datetime
    data_time: str  # the last file received, ``2022年7月1日 11:28`` (or the date of as_of)


def stamp(moment: dt.datetime, tz: str) -> str:
    """``2022年7月1日 11:28`` in the campaign's time zone."""
    at = local(moment, tz)
    return f"{cn_date(at)} {at:%H:%M}"


def origins(source_rows: list[str] | None, files: dict[str, str]) -> list[Origin]:
    """``['S000001:Sheet1:4', …]`` grouped by file, in the order first seen."""
    found: dict[str, tuple[str, list[int]]] = {}
    for entry in source_rows or []:
        sid, _, rest = str(entry).partition(":")
        sheet, _, row = rest.rpartition(":")
        if not row.isdigit():
            continue
        found.setdefault(sid, (sheet, []))[1].append(int(row))
    return [
        Origin(sid, files.get(sid, "（文件名缺失）"), sheet, tuple(sorted(rows)))
        for sid, (sheet, rows) in found.items()
    ]


def _frame(con, sql: str, params: list | None = None) -> pl.DataFrame:
    return con.sql(sql, params=params or None).pl()


def leaders_data(con, settings, campaign, site, as_of: dt.datetime) -> LeadersData:
    """Everything the leaders' pages show: ``site`` (the site's data, :func:`dashboards.site.collect_site`)
    and, from the same open snapshot ``con``, the issued ranking, the 督办单 and the figures' sources."""
    issued = ranking_as_issued(settings, con, site.ranking, site.ranking_month)
    duban_all = read_duban(con, campaign.code, as_of)
    n = site.period_no
    values_src = _frame(
        con,
        "select indicator_code, unit_id, period_no, source_rows from marts.fct_indicator_values "
        "where period_no <= ?",
        [n],
    )
    if d.has_table(con, "marts", "fct_task_reports"):
        reports = _frame(
            con,
            "select r.task_no::bigint as task_no, r.unit_id, u.name as unit_name, r.period_no, "
            "r.report_period_no, r.reported_this_period, r.report_status::varchar as report_status, "
            "r.progress::varchar as progress, r.difficulties::varchar as difficulties, r.source_rows "
            "from marts.fct_task_reports r join ref.units u using (unit_id) "
            "where r.period_no <= ? order by r.task_no, u.sort_order, r.period_no",
            [n],
        )
    else:
        reports = pl.DataFrame()
    accepted = _frame(
        con,
        "select form_code, unit_id, period_no, accepted_submission_id::varchar as submission_id "
        "from marts.fct_submission_compliance where period_no <= ?",
        [n],
    )
    files = dict(con.execute("select submission_id, original_name from marts.fct_submissions").fetchall())
    received = site.compliance["received_at"].drop_nulls()
    tz = site.timezone
    return LeadersData(
        site=site,
        issued=issued,
        duban_week=[b for b in duban_all if b["issued_at"] > as_of - WEEK],
        duban_all=duban_all,
        values_src=values_src,
        reports=reports,
        accepted=accepted,
        files=files,
        as_of=as_of,
        data_time=stamp(received.max(), tz) if received.len() else cn_date(local(as_of, tz)),
    )
