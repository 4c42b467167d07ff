"""Backup, restore and the rebuild of every figure from the landing zone alone, on the real sample
campaign: its first week imported with the original receive times (93 files from every unit and form,
xlsx, xls and GBK CSV, some late), a real ``roadsafe build`` (dbt), week 1's bulletin frozen and rendered, a
portal account. Every command runs as a real
``roadsafe`` process; the kill is a real SIGKILL; the full disk is a real file size limit."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import duckdb
import pytest

from application.backup import MANIFEST_NAME, compare_warehouses
from application.build import run_build
from application.samples import generate_samples
from dashboards.editions import freeze, list_editions, render_edition
from ingest.history import replay_manifest
from ingest.landing import land_bytes
from roadsafe.settings import Settings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
UNTIL = dt.datetime.fromisoformat("2022-04-17T18:00:00+08:00")  # the files of week 1
FROZEN_AT = dt.datetime.fromisoformat("2022-04-18T17:00:00+08:00")


def roadsafe(home: Path, *args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "application.cli", "--home", str(home), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(root: Path) -> dict[str, str]:
    """relative path → sha256 of every file under ``root``."""
    return {p.relative_to(root).as_posix(): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def one(con, sql: str, params=()):
    return con.execute(sql, list(params)).fetchall()[0][0]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("source") / "home").ensure()
    samples = settings.samples / settings.campaign_code
    generate_samples(settings.campaign_code, samples, seed=2022)
    receipts = replay_manifest(settings, samples, until=UNTIL)
    assert len(receipts) > 80 and "accepted" in {r.status for r in receipts}
    result = run_build(settings)
    assert result.ok, "\n".join([result.message, *result.failures])
    render_edition(freeze(settings, "weekly_bulletin", 1, frozen_at=FROZEN_AT))
    from argon2 import PasswordHasher

    from portal.store import Store

    Store(settings.home / "portal" / "users.sqlite3").add_user(
        "xunyang01", "xunyang", "unit", PasswordHasher().hash("九江浔阳2022")
    )
    (settings.home / "portal" / "secret").write_text("s" * 48, encoding="ascii")
    from roadsafe.contacts import Contact, save_contacts

    save_contacts(settings, {"xunyang": Contact("xunyang", "浔阳区", "王丽", None, "wangli@example.org")})
    return settings


@pytest.fixture(scope="module")
def archive(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("backups")
    started = time.monotonic()
    proc = roadsafe(source.home, "backup", f"{out}/")
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("*.tar.gz")
    assert proc.stdout.startswith(f"备份完成：{path}\n")
    print(f"backup: {seconds:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
    return path


def read_archive(path: Path) -> tuple[dict, dict[str, bytes]]:
    members = {}
    with tarfile.open(path, "r:gz") as tar:
        names = tar.getnames()
        for member in tar.getmembers():
            members[member.name] = tar.extractfile(member).read()
    assert names[-1] == MANIFEST_NAME  # written last: a cut archive has none
    return json.loads(members.pop(MANIFEST_NAME)), members


def test_the_archive_holds_the_state_and_a_manifest_of_it(source, archive):
    manifest, members = read_archive(archive)
    assert (manifest["format"], manifest["format_version"], manifest["campaign_code"]) == (
        "roadsafe-backup",
        1,
        "jiujiang-2022",
    )
    assert dt.datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(members)
    for name, data in members.items():
        assert listed[name]["size"] == len(data)
        assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest(), name

    # the landing zone and the editions as they are on disk, byte for byte
    for folder in ("landing", "reports"):
        on_disk = files_under(source.home / folder)
        archived = {
            n.removeprefix(f"home/{folder}/"): listed[n]["sha256"]
            for n in listed
            if n.startswith(f"home/{folder}/")
        }
        assert archived == on_disk
    receipts = len(list((source.landing / "receipts").glob("*.json")))
    assert manifest["counts"] == {
        "receipts": receipts,
        "landed_files": len(files_under(source.landing)) - receipts,
        "editions": 1,
    }
    # the warehouse copy is a working database with everything the source had
    copy = archive.parent / "warehouse-copy.duckdb"
    copy.write_bytes(members["home/warehouse.duckdb"])
    con = duckdb.connect(str(copy), read_only=True)
    src = duckdb.connect(str(source.published), read_only=True)
    try:
        assert one(con, "select count(*) from raw.submissions") == receipts
        assert one(con, "select count(*) from marts.fct_indicator_values") == one(
            src, "select count(*) from marts.fct_indicator_values"
        )
    finally:
        con.close()
        src.close()
    assert "home/portal/users.sqlite3" in members and "home/published/warehouse.duckdb" in members
    # derived or transient state and the portal's signing key are left out
    tops = {n.split("/")[1] for n in members}
    assert tops == {"warehouse.duckdb", "published", "portal", "landing", "reports", "contacts"}
    assert "home/portal/secret" not in members


def test_restore_into_a_new_home_then_rebuild_from_the_landing_zone_alone(source, archive, tmp_path):
    home = tmp_path / "restored"
    started = time.monotonic()
    proc = roadsafe(home, "restore", str(archive))
    restore_seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert f"恢复完成：{home}" in proc.stdout and "校验均与清单一致" in proc.stdout
    for folder in ("landing", "reports", "contacts"):  # contacts: the office's own data
        assert files_under(home / folder) == files_under(source.home / folder)
    landed = next(p for p in (home / "landing").glob("??/*") if p.is_file())
    assert landed.stat().st_mode & 0o777 == 0o400  # still read-only
    assert sorted(p.name for p in home.parent.iterdir()) == ["restored"]  # no staging left beside it

    import sqlite3

    con = sqlite3.connect(home / "portal" / "users.sqlite3")
    assert con.execute("select login, unit_id from users").fetchall() == [("xunyang01", "xunyang")]
    con.close()
    restored = Settings(home=home)
    editions = list_editions(restored)
    assert [(e.meta.kind, e.meta.ref) for e in editions] == [("weekly_bulletin", "week-01")]
    assert all(e.is_rendered() for e in editions)
    with duckdb.connect(str(restored.published), read_only=True) as snap:
        assert one(snap, "select count(*) from marts.fct_submissions") == len(
            list((source.landing / "receipts").glob("*.json"))
        )

    started = time.monotonic()
    proc = roadsafe(home, "rebuild", "--from-landing", timeout=600)
    rebuild_seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "比对结果：全部一致" in proc.stdout, proc.stdout
    marts = re.search(r"汇总表 (\d+) 张共 (\d+) 行", proc.stdout)
    assert marts and int(marts.group(1)) >= 9 and int(marts.group(2)) > 1000
    assert list(restored.tmp.iterdir()) == []  # the scratch warehouse is gone
    print(f"restore: {restore_seconds:.1f} s; rebuild --from-landing: {rebuild_seconds:.1f} s")
    print(proc.stdout)


_SUBMITTER = """
import datetime as dt, json, sys
from pathlib import Path
from roadsafe.settings import Settings
from ingest.service import ProcessingFailed, submit
home, samples, since, stop = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
settings = Settings(home=home)
entries = [json.loads(line) for line in (samples / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
for e in [e for e in entries if e["received_at"] > since]:  # one submission at a time, as they come
    if stop.exists():
        break
    try:  # a file ingest cannot process stays landed and pending: a state the backup must take too
        submit(settings, samples / e["path"], unit=e["unit_id"], channel=e["channel"],
               received_at=dt.datetime.fromisoformat(e["received_at"]))
    except ProcessingFailed:
        pass
"""


def test_a_backup_taken_while_files_keep_arriving_is_consistent(source, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(source.home, home, ignore=shutil.ignore_patterns("samples", "dbt", "logs"))
    receipts = home / "landing" / "receipts"
    before = len(list(receipts.glob("*.json")))
    sender = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _SUBMITTER,
            str(home),
            str(source.samples / source.campaign_code),
            UNTIL.isoformat(),
            str(tmp_path / "stop"),
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(receipts.glob("*.json"))) < before + 3:
            assert sender.poll() is None, sender.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc = roadsafe(home, "backup", f"{tmp_path}/out/")  # while submissions go on
        assert sender.poll() is None  # the backup really ran in the middle of them
    finally:
        (tmp_path / "stop").touch()
        _, err = sender.communicate(timeout=300)
    assert sender.returncode == 0, err  # no submission was turned away (WarehouseBusy) by the backup
    assert proc.returncode == 0, proc.stderr
    sent = len(list(receipts.glob("*.json"))) - before

    (archive,) = (tmp_path / "out").glob("*.tar.gz")
    restored = Settings(home=tmp_path / "restored")
    assert roadsafe(restored.home, "restore", str(archive)).returncode == 0
    with duckdb.connect(str(restored.warehouse), read_only=True) as con:
        loaded = con.execute("select receipt_id, stored_path, file_sha256 from raw.submissions").fetchall()
    with duckdb.connect(str(restored.published), read_only=True) as con:
        published = one(con, "select count(*) from marts.fct_submissions")
    sidecars = {p.stem for p in (restored.landing / "receipts").glob("*.json")}
    assert before < len(loaded) <= before + sent  # caught in the middle
    assert published <= len(loaded)  # the snapshot is never newer than the warehouse
    for receipt_id, stored, sha in loaded:  # everything the warehouse knows, the landing zone holds
        assert receipt_id in sidecars
        assert sha256(restored.home / stored) == sha
    assert len(sidecars) >= len(loaded)  # a file landed meanwhile is there, pending


def _swap_ids(con, a: str, b: str) -> None:
    """Renumber submissions a ↔ b everywhere (as if they had been loaded the other way round)."""
    tables = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_schema in ('raw', 'marts') and (data_type = 'VARCHAR' or data_type = 'VARCHAR[]')"
    ).fetchall()
    views = {
        r[0] for r in con.execute("select view_name from duckdb_views() where schema_name = 'raw'").fetchall()
    }
    for old, new in ((a, "S999998"), (b, a), ("S999998", b)):
        for schema, table, column, kind in tables:
            if table in views:
                continue
            col = f'"{column}"'
            expr = (
                f"list_transform({col}, lambda x: replace(x, '{old}', '{new}'))"
                if kind.endswith("[]")
                else f"replace({col}, '{old}', '{new}')"
            )
            con.execute(f"update {schema}.{table} set {col} = {expr}")


def test_the_comparison_finds_a_changed_figure_and_matches_renumbered_submissions(source, tmp_path):
    reference = tmp_path / "reference.duckdb"
    shutil.copyfile(source.published, reference)

    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(reference, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute(
            "update marts.fct_indicator_values set actual = actual + 1 where rowid = "
            "(select min(rowid) from marts.fct_indicator_values where actual is not null)"
        )
    result = compare_warehouses(reference, changed)
    assert not result.identical
    assert [(t.table, t.only_reference, t.only_rebuilt) for t in result.tables if not t.same] == [
        ("marts.fct_indicator_values", 1, 1)
    ]

    renumbered = tmp_path / "renumbered.duckdb"
    shutil.copyfile(reference, renumbered)
    receipt_sql = "select receipt_id from raw.submissions where submission_id = ?"
    with duckdb.connect(str(renumbered)) as con:
        first, second = [
            r[0]
            for r in con.execute(
                "select submission_id from raw.submissions where status = 'accepted' order by 1 limit 2"
            ).fetchall()
        ]
        receipt = one(con, receipt_sql, [first])
        _swap_ids(con, first, second)
        assert one(con, receipt_sql, [second]) == receipt
    result = compare_warehouses(reference, renumbered)
    assert result.identical, [t for t in result.tables if not t.same]
    assert result.renumbered == 2


def _rewrite(archive: Path, out: Path, member: str, offset: int) -> None:
    """A copy of the archive with one byte of ``member``'s data flipped (the gzip stream itself intact)."""
    raw = bytearray(gzip.decompress(archive.read_bytes()))
    with tarfile.open(fileobj=io.BytesIO(bytes(raw))) as tar:
        info = tar.getmember(member)
    raw[info.offset_data + offset] ^= 0x01
    out.write_bytes(gzip.compress(bytes(raw)))


def test_a_corrupted_member_is_refused_by_name_and_nothing_is_touched(archive, tmp_path):
    with tarfile.open(archive, "r:gz") as tar:  # one of the landed originals
        member = next(n for n in tar.getnames() if re.fullmatch(r"home/landing/../[0-9a-f]{64}\.xlsx", n))
    bad = tmp_path / archive.name
    _rewrite(archive, bad, member, 100)
    home = tmp_path / "target"
    proc = roadsafe(home, "restore", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"错误：备份文件“{bad.name}”中 “{member}” 的校验和与清单不符"), proc.stderr
    assert "未恢复任何内容" in proc.stderr
    assert not home.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad.name]


def test_a_damaged_or_cut_archive_is_refused(archive, tmp_path):
    data = archive.read_bytes()
    home = tmp_path / "target"
    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(
        data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1 :]
    )
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    answers = {}
    for path in (flipped, cut):
        proc = roadsafe(home, "restore", str(path))
        assert proc.returncode == 2, proc.stdout
        assert re.match(
            rf"错误：备份文件“{path.name}”(已损坏或不完整|中 “home/.+” 的校验和与清单不符)", proc.stderr
        )
        assert "未恢复任何内容" in proc.stderr
        assert not home.exists()
        answers[path.name] = proc.stderr
    assert "已损坏或不完整" in answers["cut.tar.gz"] and "截断" in answers["cut.tar.gz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.tar.gz", "flipped.tar.gz"]


