"""Twenty ``roadsafe submit`` processes started at the same moment against one ``$ROADSAFE_HOME``.

DuckDB lets one process at a time open the warehouse for writing. The submissions differ in unit, week
and form, and two files are sent twice at the same moment. Every process must answer with its Chinese
receipt (exit code 0), no lock error may reach the submitter, every file is landed with its receipt on
record, and each is loaded exactly once: one ``raw.submissions`` row per process, the right rows in
``raw.form_*``, and the second copy of identical bytes recorded as a duplicate of the first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus import COUNTY_NAMES, REPO, f1_xlsx, f4_row, f4_xlsx, f5_xlsx, query, settings

ROADSAFE = str(Path(sys.executable).parent / "roadsafe")
FORBIDDEN = ("lock", "Conflicting", "IO Error", "Traceback", "Exception", "duckdb", "占用")

pytestmark = pytest.mark.timeout(240)


def _corpus(folder: Path) -> list[tuple[Path, str, str, int, int]]:
    """(file, unit, form, week, data rows): 18 different files, two of them listed twice."""
    jobs = []
    for week in range(1, 7):  # one unit, one form, six weeks
        path = f1_xlsx(folder / f"公安-F1-第{week}周.xlsx", week=week)
        jobs.append((path, "市公安局", "F1", week, len(COUNTY_NAMES)))
    for i, county in enumerate(COUNTY_NAMES[:11]):  # eleven units, one ledger each, of different lengths
        rows = [f4_row(n, county=county) for n in range(1, 2 + i % 5)]
        path = f4_xlsx(folder / f"{county}-F4-第5周.xlsx", rows, unit=county)
        jobs.append((path, county, "F4", 5, len(rows)))
    f5_rows = [
        ["P-01", "浔阳区", "长虹大道与浔阳路交叉口", "2018年以来死亡2人以上路口", "是", "否", "是", "否", "是",
         "2022-05-08"],
        ["P-02", "濂溪区", "十里大道", "十大事故多发路段", "是", "否", "否", "否", "是", None],
    ]  # fmt: skip
    jobs.append((f5_xlsx(folder / "公路-F5-第6周.xlsx", f5_rows, week=6), "市公路发展中心", "F5", 6, 2))
    return jobs + [jobs[2], jobs[9]]  # sent twice, at the same moment


def test_twenty_submit_processes_at_once(tmp_path):
    s = settings(tmp_path)
    files = tmp_path / "files"
    files.mkdir()
    jobs = _corpus(files)
    assert len(jobs) == 20 and len({j[0] for j in jobs}) == 18
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROADSAFE_")}
    env.update(ROADSAFE_HOME=str(s.home), PYTHONDONTWRITEBYTECODE="1")

    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [ROADSAFE, "submit", str(path), "--unit", unit, "--form", form, "--week", str(week)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for path, unit, form, week, _ in jobs
    ]
    answers = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=150)
            answers.append((proc.returncode, out.strip(), err.strip()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    elapsed = time.monotonic() - started

    for (path, *_), (code, out, err) in zip(jobs, answers, strict=True):
        where = f"{path.name}: exit {code}\n{out}\n{err}"
        assert code == 0, where
        assert err == "", where
        assert not any(word.lower() in (out + err).lower() for word in FORBIDDEN), where
        assert re.search(r"回执编号 S\d{6}。", out), where

    # the answers: each distinct file accepted once; the second copy a duplicate of the first
    by_file: dict[Path, list[str]] = {}
    for (path, *_), (_, out, _) in zip(jobs, answers, strict=True):
        by_file.setdefault(path, []).append(out)
    for path, outs in by_file.items():
        accepted = [o for o in outs if o.startswith("已受理：")]
        assert len(accepted) == 1, (path.name, outs)
        if len(outs) == 2:
            (dup,) = [o for o in outs if o.startswith("重复报送：")]
            first_id = re.search(r"回执编号 (S\d{6})。", accepted[0]).group(1)
            assert f"与已受理的 {first_id} 内容完全相同，未重复导入。" in dup

    # on record: every original landed (content-addressed, identical bytes once) and 20 receipt sidecars
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in (s.landing / "receipts").glob("*.json")]
    assert len(sidecars) == 20 and len({r["receipt_id"] for r in sidecars}) == 20
    originals = [p for p in s.landing.rglob("*") if p.is_file() and p.parent.name != "receipts"]
    assert len(originals) == 18
    for path, *_ in jobs:
        assert any(o.read_bytes() == path.read_bytes() for o in originals), path.name
    assert not list(s.tmp.glob("landing-*.part"))

    # loaded exactly once: one registry row per receipt, rows only for the accepted ones
    rows = query(
        s, "select receipt_id, status, form_code, unit_id, period_no, row_count from raw.submissions"
    )
    assert sorted(r[0] for r in rows) == sorted(r["receipt_id"] for r in sidecars)
    statuses = [r[1] for r in rows]
    assert statuses.count("accepted") == 18 and statuses.count("duplicate") == 2
    ids = query(s, "select submission_id from raw.submissions order by 1")
    assert [i[0] for i in ids] == [f"S{n:06d}" for n in range(1, 21)]
    for form in ("F1", "F4", "F5"):
        want = sum(j[4] for j in jobs[:18] if j[2] == form)
        (got,) = query(s, f"select count(*) from raw.form_{form.lower()}")[0]
        assert got == want, form
        per_submission = query(
            s,
            f"select count(*) from raw.form_{form.lower()} f join raw.submissions s using (submission_id) "
            "where s.status <> 'accepted'",
        )
        assert per_submission == [(0,)]
    assert query(s, "select count(*) from raw.submissions where superseded_by is not null") == [(0,)]
    assert elapsed < 120, f"20 submissions took {elapsed:.1f} s"


def test_a_turn_not_coming_in_time_is_said_in_chinese_and_nothing_is_lost(tmp_path):
    """A writer stuck in its turn (held just before COMMIT): the next submission waits
    ``$ROADSAFE_LOCK_WAIT`` seconds in the queue, then says so in Chinese (exit 3); its file stays landed and
    pending, and the next ingest run loads both."""
    from ingest.service import process_inbox

    s = settings(tmp_path)
    first = f1_xlsx(tmp_path / "第5周.xlsx", week=5)
    second = f1_xlsx(tmp_path / "第6周.xlsx", week=6)
    marker = tmp_path / "holding"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROADSAFE_")}
    env.update(ROADSAFE_HOME=str(s.home), PYTHONDONTWRITEBYTECODE="1")
    stuck = subprocess.Popen(
        [ROADSAFE, "submit", str(first), "--unit", "市公安局"],
        env={**env, "ROADSAFE_INGEST_HOLD": f"before_commit:{marker}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert stuck.poll() is None and time.monotonic() < deadline, "never reached the hold point"
            time.sleep(0.05)
        started = time.monotonic()
        late = subprocess.run(
            [ROADSAFE, "submit", str(second), "--unit", "市公安局"],
            env={**env, "ROADSAFE_LOCK_WAIT": "2"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        waited = time.monotonic() - started
    finally:
        stuck.kill()
        stuck.wait(30)
    assert late.returncode == 3 and late.stdout == "", late.stderr
    assert late.stderr.startswith(f"错误：数据仓库 {s.warehouse} 正被其他程序占用（已等待2秒）")
    assert "文件已留存" in late.stderr and "Traceback" not in late.stderr
    assert waited >= 2
    assert len(list((s.landing / "receipts").glob("*.json"))) == 2  # both on record
    loaded = process_inbox(s)  # the next ingest run: the killed one rolled back, both load now
    assert sorted((r.status, r.period) for r in loaded) == [("accepted", 5), ("accepted", 6)]
    assert query(s, "select count(*) from raw.form_f1") == [(2 * len(COUNTY_NAMES),)]
    assert process_inbox(s) == []
