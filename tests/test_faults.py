"""Processes killed with SIGKILL where ingest's own crash tests do not reach (``tests/ingest/test_crash.py``
kills the load and stops it after landing; ``tests/ingest/test_landing.py`` fills the disk while landing):

- a real ``roadsafe build`` while dbt is replacing the marts: the published snapshot is still the old one
  and opens, the warehouse opens with every table whole, and running the build again publishes;
- a real ``roadsafe report weekly`` while it renders: no half-written HTML, PDF or XLSX is ever under
  ``reports/``, an edition is shown (site, delivery) only once complete, and running it again finishes it;
- a real ``roadsafe submit`` while it copies a big file into the landing zone: nothing at a content address
  but whole files, nothing on record, and submitting again lands it.

The data: a few official forms sent by 市公安局 and 浔阳区 in weeks 1 and 2, loaded by the real service.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent / "ingest"))

from corpus import at, f1_rows, f1_xlsx, f4_row, f4_xlsx  # noqa: E402

from application.build import run_build  # noqa: E402
from dashboards.editions import list_editions, open_edition  # noqa: E402
from ingest.landing import clean_stale_tmp, read_receipts  # noqa: E402
from ingest.service import submit  # noqa: E402
from roadsafe.settings import Settings  # noqa: E402

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
MART_DONE = "OK created sql table model marts."  # dbt's log line once a mart has been swapped in
OUTPUTS = (".html", ".pdf", ".xlsx", ".txt")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def start(home: Path, *args: str) -> subprocess.Popen:
    """``roadsafe`` in its own process group (so dbt, its child, goes with it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "application.cli", "--home", str(home), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "application.cli", "--home", str(home), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


def kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> None:
    """SIGKILL the process group as soon as ``ready()``; fails if the process ended before."""
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"ended before the kill point (exit {proc.returncode}): {out}{err}")
            assert time.monotonic() < deadline, "the kill point never came"
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while True:  # every process of the group (dbt too) is gone
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "a child of the killed process lives on"
        time.sleep(0.05)


def table_counts(path: Path, schemas: tuple[str, ...], read_only: bool = True) -> dict[str, int]:
    """Row count of every table in ``schemas`` (every table is read to the end)."""
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in "
            f"({', '.join(repr(s) for s in schemas)}) order by 1, 2"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from {s}."{t}"').fetchall()[0][0] for s, t in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Settings:
    """Week 1 and 2 forms of 市公安局 (F1) and 浔阳区 (F4), loaded and built once (a real dbt build)."""
    settings = Settings(home=tmp_path_factory.mktemp("faults") / "home").ensure()
    files = tmp_path_factory.mktemp("files")
    sent = [
        (f1_xlsx(files / "重点车辆隐患清零周报（第1周）.xlsx", week=1), "市公安局", at(2022, 4, 14, 9)),
        (
            f1_xlsx(files / "重点车辆周报（第2周）.xlsx", week=2, rows=f1_rows(bump=3)),
            "市公安局",
            at(2022, 4, 21, 9),
        ),
        (
            f4_xlsx(
                files / "隐患台账（第1周）.xlsx",
                [f4_row(i, found="2022-04-08", fixed="2022-04-12") for i in range(1, 9)],
                week=1,
            ),
            "浔阳区",
            at(2022, 4, 14, 11),
        ),
    ]
    for path, unit, received in sent:
        assert submit(settings, path, unit=unit, received_at=received).status == "accepted"
    result = run_build(settings)
    assert result.ok, "\n".join([result.message, *result.failures])
    return settings


def test_a_build_killed_while_dbt_runs_leaves_the_old_snapshot_and_a_whole_warehouse(home):
    published = home.published
    old_sha, old_inode = sha256(published), published.stat().st_ino
    marts = table_counts(published, ("marts",))
    assert len(marts) >= 9 and marts["marts.fct_submissions"] == 3
    raw = table_counts(home.warehouse, ("raw",), read_only=False)
    log = home.logs / "dbt" / "dbt.log"
    offset = log.stat().st_size

    def a_mart_was_replaced() -> bool:  # what dbt logged since this build started (the log may rotate)
        with open(log, "rb") as fh:
            fh.seek(offset if os.fstat(fh.fileno()).st_size >= offset else 0)
            return MART_DONE.encode() in fh.read()

    proc = start(home.home, "build")
    kill_when(proc, a_mart_was_replaced)

    # readers: the very same snapshot file, and it still opens with every mart
    assert sha256(published) == old_sha and published.stat().st_ino == old_inode
    assert table_counts(published, ("marts",)) == marts
    assert sorted(p.name for p in published.parent.iterdir()) == ["warehouse.duckdb"]
    # the warehouse opens (DuckDB replays its log), every table reads to the end, the raw data is as it
    # was and every mart is there, old or new, never half swapped
    after = table_counts(home.warehouse, ("raw", "ref", "staging", "intermediate", "marts"), read_only=False)
    assert {k: v for k, v in after.items() if k.startswith("raw.")} == raw
    assert {k for k in after if k.startswith("marts.") and "__dbt_" not in k} == set(marts)

    # a publish killed half way leaves its temp copy behind: the next build clears it
    gone = subprocess.Popen(["true"])
    gone.wait()
    (published.parent / f".warehouse.duckdb.{gone.pid}.tmp").write_bytes(b"DUCK" * 1000)

    again = run(home.home, "build")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"已发布快照 {published}" in again.stdout
    assert published.stat().st_ino != old_inode  # a new snapshot was put in place
    assert table_counts(published, ("marts",)) == marts  # the same data gives the same figures
    assert sorted(p.name for p in published.parent.iterdir()) == ["warehouse.duckdb"]
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        leftovers = con.execute(
            "select table_name from duckdb_tables() where table_name like '%__dbt_%' escape '!'"
        ).fetchall()
    finally:
        con.close()
    assert leftovers == []