def test_a_home_that_holds_data_is_replaced_only_when_forced(archive, tmp_path):
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    (home / "notes.txt").write_text("本地记录", encoding="utf-8")
    proc = roadsafe(home, "restore", str(archive))
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        f"错误：目标数据目录“{home}”中已有数据（1个文件），为免覆盖，未恢复任何内容。"
    )
    assert "--force" in proc.stderr
    assert sorted(p.name for p in home.iterdir()) == ["landing", "notes.txt"]

    proc = roadsafe(home, "restore", str(archive), "--force")
    assert proc.returncode == 0, proc.stderr
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("home.replaced-")]
    assert (aside / "notes.txt").read_text(encoding="utf-8") == "本地记录"
    assert f"原数据目录已整体移至“{aside}”" in proc.stdout
    assert (home / "warehouse.duckdb").is_file() and not (home / "notes.txt").exists()

    # an empty folder (say, made by hand for it) is not "holding data"
    empty = tmp_path / "empty"
    (empty / "inbox").mkdir(parents=True)
    proc = roadsafe(empty, "restore", str(archive))
    assert proc.returncode == 0, proc.stderr
    assert "原数据目录" not in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("empty")) == ["empty"]


def _limited(home: Path, *args: str, limit: int) -> subprocess.CompletedProcess:
    """``roadsafe`` under a file size limit: a write past ``limit`` bytes fails as on a full disk."""
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "from application.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "--home", str(home), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_full_disk_leaves_nothing_behind(source, archive, tmp_path):
    home = tmp_path / "target"
    proc = _limited(home, "restore", str(archive), limit=1 << 20)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip() == (
        f"错误：磁盘空间不足，未能将备份恢复到“{home}”（未留下不完整的文件，原有数据未受影响），"
        f"请清理磁盘空间后重试。"
    )
    assert list(tmp_path.iterdir()) == []

    out = tmp_path / "out"
    before = files_under(source.home / "landing")
    proc = _limited(source.home, "backup", f"{out}/", limit=1 << 20)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip() == (
        "错误：磁盘空间不足，未能生成备份（未留下不完整的备份文件），请清理磁盘空间或另选保存位置后重试。"
    )
    assert list(out.iterdir()) == []
    assert not any(p.name.startswith("backup-") for p in source.tmp.iterdir())
    assert files_under(source.home / "landing") == before


