"""``roadsafe user add|list|disable|enable|password`` and ``roadsafe portal --help``."""

from __future__ import annotations

import io
import sqlite3

import pytest

from application.cli import main


def _run(home, capsys, monkeypatch, *args, stdin: str | None = None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--home", str(home), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_user_commands(tmp_path, capsys, monkeypatch):
    from portal.store import Store

    home = tmp_path / "home"
    code, out, _ = _run(
        home,
        capsys,
        monkeypatch,
        "user",
        "add",
        "GongAn",
        "--unit",
        "九江市公安局",
        "--password-stdin",
        stdin="Gongan-Portal-2022\n",
    )
    assert code == 0 and "已创建账号 gongan：市公安局" in out and "Gongan-Portal-2022" not in out
    code, out, _ = _run(home, capsys, monkeypatch, "user", "add", "zzb", "--office")
    assert code == 0 and "市整治办" in out
    generated = out.split("初始密码：")[1].split("（")[0]
    assert len(generated) == 14
    # the hash is argon2id, never the password; the file is private
    db = home / "portal" / "users.sqlite3"
    assert (db.stat().st_mode & 0o777) == 0o600
    hashes = [r[0] for r in sqlite3.connect(db).execute("select password_hash from users")]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any("Gongan-Portal-2022" in h or generated in h for h in hashes)

    code, _, err = _run(
        home,
        capsys,
        monkeypatch,
        "user",
        "add",
        "gongan",
        "--unit",
        "市公安局",
        "--password-stdin",
        stdin="Another-Pass-2022\n",
    )
    assert code == 2 and "已存在" in err
    code, _, err = _run(
        home,
        capsys,
        monkeypatch,
        "user",
        "add",
        "x",
        "--unit",
        "火星局",
        "--password-stdin",
        stdin="Another-Pass-2022\n",
    )
    assert code == 2 and "找不到填报单位" in err
    code, _, err = _run(
        home,
        capsys,
        monkeypatch,
        "user",
        "add",
        "city",
        "--unit",
        "九江市",
        "--password-stdin",
        stdin="Another-Pass-2022\n",
    )
    assert code == 2 and "找不到填报单位" in err  # the city is not a reporting unit
    code, _, err = _run(
        home, capsys, monkeypatch, "user", "add", "y", "--unit", "浔阳区", "--password-stdin", stdin="short\n"
    )
    assert code == 2 and "密码至少需要10个字符" in err

    code, out, _ = _run(home, capsys, monkeypatch, "user", "list")
    assert code == 0
    assert "gongan\t市公安局\tunit\tyes" in out and "zzb\t-\toffice\tyes" in out

    store = Store(db)
    store.create_session("h", "gongan", "csrf", 0.0, None)
    code, out, _ = _run(home, capsys, monkeypatch, "user", "disable", "gongan")
    assert code == 0 and "已停用" in out
    assert store.get_user("gongan").enabled is False and store.get_session("h") is None
    code, out, _ = _run(home, capsys, monkeypatch, "user", "enable", "gongan")
    assert code == 0 and store.get_user("gongan").enabled
    code, out, _ = _run(
        home,
        capsys,
        monkeypatch,
        "user",
        "password",
        "gongan",
        "--password-stdin",
        stdin="Brand-New-Pass-22\n",
    )
    assert code == 0 and "已重置" in out
    from argon2 import PasswordHasher

    assert PasswordHasher().verify(store.password_hash("gongan")[0], "Brand-New-Pass-22")
    code, _, err = _run(home, capsys, monkeypatch, "user", "disable", "nobody")
    assert code == 2 and "不存在" in err


def test_portal_command_is_registered(capsys):
    with pytest.raises(SystemExit) as done:
        main(["portal", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--port" in out and "--host" in out
