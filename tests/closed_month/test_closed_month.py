"""A closed month stays closed: after June's 工作排名 is issued, late June files change the live marts, but the
site, the exports and the portal show June as issued, with the later figure marked as such."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from zoneinfo import ZoneInfo

import pytest

from dashboards.closed_months import LATER_NOTE, MARK

pytestmark = pytest.mark.slow

MONTH = "2022-06"  # the closed month (as in conftest.py)
TZ = ZoneInfo("Asia/Shanghai")
AS_OF = dt.datetime(2022, 7, 5, 10, 0, tzinfo=TZ)
NOW = "2022-07-05T10:00:00+08:00"


def _text(html: str) -> str:
    import html as htmllib

    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def test_late_files_changed_the_live_figures(closed):
    """The premise: the late files do change June in the live marts (else this test proves nothing)."""
    assert closed.changed, "no late file changed June's figures"
    assert set(closed.issued) == set(closed.live)


def test_site_shows_june_as_issued(closed):
    from dashboards.site import build_site

    index = build_site(closed.settings, as_of=AS_OF)
    section = _text(index.read_text(encoding="utf-8").split('id="ranking"', 1)[1].split("</section>", 1)[0])
    assert f"按已印发的排名（第{closed.issue_no}期）列示" in section
    for unit in closed.changed:
        name, (score, rank), (later, later_rank) = closed.names[unit], closed.issued[unit], closed.live[unit]
        # the table row: the issued rank, the name marked, the issued score
        assert re.search(rf"\b{rank} {re.escape(name + MARK)} {score:.2f}\b", section), (name, section)
        assert f"{LATER_NOTE}（现为{later:.2f}分、第{later_rank}名）" in section
    for unit, (score, rank) in closed.issued.items():
        if unit not in closed.changed:
            assert re.search(rf"\b{rank} {re.escape(closed.names[unit])} {score:.2f}\b", section), unit
    page = _text((index.parent / "units" / f"{closed.changed[0]}.html").read_text(encoding="utf-8"))
    score, rank = closed.issued[closed.changed[0]]
    later, later_rank = closed.live[closed.changed[0]]
    assert re.search(rf"2022年6月 {score:.2f} {rank}\b.*{LATER_NOTE}（现为{later:.2f}分", page), page


def test_export_gives_june_as_issued(closed):
    from application.exports import RANKING_COLUMNS, export_ranking

    rows = export_ranking(closed.settings, MONTH, "county") + export_ranking(
        closed.settings, MONTH, "department"
    )
    assert rows and list(rows[0]) == RANKING_COLUMNS
    by_name = {r["unit"]: r for r in rows}
    for unit, (score, rank) in closed.issued.items():
        row = by_name[closed.names[unit]]
        assert (row["score"], row["rank"]) == (round(score, 2), rank), unit
        if unit in closed.changed:
            assert row["note"].startswith(LATER_NOTE) and f"{closed.live[unit][0]:.2f}" in row["note"]
        else:
            assert row["note"] == ""


def test_export_command_writes_the_issued_figure(closed):
    """``roadsafe export ranking`` (the operators' CSV) through the real command line."""
    import csv
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("ROADSAFE_")}
    env["ROADSAFE_HOME"] = str(closed.settings.home)
    unit = closed.changed[0]
    scope = "county" if closed.settings.campaign().units[unit].kind == "county" else "department"
    out = subprocess.run(
        [str(Path(sys.executable).parent / "roadsafe"), "export", "ranking", "--month", MONTH, "--scope", scope],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = {r["unit"]: r for r in csv.DictReader(io.StringIO(out.stdout))}
    row = rows[closed.names[unit]]
    assert float(row["score"]) == round(closed.issued[unit][0], 2)
    assert LATER_NOTE in row["note"]


def test_portal_serves_june_as_issued(closed, tmp_path):
    """Over HTTP: the leaders' view in the portal (front page and the unit's page) and June's 工作排名 as the
    office downloads it hold the issued figure, not the later one."""
    import httpx
    import openpyxl
    from portal_helpers import PASSWORDS, add_users, csrf_of, running_portal, text_of

    add_users(closed.settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROADSAFE_", "AIRFLOW"))}
    env.update(
        ROADSAFE_HOME=str(closed.settings.home),
        ROADSAFE_PORTAL_NOW=NOW,
        ROADSAFE_PORTAL_PLAIN_HTTP="1",
        ROADSAFE_PORTAL_SECRET="closed-month-test-secret-" * 3,
    )
    with running_portal(env, tmp_path / "portal.log") as (base, _):
        with httpx.Client(base_url=base, timeout=60) as http:
            token = csrf_of(http.get("/login").text)
            r = http.post(
                "/login", data={"login": "office", "password": PASSWORDS["office"], "csrf_token": token}
            )
            assert r.status_code == 303, r.text
            office = http.get("/office").text
            link = f"/editions/monthly_ranking/{MONTH}/ranking.xlsx"
            assert link in office
            book = http.get(link)
            assert book.status_code == 200
            unit = closed.changed[0]
            leaders = {
                path: text_of(http.get(path).text) for path in ("/leaders/", f"/leaders/units/{unit}.html")
            }
    (score, _), (later, _) = closed.issued[unit], closed.live[unit]
    for path, page in leaders.items():  # the leaders' view in the portal: June as issued
        assert f"{score:.2f}" in page and f"{later:.2f}" not in page, path
    wb = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
    unit = closed.changed[0]
    name, score, later = closed.names[unit], closed.issued[unit][0], closed.live[unit][0]
    rows = [
        [c for c in row if c is not None]
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        if name in [str(c).rstrip(MARK) for c in row if c is not None]
    ]
    assert rows, f"{name} not in the edition's workbook"
    numbers = {round(float(c), 2) for row in rows for c in row if isinstance(c, int | float)}
    texts = {str(c) for row in rows for c in row}
    assert round(score, 2) in numbers or f"{score:.2f}" in texts
    assert round(later, 2) not in numbers and f"{later:.2f}" not in texts


def test_a_correction_edition_becomes_the_month_of_record(closed):
    """Last (it issues a 更正): once the office corrects June's ranking, June's figures everywhere are the
    correction's, and nothing is marked as changed since."""
    from application.exports import export_ranking
    from dashboards.correction import correct
    from dashboards.site import build_site

    correction, _ = correct(
        closed.settings,
        "monthly_ranking",
        MONTH,
        who="office",
        reason="瑞昌市等单位补报了6月数据",
        deliver=False,
    )
    assert correction.changes
    rows = export_ranking(closed.settings, MONTH, "county") + export_ranking(
        closed.settings, MONTH, "department"
    )
    by_name = {r["unit"]: r for r in rows}
    for unit in closed.changed:
        assert by_name[closed.names[unit]]["score"] == round(closed.live[unit][0], 2)
    assert all(r["note"] == "" for r in rows)
    index = build_site(closed.settings, as_of=AS_OF)
    section = _text(index.read_text(encoding="utf-8").split('id="ranking"', 1)[1].split("</section>", 1)[0])
    assert f"按已印发的排名（第{closed.issue_no}期）及其第1次更正列示" in section
    assert LATER_NOTE not in section
