"""The landing zone: content-addressed, atomic, never overwritten or deleted; a full disk leaves no half
file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

from corpus import REPO, f1_xlsx, query, settings

from ingest.landing import LandingError, clean_stale_tmp, land_bytes, land_file, read_receipts
from ingest.service import submit


def test_stored_under_its_sha256_read_only(tmp_path):
    s = settings(tmp_path)
    src = f1_xlsx(tmp_path / "重点车辆隐患清零周报.XLSX")
    data = src.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    landed = land_file(s, src)
    assert (landed.sha256, landed.size, landed.already_there) == (sha, len(data), False)
    assert landed.path == s.landing / sha[:2] / f"{sha}.xlsx"
    assert landed.path.read_bytes() == data
    assert not landed.path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert list(s.tmp.iterdir()) == []


def test_same_bytes_land_once_and_are_never_overwritten(tmp_path):
    s = settings(tmp_path)
    src = f1_xlsx(tmp_path / "a.xlsx")
    first = land_file(s, src)
    mtime = first.path.stat().st_mtime_ns
    copy = tmp_path / "copy-with-another-name.xlsx"
    shutil.copy(src, copy)
    second = land_file(s, copy)
    assert second.path == first.path and second.already_there
    assert first.path.stat().st_mtime_ns == mtime
    assert [p.name for p in s.landing.rglob("*.xlsx")] == [first.path.name]
    assert list(s.tmp.iterdir()) == []


def test_a_file_already_at_the_address_is_left_alone(tmp_path):
    """Even if something else sits at the content address, landing never replaces it."""
    s = settings(tmp_path)
    src = f1_xlsx(tmp_path / "a.xlsx")
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    target = s.landing / sha[:2] / f"{sha}.xlsx"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"already here")
    landed = land_file(s, src)
    assert landed.already_there and target.read_bytes() == b"already here"


def test_extension_kept_lower_case_and_bytes_from_uploads(tmp_path):
    s = settings(tmp_path)
    landed = land_bytes(s, b"a,b\n1,2\n", "上传.CSV")
    assert landed.path.suffix == ".csv"
    odd = land_bytes(s, b"x", "no-extension")
    assert odd.path.name == odd.sha256


def test_every_receipt_is_on_record_and_nothing_is_deleted(tmp_path):
    s = settings(tmp_path)
    src = f1_xlsx(tmp_path / "F1.xlsx")
    first = submit(s, src, unit="市公安局")
    second = submit(s, src, unit="市公安局")
    assert (first.status, second.status) == ("accepted", "duplicate")
    receipts = read_receipts(s)
    assert [(r.unit_id, r.channel, r.original_name) for r in receipts] == [("gongan", "cli", "F1.xlsx")] * 2
    sidecar = json.loads(next((s.landing / "receipts").glob("*.json")).read_text(encoding="utf-8"))
    assert set(sidecar) >= {
        "receipt_id",
        "sha256",
        "size",
        "stored_path",
        "original_name",
        "unit_id",
        "form",
        "period",
        "channel",
        "submitted_by",
        "received_at",
        "source_path",
    }
    assert query(
        s, "select count(distinct receipt_id), count(distinct stored_path) from raw.submissions"
    ) == [(2, 1)]
    assert len(list(s.landing.glob("??/*.xlsx"))) == 1


# --------------------------------------------------------------------------- a full disk

_LAND = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from roadsafe.settings import Settings
    from ingest.landing import LandingError, land_file
    s = Settings(home=Path(sys.argv[1])).ensure()
    try:
        land_file(s, Path(sys.argv[2]))
        result = "landed"
    except LandingError as exc:
        result = exc.message
    files = sorted(str(p.relative_to(s.home)) for p in s.home.rglob("*") if p.is_file())
    print(json.dumps({"result": result, "files": files}, ensure_ascii=False))
    """
)

_MESSAGE = "磁盘空间不足，文件“big.xlsx”未能保存到接收区（未留下不完整的文件），请清理磁盘空间后重新报送。"


def _big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.xlsx"
    path.write_bytes(os.urandom(512 * 1024))
    return path


def test_full_disk_on_a_tiny_file_system(tmp_path):
    """A real ENOSPC: $ROADSAFE_HOME on a 256 KiB tmpfs (in a private mount namespace)."""
    assert shutil.which("unshare"), "unshare (util-linux) is needed for a real full-disk test"
    home = tmp_path / "home"
    home.mkdir()
    script = (
        f"mount -t tmpfs -o size=256k tmpfs '{home}' && exec '{sys.executable}' -c \"$0\" '{home}' '{{}}'"
    )
    src = _big_file(tmp_path)
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script.replace("{}", str(src)), _LAND],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out == {"result": _MESSAGE, "files": []}


def test_file_size_limit_behaves_like_a_full_disk(tmp_path):
    """The same with RLIMIT_FSIZE (works without mount rights): write fails half way, nothing is left."""
    src = _big_file(tmp_path)
    home = tmp_path / "home"
    pre = (
        "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", pre + _LAND, str(home), str(src)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"result": _MESSAGE, "files": []}


def test_submit_on_a_full_disk_records_nothing(tmp_path, monkeypatch):
    """submit raises the Chinese LandingError and the CLI exits 3; no registry row, no file."""
    src = _big_file(tmp_path)
    home = tmp_path / "home"
    code = textwrap.dedent(
        """
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        from application.cli import main
        sys.exit(main(["--home", sys.argv[1], "submit", sys.argv[2], "--unit", "市公安局", "--week", "5"]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(home), str(src)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip() == f"错误：{_MESSAGE}"
    assert not (home / "warehouse.duckdb").exists()
    assert [p for p in home.rglob("*") if p.is_file()] == []


def test_landing_error_is_an_exception_with_a_message():
    exc = LandingError("磁盘空间不足")
    assert exc.message == "磁盘空间不足" and str(exc) == "磁盘空间不足"


def test_half_written_files_of_a_killed_process_are_cleaned_up(tmp_path):
    s = settings(tmp_path)
    stale = s.tmp / "landing-999-abc.part"
    stale.write_bytes(b"half")
    os.utime(stale, (1, 1))
    fresh = s.tmp / "landing-998-def.part"  # a landing in progress right now
    fresh.write_bytes(b"busy")
    assert clean_stale_tmp(s) == 1
    assert not stale.exists() and fresh.exists()
