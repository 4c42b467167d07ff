"""The office's own decisions: returns (退回), excuses (情况说明) and the enforcement register (督办案件).

The portal never writes the warehouse, so what the office decides is kept as an append-only record under
``$ROADSAFE_HOME/office/``: ``record.jsonl``, one JSON object a line, each with who (``by``), when
(``at``, ISO with offset), why (``reason``) and what (``kind`` and its fields). A line is appended under
an exclusive lock, flushed and fsynced before the call returns; nothing is ever rewritten. The build loads
the record into ``ref.office_*`` (:func:`roadsafe.reftables.write_office_tables`) and dbt honours it.

Kinds and their fields:

``return``       submission_id, form_code, unit_id, period_no — the accepted file is sent back; its figures
                 (and those of earlier versions it replaced) leave the indicators until a later file for
                 the same (form, unit, period) arrives.
``excuse``       form_code, unit_id, period_no — a late or missing submission counts as 已说明, not late.
``case_open``    unit_id, case_kind (:data:`CASE_KINDS`), task_no (or null), source (``dispatch``/
                 ``duban``/``manual``), source_ref, title — a case of the enforcement register.
``case_action``  case_id, action, on_date — what was done in a case (约谈, 督导检查, 整改反馈…), dated.
``case_close``   case_id, evidence (sha256, ext, size, name of the stored file) — 销号 with evidence.

Evidence files are never trusted: at most :data:`MAX_EVIDENCE_BYTES`, type told by content (PDF, PNG,
JPEG, Word/Excel 2007+), stored read-only under ``office/evidence/<sha256[:2]>/<sha256>.<ext>`` like the
landed originals, and offered back only as attachments.

Examples
--------
>>> import tempfile, pathlib
>>> record = OfficeRecord(pathlib.Path(tempfile.mkdtemp()))
>>> e = record.append("excuse", campaign="c", by="office", at="2022-05-12T10:00:00+08:00",
...                   reason="系统故障", form_code="F1", unit_id="xunyang", period_no=5)
>>> e["id"], len(record.entries("c"))
('E0001', 1)
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import io
import os
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from roadsafe.durable import append_json_line, fsync_dir, private_dir, read_json_lines

__all__ = [
    "ACTION_MAX",
    "CASE_KINDS",
    "CASE_SOURCES",
    "MAX_EVIDENCE_BYTES",
    "Case",
    "OfficeRecord",
    "OfficeRecordError",
    "cases",
    "decision_rows",
    "excuses",
    "returns",
]

CASE_KINDS = {
    "listed": "挂牌督办",
    "interview": "约谈主要负责人",
    "referral": "追责问责移送",
    "inspection": "检查组督导",
}
CASE_SOURCES = {"dispatch": "调度单", "duban": "督办单", "manual": "办公室登记"}
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
REASON_MAX = 500
ACTION_MAX = 300
_PREFIX = {"return": "R", "excuse": "E", "case_open": "C", "case_action": "A", "case_close": "X"}


class OfficeRecordError(ValueError):
    """A decision that cannot be recorded; the text is Chinese and says what to do."""


def _text(value, what: str, limit: int, required: bool = True) -> str:
    text = unicodedata.normalize("NFC", str(value or "")).strip()
    if required and not text:
        raise OfficeRecordError(f"请填写{what}。")
    if len(text) > limit:
        raise OfficeRecordError(f"{what}不超过{limit}字（现为{len(text)}字）。")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise OfficeRecordError(f"{what}含有不可见的控制字符，请删除后重试。")
    return text


class OfficeRecord:
    """The append-only record of one ``$ROADSAFE_HOME``."""

    def __init__(self, home: Path):
        self.root = Path(home) / "office"
        self.path = self.root / "record.jsonl"
        self.evidence = self.root / "evidence"

    # ------------------------------------------------------------------ reading
    def entries(self, campaign: str | None = None) -> list[dict]:
        """Every entry in the order recorded (of one campaign when given)."""
        return [e for e in read_json_lines(self.path) if campaign is None or e.get("campaign") == campaign]

    def evidence_path(self, sha256: str, ext: str) -> Path:
        if not (len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)) or ext not in _EXTS:
            raise OfficeRecordError("证明材料编号无效。")
        return self.evidence / sha256[:2] / f"{sha256}.{ext}"

    # ------------------------------------------------------------------ writing
    def append(self, kind: str, *, campaign: str, by: str, at: str, reason: str, **fields) -> dict:
        """Check and append one decision; returns the entry as recorded (with ``seq`` and ``id``).

        Raises
        ------
        OfficeRecordError
            Missing reason or actor, unknown kind, a second return of the same file, a second excuse of
            the same submission, an action on a closed or unknown case.
        """
        if kind not in _PREFIX:
            raise OfficeRecordError(f"未知的事项类型：{kind}")
        entry = {
            "kind": kind,
            "campaign": campaign,
            "by": _text(by, "操作人", 100),
            "at": dt.datetime.fromisoformat(at).isoformat(),
            "reason": _text(reason, "理由（情况说明）", REASON_MAX),
            **_fields(kind, fields),
        }
        private_dir(self.root)
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            existing = self.entries()
            _check_against(entry, [e for e in existing if e.get("campaign") == campaign])
            same_kind = sum(1 for e in existing if e["kind"] == kind and e.get("campaign") == campaign)
            entry = {"seq": len(existing) + 1, "id": f"{_PREFIX[kind]}{same_kind + 1:04d}", **entry}
            append_json_line(self.path, entry)
        return entry

    def store_evidence(self, data: bytes, name: str) -> dict:
        """Keep an evidence file (type told by content, size limited); returns sha256, ext, size, name."""
        shown = _text(Path(str(name or "")).name, "文件名", 120)
        if not data:
            raise OfficeRecordError(f"证明材料“{shown}”是空文件，请重新选择。")
        if len(data) > MAX_EVIDENCE_BYTES:
            raise OfficeRecordError(
                f"证明材料“{shown}”超过{MAX_EVIDENCE_BYTES // (1024 * 1024)}MB，请压缩或拆分后上传。"
            )
        ext = _sniff(data)
        if ext is None:
            raise OfficeRecordError(
                f"证明材料“{shown}”的格式无法识别：只接受PDF、JPG、PNG图片或Word、Excel（.docx/.xlsx）文件。"
            )
        sha = hashlib.sha256(data).hexdigest()
        target = self.evidence_path(sha, ext)
        if not target.exists():
            private_dir(target.parent)
            tmp = target.parent / f".{sha}.{os.getpid()}.part"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(tmp, 0o400)
            try:
                os.link(tmp, target)
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
            fsync_dir(target.parent)
        return {"sha256": sha, "ext": ext, "size": len(data), "name": shown}


# ---------------------------------------------------------------------- checks

_EXTS = ("pdf", "png", "jpg", "docx", "xlsx")


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        try:  # the central directory only: nothing is extracted, so no zip bomb can unfold
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if len(names) > 5000 or "[Content_Types].xml" not in names:
            return None
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
    return None


def _fields(kind: str, given: dict) -> dict:
    def need(key: str, what: str) -> str:
        return _text(given.get(key), what, 100)

    if kind in ("return", "excuse"):
        out = {"form_code": need("form_code", "报表"), "unit_id": need("unit_id", "单位")}
        try:
            out["period_no"] = int(given.get("period_no"))
        except (TypeError, ValueError):
            raise OfficeRecordError("请填写周次（数字）。") from None
        if kind == "return":
            out["submission_id"] = need("submission_id", "回执编号")
        return out
    if kind == "case_open":
        case_kind = str(given.get("case_kind") or "")
        if case_kind not in CASE_KINDS:
            raise OfficeRecordError("督办方式须为：" + "、".join(CASE_KINDS.values()) + "。")
        source = str(given.get("source") or "manual")
        if source not in CASE_SOURCES:
            raise OfficeRecordError("案件来源须为调度单、督办单或办公室登记。")
        task = given.get("task_no")
        try:
            task_no = None if task in (None, "") else int(task)
        except (TypeError, ValueError):
            raise OfficeRecordError(f"任务序号应为数字，收到“{task}”。") from None
        return {
            "unit_id": need("unit_id", "单位"),
            "case_kind": case_kind,
            "task_no": task_no,
            "source": source,
            "source_ref": _text(given.get("source_ref"), "来源编号", 100, required=False) or None,
            "title": _text(given.get("title"), "督办事项", 200),
        }
    if kind == "case_action":
        on = given.get("on_date")
        try:
            on_date = on if isinstance(on, dt.date) else dt.date.fromisoformat(str(on))
        except ValueError:
            raise OfficeRecordError(f"日期格式应为2022-05-12，收到“{on}”。") from None
        return {
            "case_id": need("case_id", "案件编号"),
            "action": _text(given.get("action"), "措施", ACTION_MAX),
            "on_date": on_date.isoformat(),
        }
    evidence = given.get("evidence")
    if not isinstance(evidence, dict) or not evidence.get("sha256"):
        raise OfficeRecordError("销号须附证明材料（整改报告、检查记录等），请上传后再销号。")
    return {"case_id": need("case_id", "案件编号"), "evidence": evidence}


def _check_against(entry: dict, earlier: list[dict]) -> None:
    kind = entry["kind"]
    if kind == "return":
        if any(e["kind"] == "return" and e["submission_id"] == entry["submission_id"] for e in earlier):
            raise OfficeRecordError(f"回执{entry['submission_id']}已退回过，无需重复退回。")
    elif kind == "excuse":
        key = (entry["form_code"], entry["unit_id"], entry["period_no"])
        if any(e["kind"] == "excuse" and (e["form_code"], e["unit_id"], e["period_no"]) == key for e in earlier):
            raise OfficeRecordError("该单位该周次的这张报表已有情况说明，无需重复登记。")
    elif kind in ("case_action", "case_close"):
        found = {c.case_id: c for c in cases(earlier)}.get(entry["case_id"])
        if found is None:
            raise OfficeRecordError(f"找不到案件{entry['case_id']}。")
        if found.closed is not None:
            raise OfficeRecordError(f"案件{entry['case_id']}已销号，不能再登记。")


# ---------------------------------------------------------------------- views


@dataclass
class Case:
    """One case of the enforcement register, as its entries tell it."""

    case_id: str
    unit_id: str
    case_kind: str
    task_no: int | None
    source: str
    source_ref: str | None
    title: str
    reason: str
    opened_by: str
    opened_at: str
    actions: list[dict] = field(default_factory=list)
    closed: dict | None = None

    @property
    def kind_name(self) -> str:
        return CASE_KINDS[self.case_kind]

    @property
    def is_open(self) -> bool:
        return self.closed is None


def returns(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["kind"] == "return"]


def excuses(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["kind"] == "excuse"]


def cases(entries: list[dict]) -> list[Case]:
    """The register's cases in order of opening, each with its actions and close-out."""
    found: dict[str, Case] = {}
    for e in entries:
        if e["kind"] == "case_open":
            found[e["id"]] = Case(
                e["id"], e["unit_id"], e["case_kind"], e["task_no"], e["source"], e.get("source_ref"),
                e["title"], e["reason"], e["by"], e["at"],
            )  # fmt: skip
        elif e["kind"] == "case_action" and e["case_id"] in found:
            found[e["case_id"]].actions.append(e)
        elif e["kind"] == "case_close" and e["case_id"] in found:
            found[e["case_id"]].closed = e
    return list(found.values())