@pytest.mark.parametrize("holder", ["a writer's turn", "the file itself"])
def test_a_busy_warehouse_makes_the_backup_wait_then_give_up(source, tmp_path, holder):
    from contextlib import ExitStack

    from roadsafe.warehouse import writer_turn

    with ExitStack() as held:
        if holder == "a writer's turn":  # a build or a submission in progress, queued as writers are
            held.enter_context(writer_turn(source))
        else:  # a process that opened the file outside the queue
            held.callback(duckdb.connect(str(source.warehouse)).close)
        proc = roadsafe(source.home, "backup", f"{tmp_path}/", "--wait", "1")
    assert proc.returncode == 3
    assert proc.stderr.startswith(f"错误：数据仓库“{source.warehouse}”正被其他程序占用")
    assert "未生成备份" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_killed_backup_leaves_no_archive_that_looks_complete(source, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(source.home, home, ignore=shutil.ignore_patterns("samples", "dbt", "logs"))
    settings = Settings(home=home)
    land_bytes(settings, os.urandom(32 << 20), "大文件.xlsx")  # incompressible: a backup that takes a while
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "application.cli", "--home", str(home), "backup", f"{out}/"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.endswith(".part") and p.stat().st_size > (1 << 20) for p in out.iterdir()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL

    (part,) = out.iterdir()
    assert part.name.startswith(".") and part.name.endswith(f".{proc.pid}.part")  # hidden, not *.tar.gz
    refused = roadsafe(tmp_path / "restored", "restore", str(part))
    assert refused.returncode == 2 and "已损坏或不完整" in refused.stderr
    assert not (tmp_path / "restored").exists()
    duckdb.connect(str(settings.warehouse)).close()  # the writer's lock went with the process

    again = roadsafe(home, "backup", f"{out}/")
    assert again.returncode == 0, again.stderr
    (done,) = out.iterdir()  # the killed run's .part is cleared away
    assert done.name.endswith(".tar.gz") and not done.name.startswith(".")
    assert not any(p.name.startswith("backup-") for p in settings.tmp.iterdir())
    manifest, members = read_archive(done)
    assert len(manifest["files"]) == len(members)


def _with_mode(archive: Path, out: Path, member: str, mode: int) -> None:
    """A copy of the archive (same members, same order, same bytes) with ``member``'s mode set to ``mode``."""
    buf = io.BytesIO()
    with (
        tarfile.open(archive, "r:gz") as src,
        tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as dst,
    ):
        for info in src.getmembers():
            data = src.extractfile(info).read()
            if info.name == member:
                info.mode = mode
            dst.addfile(info, io.BytesIO(data))
    out.write_bytes(gzip.compress(buf.getvalue()))


def _umask0(**kw) -> dict:
    return {"preexec_fn": lambda: os.umask(0), **kw}


def test_a_backup_is_private_whatever_the_umask(source, tmp_path):
    out = tmp_path / "new" / "backups"
    proc = roadsafe(source.home, "backup", f"{out}/", **_umask0())
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("*.tar.gz")
    assert path.stat().st_mode & 0o7777 == 0o600
    for folder in (out, out.parent):  # the folders the backup made
        assert folder.stat().st_mode & 0o7777 == 0o700, folder


def test_restore_gives_the_live_modes_not_the_archives(archive, tmp_path):
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
    landed = next(n for n in names if re.fullmatch(r"home/landing/../[0-9a-f]{64}\.xlsx", n))
    opened = tmp_path / "opened.tar.gz"  # what an archive tampered with might say
    _with_mode(archive, opened, "home/portal/users.sqlite3", 0o777)
    home = tmp_path / "restored"
    proc = roadsafe(home, "restore", str(opened), **_umask0())
    assert proc.returncode == 0, proc.stderr
    modes = {p.relative_to(home).as_posix(): p.stat().st_mode & 0o7777 for p in [home, *home.rglob("*")]}
    assert modes["portal/users.sqlite3"] == 0o600
    assert modes[landed.removeprefix("home/")] == 0o400  # as the landing zone stores originals
    restored = {n.removeprefix("home/") for n in names if n.startswith("home/")}
    folders = {str(Path(n).parent) for n in restored} | {"."}  # the empty folders of a home are ensure()'s
    assert {modes[f] for f in folders} == {0o700}
    files = {n: m for n, m in modes.items() if (home / n).is_file()}
    assert set(files.values()) == {0o600, 0o400}
    assert {n for n, m in files.items() if m == 0o400} == {
        n.removeprefix("home/") for n in names if re.fullmatch(r"home/landing/../[^/]+", n)
    }


def test_a_set_uid_member_is_refused(archive, tmp_path):
    member = "home/portal/users.sqlite3"
    bad = tmp_path / "setuid.tar.gz"
    _with_mode(archive, bad, member, 0o4755)
    home = tmp_path / "target"
    proc = roadsafe(home, "restore", str(bad))
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith(f"错误：备份文件“{bad.name}”中有不应出现的条目 “{member}”"), proc.stderr
    assert "未恢复任何内容" in proc.stderr
    assert not home.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad.name]