def whole(path: Path) -> bool:
    """Whether a rendered file is complete (parsed to its end)."""
    if path.suffix == ".html":
        return path.read_text(encoding="utf-8").rstrip().endswith("</html>")
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return path.read_bytes().rstrip().endswith(b"%%EOF") and len(PdfReader(path).pages) >= 1
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return z.testzip() is None and "xl/workbook.xml" in z.namelist()
    return path.stat().st_size > 0


def rendered_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix in OUTPUTS]


def check_what_readers_see(settings: Settings) -> dict[str, bool]:
    """Every report file a reader could open is whole; an edition counts as rendered only with all three
    whole and listed in its manifest; delivery refuses one that is not. Returns {kind: rendered}."""
    from dashboards.delivery import build_message

    visible = [
        p
        for p in rendered_files(settings.reports)
        if not any(x.startswith(".") for x in p.relative_to(settings.reports).parts)
    ]
    assert visible  # (something to check)
    assert all(whole(p) for p in visible), [p for p in visible if not whole(p)]
    out = {}
    for edition in list_editions(settings):
        out[edition.meta.kind] = edition.is_rendered()
        if edition.is_rendered():
            listed = json.loads((edition.folder / "manifest.json").read_text(encoding="utf-8"))["files"]
            for path in edition.outputs().values():
                assert listed[path.name]["sha256"] == sha256(path)
        else:
            with pytest.raises(FileNotFoundError, match="期次尚未生成完整"):
                build_message(edition, ["office@example.cn"], "roadsafe@example.cn")
    return out


def test_a_report_killed_while_rendering_shows_no_half_edition(home):
    args = ("report", "weekly", "--week", "1", "--frozen-at", "2022-04-18T17:00:00+08:00")
    bulletin = home.reports / "weekly_bulletin"
    dispatch = home.reports / "dispatch_list"

    # 1. killed while the dispatch list is being rendered (its first file has just been written), the
    #    bulletin of the same week done: one whole edition next to a half-made one
    kill_when(start(home.home, *args), lambda: bool(rendered_files(dispatch)))
    assert check_what_readers_see(home) == {"weekly_bulletin": True, "dispatch_list": False}
    assert (dispatch / "week-01" / "snapshot.duckdb").is_file()  # frozen; rendering is what was cut
    bulletin_files = {p.name: sha256(p) for p in (bulletin / "week-01").iterdir()}

    # 2. run again: both complete, nothing half-made left anywhere under reports/
    done = run(home.home, *args)
    assert done.returncode == 0, done.stderr
    assert check_what_readers_see(home) == {"weekly_bulletin": True, "dispatch_list": True}
    assert [p for p in home.reports.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"] == []
    for folder in (bulletin / "week-01", dispatch / "week-01"):
        edition = open_edition(folder)
        assert all(whole(p) for p in edition.outputs().values())
        assert f"{edition.outputs()['pdf']}" in done.stdout
    assert {p.name: sha256(p) for p in (bulletin / "week-01").iterdir()} == bulletin_files  # left as it was


def test_a_submit_killed_while_landing_a_big_file_leaves_no_half_file(tmp_path):
    settings = Settings(home=tmp_path / "home").ensure()
    src = tmp_path / "全年隐患台账.xlsx"
    with open(src, "wb") as fh:
        for _ in range(20):
            fh.write(os.urandom(8 << 20))  # 160 MiB
    size, digest = src.stat().st_size, sha256(src)
    submit_args = ("submit", str(src), "--unit", "市公安局", "--week", "1")

    proc = start(settings.home, *submit_args)
    kill_when(proc, lambda: any(settings.tmp.glob("landing-*.part")))

    addressed = [p for p in settings.landing.glob("??/*") if p.is_file()]
    assert all(p.stem == sha256(p) and p.stat().st_size == size for p in addressed)  # whole or absent
    assert read_receipts(settings) == []  # nothing on record
    (part,) = settings.tmp.glob("landing-*.part")
    assert part.name.startswith(f"landing-{proc.pid}-") and part.stat().st_size <= size

    again = run(settings.home, *submit_args)
    assert again.returncode in (0, 1), again.stderr  # landed and answered (accepted or rejected)
    assert "回执编号" in again.stdout
    landed = settings.landing / digest[:2] / f"{digest}.xlsx"
    assert landed.stat().st_size == size and sha256(landed) == digest
    assert [(r.sha256, r.size) for r in read_receipts(settings)] == [(digest, size)]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert con.execute("select file_sha256, size_bytes from raw.submissions").fetchall() == [
            (digest, size)
        ]
    finally:
        con.close()
    assert clean_stale_tmp(settings, older_than=0) == 1  # only the killed copy was left
    assert list(settings.tmp.iterdir()) == []