def decision_rows(entries: list[dict]) -> dict[str, list[dict]]:
    """The rows of the ``ref.office_*`` tables (dicts by column name) from one campaign's entries."""
    at = dt.datetime.fromisoformat
    out: dict[str, list[dict]] = {"office_returns": [], "office_excuses": [], "office_cases": [],
                                  "office_case_actions": []}  # fmt: skip
    for e in returns(entries):
        out["office_returns"].append(
            {"return_id": e["id"], "submission_id": e["submission_id"], "form_code": e["form_code"],
             "unit_id": e["unit_id"], "period_no": e["period_no"], "reason": e["reason"],
             "decided_by": e["by"], "decided_at": at(e["at"])}
        )  # fmt: skip
    for e in excuses(entries):
        out["office_excuses"].append(
            {"excuse_id": e["id"], "form_code": e["form_code"], "unit_id": e["unit_id"],
             "period_no": e["period_no"], "reason": e["reason"], "decided_by": e["by"],
             "decided_at": at(e["at"])}
        )  # fmt: skip
    for c in cases(entries):
        closed = c.closed or {}
        evidence = closed.get("evidence") or {}
        out["office_cases"].append(
            {"case_id": c.case_id, "unit_id": c.unit_id, "task_no": c.task_no, "case_kind": c.case_kind,
             "kind_name": c.kind_name, "source": c.source, "source_ref": c.source_ref, "title": c.title,
             "reason": c.reason, "opened_by": c.opened_by, "opened_at": at(c.opened_at),
             "closed_by": closed.get("by"), "closed_at": at(closed["at"]) if closed else None,
             "close_note": closed.get("reason"), "evidence_name": evidence.get("name"),
             "evidence_sha256": evidence.get("sha256")}
        )  # fmt: skip
        for n, a in enumerate(c.actions, start=1):
            out["office_case_actions"].append(
                {"case_id": c.case_id, "action_no": n, "action": a["action"],
                 "on_date": dt.date.fromisoformat(a["on_date"]), "note": a["reason"], "decided_by": a["by"],
                 "decided_at": at(a["at"])}
            )  # fmt: skip
    return out
