"""The office's record of what it did to editions: who, when, why — one JSON line per action in
``$ROADSAFE_HOME/audit/editions.jsonl``.

The file is only ever appended to (``O_APPEND``, one ``write`` per line) and each line is fsynced before the
action is reported done, so a record is never rewritten and a crash loses at most the line being written.

Examples
--------
>>> import pathlib, tempfile
>>> from roadsafe.settings import Settings
>>> s = Settings(home=pathlib.Path(tempfile.mkdtemp()))
>>> entry = append_audit(s, "note", who="zhengzhiban", reason="补充说明", kind="weekly_bulletin", ref="week-05")
>>> [e["action"] for e in read_audit(s)]
['note']
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from roadsafe.durable import append_json_line, private_dir, read_json_lines

__all__ = ["ACTION_WORDS", "append_audit", "audit_path", "read_audit"]

ACTION_WORDS = {
    "draft": "生成草稿",
    "note": "添加按语",
    "reword": "修改段落表述",
    "sign": "签发",
    "auto_sign": "自动签发",
    "await": "待签发提醒",
    "correct": "发布更正",
}


def audit_path(settings) -> Path:
    return settings.home / "audit" / "editions.jsonl"


def append_audit(settings, action: str, *, who: str, reason: str | None = None, **details) -> dict:
    """Append one entry (``at`` is now, UTC) and make it durable; returns the entry."""
    entry = {
        "at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "action": action,
        "who": who,
        "reason": reason or "",
        **details,
    }
    path = audit_path(settings)
    private_dir(path.parent)
    append_json_line(path, entry)
    return entry


def read_audit(settings, *, kind: str | None = None, ref: str | None = None) -> list[dict]:
    """Every entry, oldest first (optionally of one edition)."""
    return [
        entry
        for entry in read_json_lines(audit_path(settings))
        if (kind is None or entry.get("kind") == kind) and (ref is None or entry.get("ref") == ref)
    ]
