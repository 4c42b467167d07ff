"""``roadsafe edition …``: the operator's twin of the sign-off page, as a subprocess on a real home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dashboards.audit import read_audit

ROADSAFE = str(Path(sys.executable).parent / "roadsafe")


def _run(home, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROADSAFE_")}
    env["ROADSAFE_HOME"] = str(home.home)
    return subprocess.run([ROADSAFE, "edition", *args], env=env, capture_output=True, text=True, timeout=300)


def test_edition_commands(home):
    done = _run(home, "draft", "dispatch", "5", "--frozen-at", "2022-07-05T09:00:00+08:00", "--by", "王科长")
    assert done.returncode == 0, done.stderr
    assert "九江市道路交通安全专项整治工作调度单（第5期，第5周）：待签发" in done.stdout
    listed = _run(home, "list")
    assert (
        "[待签发] 九江市道路交通安全专项整治工作调度单（第5期，第5周）  dispatch_list week-05"
        in listed.stdout
    )
    shown = _run(home, "show", "dispatch", "5")
    assert "按语：（无）" in shown.stdout
    first = next(line for line in shown.stdout.splitlines() if line.startswith("p1："))
    original = first.removeprefix("p1：")

    assert (
        _run(
            home, "note", "dispatch", "5", "请按清单逐项调度。", "--by", "王科长", "--reason", "调度要求"
        ).returncode
        == 0
    )
    refused = _run(home, "reword", "dispatch", "5", "p1", original + "另有99项。", "--by", "王科长")
    assert refused.returncode == 2 and "错误：第1段：修改后的段落改动了数字" in refused.stderr
    missing = _run(home, "sign", "bulletin", "5")
    assert missing.returncode == 2 and "找不到该期报告" in missing.stderr

    signed = _run(home, "sign", "dispatch", "5", "--by", "王科长", "--no-deliver")
    assert signed.returncode == 0, signed.stderr
    assert "已签发：九江市道路交通安全专项整治工作调度单（第5期，第5周）" in signed.stdout
    assert (home.reports / "dispatch_list" / "week-05" / "dispatch.pdf").is_file()
    shown = _run(home, "show", "dispatch", "5")
    assert "：已签发" in shown.stdout and "按语：请按清单逐项调度。" in shown.stdout
    assert "王科长 签发" in shown.stdout and "王科长 添加按语，理由：调度要求" in shown.stdout
    assert [e["action"] for e in read_audit(home)] == ["draft", "note", "sign"]
