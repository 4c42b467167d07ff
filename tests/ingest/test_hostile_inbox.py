"""Hostile drop folders: a unit that can place files in its inbox folder must not make roadsafe read anything
else. Links, FIFOs, devices and hard links are refused unread, with a Chinese message, recorded once; the
rest of the folder is processed as usual. Before the fix, the scan followed links (rglob + is_file) and the
landing zone copied through them, so the linked file became "the unit's original" on the portal."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from corpus import REPO, f1_xlsx, query, settings

from ingest.inbox import inbox_entries
from ingest.landing import UnsafeSource, land_file
from ingest.service import process_inbox

SECRET = b"TOP-SECRET portal key 0123456789abcdef"


@pytest.fixture
def home(tmp_path):
    s = settings(tmp_path / "home")
    s.ensure()
    (s.inbox / "gongan").mkdir()
    return s


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "outside" / "secret"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def _landed_bytes(s) -> list[bytes]:
    return [p.read_bytes() for p in s.landing.glob("??/*") if p.is_file()]


def _ledger(s) -> list[dict]:
    path = s.landing / "refusals.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _scan(s):
    refusals: list = []
    receipts = process_inbox(s, refusals=refusals)
    return receipts, refusals


def test_a_link_to_a_file_outside_is_refused_unread(home, secret, tmp_path):
    (home.inbox / "gongan" / "第5周 F1.xlsx").symlink_to(secret)
    good = f1_xlsx(home.inbox / "gongan" / "真的报表.xlsx")
    receipts, refusals = _scan(home)
    assert [r.original_name for r in receipts] == [good.name]
    (refusal,) = refusals
    assert refusal.kind == "symlink" and refusal.path == "gongan/第5周 F1.xlsx"
    assert "符号链接" in refusal.text() and "不予读取" in refusal.text()
    assert SECRET not in _landed_bytes(home)
    assert query(home, "select count(*) from raw.submissions") == [(1,)]
    # recorded once: a second scan neither loads nor records it again
    assert _scan(home) == ([], [])
    assert [r["path"] for r in _ledger(home)] == ["gongan/第5周 F1.xlsx"]
    assert stat.S_IMODE(os.stat(home.landing / "refusals.jsonl").st_mode) == 0o600


def test_a_linked_folder_is_not_entered(home, secret):
    outside = secret.parent
    f1_xlsx(outside / "F1.xlsx")
    (home.inbox / "gongan" / "共享").symlink_to(outside, target_is_directory=True)
    (home.inbox / "gongan" / "上级").symlink_to("../..", target_is_directory=True)  # a path with ..
    (home.inbox / "xunyang").symlink_to(outside, target_is_directory=True)  # a whole unit folder
    receipts, refusals = _scan(home)
    assert receipts == []
    assert sorted(r.path for r in refusals) == ["gongan/上级", "gongan/共享", "xunyang"]
    assert {r.kind for r in refusals} == {"symlink"}
    assert _landed_bytes(home) == []


def test_a_fifo_and_a_hard_link_are_refused(home, secret):
    os.mkfifo(home.inbox / "gongan" / "管道.xlsx")
    os.link(secret, home.inbox / "gongan" / "硬链接.xlsx")
    receipts, refusals = _scan(home)  # a FIFO opened for reading would block: the scan must not hang
    assert receipts == []
    kinds = {r.path: r.kind for r in refusals}
    assert kinds == {"gongan/硬链接.xlsx": "hardlink", "gongan/管道.xlsx": "special"}
    assert "硬链接" in next(r for r in refusals if r.kind == "hardlink").message
    assert SECRET not in _landed_bytes(home)


def test_a_file_swapped_for_a_link_after_the_walk_is_refused_on_open(home, secret):
    real = f1_xlsx(home.inbox / "gongan" / "F1.xlsx")
    (entry,), refused = inbox_entries(home)
    assert refused == [] and entry.path == real
    real.unlink()
    real.symlink_to(secret)  # replaced between the walk and the open
    with pytest.raises(UnsafeSource) as caught:
        land_file(home, entry.path, single_link=True)
    assert caught.value.kind == "symlink"
    assert SECRET not in _landed_bytes(home)


def test_replies_folder_is_not_read(home):
    replies = home.inbox / "gongan" / "回执"
    replies.mkdir()
    (replies / "F1.xlsx.txt").write_text("已受理", encoding="utf-8")
    assert inbox_entries(home) == ([], [])


def test_inbox_scan_command_prints_one_line_per_file(home, secret):
    f1_xlsx(home.inbox / "gongan" / "F1.xlsx")
    (home.inbox / "gongan" / "链接.xlsx").symlink_to(secret)
    proc = subprocess.run(
        [sys.executable, "-m", "application.cli", "--home", str(home.home), "inbox", "scan"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "F1.xlsx：" in lines[0] and "受理" in lines[0]
    assert lines[1].startswith("gongan/链接.xlsx：未接收：") and "符号链接" in lines[1]


def test_state_is_private_whatever_the_umask(tmp_path):
    """Landing zone, receipts and warehouse are created owner-only even under umask 000."""
    path = f1_xlsx(tmp_path / "F1.xlsx")
    home = tmp_path / "home"
    code = (
        "import os, sys; os.umask(0); "
        "from application.cli import main; "
        f"sys.exit(main(['--home', {str(home)!r}, 'submit', {str(path)!r}, '--unit', '市公安局', '--week', '5']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    def mode(p):
        return stat.S_IMODE(os.stat(p).st_mode)

    assert mode(home) == 0o700 and mode(home / "landing") == 0o700 and mode(home / "tmp") == 0o700
    (landed,) = [p for p in (home / "landing").glob("??/*") if p.is_file()]
    assert mode(landed.parent) == 0o700 and mode(landed) == 0o400
    (receipt,) = (home / "landing" / "receipts").glob("*.json")
    assert mode(receipt) == 0o600 and mode(receipt.parent) == 0o700
    assert mode(home / "warehouse.duckdb") == 0o600
