"""Twenty logged-in browsers posting to a real ``roadsafe portal`` process at the same moment.

Units, weeks and accounts differ (three units log in themselves, the office sends for seven counties);
two browsers of 市公安局 send the very same file at the same moment, and 浔阳区 sends again the file that
is already published. Every upload is answered at once on the page (HTTP 200, the Chinese receipt, no
lock or internal error), every file is landed with its receipt, and the ingest runs — one started at the
same moment as the uploads and one afterwards, as Airflow's ``roadsafe_ingest`` would be — load each
upload exactly once with the answer the page gave.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from portal_helpers import (
    NOW,
    PASSWORDS,
    FakeAirflow,
    copy_home,
    csrf_of,
    fill_f1,
    receipts,
    running_portal,
    text_of,
)

FORBIDDEN = ("lock", "Conflicting", "IO Error", "Traceback", "Exception", "duckdb", "系统内部错误")
INGEST = "from application.airflow.tasks import ingest_pending; import json; print(json.dumps(ingest_pending()))"

pytestmark = pytest.mark.timeout(240)


def _rows(path: Path) -> int:
    """The data rows of a filled F1 (the county rows holding figures)."""
    ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    return sum(1 for row in ws.iter_rows(values_only=True) if len(row) > 1 and isinstance(row[1], int))


def _jobs(settings, folder: Path) -> list[dict]:
    """Twenty uploads: (login, unit field, file, expected answer)."""
    from ingest.templates import write_template

    campaign = settings.campaign()

    def f1(unit_id: str, week: int) -> Path:
        tpl = write_template(campaign, "F1", unit_id, week, folder / f"tpl-{unit_id}-{week}.xlsx")
        return fill_f1(tpl, folder / f"F1-{unit_id}-第{week}周.xlsx", week)

    jobs = [{"login": "gongan", "unit": None, "path": f1("gongan", w)} for w in (1, 2, 3, 5, 7, 8)]
    same = f1("gongan", 6)
    jobs += [{"login": "gongan", "unit": None, "path": same, "pair": True} for _ in range(2)]
    jobs += [{"login": "xunyang", "unit": None, "path": f1("xunyang", w)} for w in (1, 2, 3, 5)]
    published = next(r for r in receipts(settings, channel=None) if r["unit_id"] == "xunyang")
    again = folder / "浔阳区-F1-第4周-再次报送.xlsx"
    again.write_bytes((settings.home / published["stored_path"]).read_bytes())
    jobs.append({"login": "xunyang", "unit": None, "path": again, "published": True})
    counties = [u.id for u in campaign.counties if u.id != "xunyang"][:7]
    jobs += [{"login": "office", "unit": c, "path": f1(c, 1)} for c in counties]  # nothing before week 1
    assert len(jobs) == 20
    return jobs


class _Browser:
    """One logged-in browser (its own cookie jar) on the portal."""

    def __init__(self, base: str, login: str):
        import httpx

        self.http = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
        page = self.http.get("/login")
        answer = self.http.post(
            "/login",
            data={"login": login, "password": PASSWORDS[login], "csrf_token": csrf_of(page.text)},
        )
        assert answer.status_code == 303, answer.text
        self.csrf = csrf_of(self.http.get("/upload").text)

    def upload(self, path: Path, unit: str | None):
        fields = {"csrf_token": self.csrf, "form": "auto", "week": "auto"}
        if unit:
            fields["unit"] = unit
        files = {"file": (path.name, path.read_bytes(), "application/octet-stream")}
        return self.http.post("/upload", data=fields, files=files)


@pytest.fixture
def portal(seeded, tmp_path):
    """A running ``roadsafe portal`` (its own home, a fake Airflow): (base URL, settings, env, airflow)."""
    settings = copy_home(seeded, tmp_path / "home")
    with FakeAirflow(username="roadsafe_portal", password="af-secret") as airflow:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ROADSAFE_", "AIRFLOW"))}
        env.update(
            ROADSAFE_HOME=str(settings.home),
            ROADSAFE_PORTAL_NOW=NOW,
            ROADSAFE_PORTAL_PLAIN_HTTP="1",
            ROADSAFE_PORTAL_UPLOADS_PER_USER="10",
            ROADSAFE_PORTAL_UPLOADS_TOTAL="20",
            ROADSAFE_PORTAL_SECRET="concurrency-test-secret-" * 2,
            ROADSAFE_AIRFLOW_URL=airflow.url,
            ROADSAFE_AIRFLOW_USER="roadsafe_portal",
            ROADSAFE_AIRFLOW_PASSWORD="af-secret",
            PYTHONDONTWRITEBYTECODE="1",
        )
        log = tmp_path / "portal.log"
        with running_portal(env, log) as (base, _):
            yield {"base": base, "settings": settings, "env": env, "airflow": airflow, "log": log}


def _recorded(settings, sidecars: list[dict], path: Path) -> dict:
    """The one receipt whose landed copy holds the bytes of ``path``."""
    (found,) = [r for r in sidecars if (settings.home / r["stored_path"]).read_bytes() == path.read_bytes()]
    return found


def _ingest(env) -> subprocess.Popen:
    """What Airflow's ``roadsafe_ingest`` task runs, as its own process."""
    return subprocess.Popen(
        [sys.executable, "-c", INGEST], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_twenty_uploads_at_once(portal, tmp_path):
    import duckdb

    from ingest.service import process_inbox

    settings, env = portal["settings"], portal["env"]
    files = tmp_path / "files"
    files.mkdir()
    jobs = _jobs(settings, files)
    with ThreadPoolExecutor(4) as pool:  # twenty logged-in browsers
        browsers = list(pool.map(lambda job: _Browser(portal["base"], job["login"]), jobs))
    before = {r["receipt_id"] for r in receipts(settings, channel=None)}

    barrier = threading.Barrier(len(jobs) + 1)
    answers: list = [None] * len(jobs)

    def go(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            answers[i] = browsers[i].upload(jobs[i]["path"], jobs[i]["unit"])
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            answers[i] = exc

    threads = [threading.Thread(target=go, args=(i,), daemon=True) for i in range(len(jobs))]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    started = time.monotonic()
    running = _ingest(env)  # an ingest run at the same moment as the uploads
    for t in threads:
        t.join(timeout=150)
    elapsed = time.monotonic() - started
    try:
        out, err = running.communicate(timeout=120)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait(10)
    for b in browsers:
        b.http.close()
    assert running.returncode == 0 and not err.strip(), err

    # every page: 200, the Chinese answer with its receipt number, nothing internal
    numbers = []
    for job, resp in zip(jobs, answers, strict=True):
        assert not isinstance(resp, Exception) and resp is not None, (job["path"].name, resp)
        text = text_of(resp.text)
        where = f"{job['path'].name}: HTTP {resp.status_code}\n{text[:600]}"
        assert resp.status_code == 200, where
        assert not any(word.lower() in text.lower() for word in FORBIDDEN), where
        number = re.search(r"回执编号 (R[0-9a-f]{8})", text)
        assert number, where
        numbers.append(number.group(1))
        if job.get("published"):
            assert "重复报送" in text and "内容完全相同，未重复导入" in text, where
        elif job.get("pair"):
            assert "已受理" in text, where
        else:
            assert "已受理：" in text and "共" in text, where
    pair = [n for job, n in zip(jobs, numbers, strict=True) if job.get("pair")]
    assert pair[0] == pair[1], "the same file sent twice at the same moment got two receipts"
    assert sum("无需重复上传" in text_of(r.text) for r in answers) == 1

    # on record: 19 new receipts (the pair once), every original in the landing zone
    new = [r for r in receipts(settings, channel=None) if r["receipt_id"] not in before]
    assert len(new) == 19 and {r["channel"] for r in new} == {"portal"}
    assert {"R" + r["receipt_id"].rsplit("-", 1)[-1] for r in new} == set(numbers)
    recorded = {job["path"]: _recorded(settings, new, job["path"]) for job in jobs}  # one each
    assert len(portal["airflow"].events) == 19  # one asset event per recorded upload

    # a second ingest run loads what the first did not see; a third finds nothing left
    first_run = json.loads(out.strip().splitlines()[-1])["receipts"]
    done = _ingest(env)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0 and not err.strip(), err
    assert first_run + json.loads(out.strip().splitlines()[-1])["receipts"] == 19
    assert process_inbox(settings) == []

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute(
            "select receipt_id, status, unit_id, row_count, submission_id from raw.submissions "
            "where channel = 'portal'"
        ).fetchall()
        f1_rows = dict(
            con.execute(
                "select s.receipt_id, count(f.submission_id) from raw.submissions s "
                "left join raw.form_f1 f using (submission_id) where s.channel = 'portal' group by 1"
            ).fetchall()
        )
    finally:
        con.close()
    assert sorted(r[0] for r in rows) == sorted(r["receipt_id"] for r in new)  # each loaded exactly once
    by_receipt = {r[0]: r for r in rows}
    for job in jobs:
        receipt_id, status, unit_id, row_count, _ = by_receipt[recorded[job["path"]]["receipt_id"]]
        want = "duplicate" if job.get("published") else "accepted"
        assert status == want, (job["path"].name, status)
        assert unit_id == (job["unit"] or job["login"])
        expected_rows = 0 if job.get("published") else _rows(job["path"])
        assert row_count == expected_rows and f1_rows[receipt_id] == expected_rows, job["path"].name
    log = portal["log"].read_text(encoding="utf-8")
    assert "Traceback" not in log and " 500 " not in log
    assert elapsed < 90, f"20 uploads took {elapsed:.1f} s"
