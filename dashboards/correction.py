"""更正: a published edition that turns out wrong is never replaced; a correction edition says what changed.

:func:`correct` freezes the same edition again from the current published snapshot (with the office's
按语 and wording as signed, and any wording the office corrects now), compares it with the edition of record
— every figure of its tables and every paragraph — and issues ``关于工作通报第N期（…）的更正``: the changed
figures and paragraphs, old → new, the reason, e-mailed to the original's recipients. It lives in
``reports/corrections/<kind>/<ref>/<n>/`` (its own snapshot, ``correction.json``, HTML, PDF and XLSX); the
original edition is not touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dashboards.audit import append_audit
from dashboards.editions import Edition
from dashboards.review import REVIEW_FILE, ReviewError, check_reword, paragraphs, read_review
from roadsafe.durable import fsync_dir, private_dir
from roadsafe.wording import campaign_now, cn_numeral

__all__ = ["Change", "Correction", "compare_documents", "correct", "list_corrections"]

# Columns that name a row of an edition's sheet (the rest are its figures).
_KEY_COLUMNS = (
    "类别",
    "指标编号",
    "序号",
    "任务编号",
    "报表",
    "单位",
    "牵头单位",
    "得分项",
    "细项",
    "所属周次",
)
# Raw copies of a formatted column (the change is listed once, as printed).
_RAW_COLUMNS = ("实际值", "序时进度值", "目标值")


@dataclass(frozen=True)
class Change:
    """One difference: ``place`` (a sheet, or 正文), ``item`` (the row or paragraph), ``column``, old → new."""

    place: str
    item: str
    column: str
    old: str
    new: str

    @property
    def is_text(self) -> bool:
        return self.place == "正文"


@dataclass(frozen=True)
class Correction:
    folder: Path
    data: dict

    @property
    def changes(self) -> list[Change]:
        return [Change(**c) for c in self.data["changes"]]

    def outputs(self) -> dict[str, Path]:
        return {ext: self.folder / f"correction.{ext}" for ext in ("html", "pdf", "xlsx")}


def _root(settings, kind: str, ref: str) -> Path:
    return settings.reports / "corrections" / kind / ref


def list_corrections(settings, kind: str, ref: str) -> list[Correction]:
    base = _root(settings, kind, ref)
    if not base.is_dir():
        return []
    out = []
    for folder in sorted((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)):
        if (folder / "correction.json").is_file():
            out.append(
                Correction(folder, json.loads((folder / "correction.json").read_text(encoding="utf-8")))
            )
    return out


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _rows(sheet) -> dict[str, dict]:
    frame = sheet.frame
    keys = [c for c in frame.columns if c in _KEY_COLUMNS] or frame.columns[:1]
    out: dict[str, dict] = {}
    for record in frame.iter_rows(named=True):
        label = " ".join(_cell(record[k]) for k in keys)
        name, n = label, 2
        while name in out:
            name, n = f"{label}（{n}）", n + 1
        out[name] = {c: v for c, v in record.items() if c not in keys and c not in _RAW_COLUMNS}
    return out


def compare_documents(old, new) -> list[Change]:
    """Every changed paragraph, then every changed figure, of two documents of the same edition."""
    changes = []
    old_p = {p.key: p.text for p in paragraphs(old.html)}
    new_p = {p.key: p.text for p in paragraphs(new.html)}
    for key in sorted(set(old_p) | set(new_p), key=lambda k: int(k[1:])):
        a, b = old_p.get(key, "（无）"), new_p.get(key, "（删去）")
        if a != b:
            changes.append(Change("正文", f"第{key[1:]}段", "", a, b))
    new_sheets = {s.name: s for s in new.sheets if s.name != "封面"}
    for sheet in old.sheets:
        if sheet.name == "封面" or sheet.name not in new_sheets:
            continue
        a, b = _rows(sheet), _rows(new_sheets[sheet.name])
        for item in list(a) + [i for i in b if i not in a]:
            if item not in b:
                changes.append(Change(sheet.name, item, "（整行）", "有", "删去"))
            elif item not in a:
                changes.append(Change(sheet.name, item, "（整行）", "无", "新增"))
            else:
                for column, value in a[item].items():
                    if _cell(value) != _cell(b[item].get(column)):
                        changes.append(
                            Change(sheet.name, item, column, _cell(value), _cell(b[item].get(column)))
                        )
    return changes


def correct(
    settings,
    kind: str,
    ref,
    *,
    who: str,
    reason: str,
    rewordings: dict[str, str] | None = None,
    deliver: bool = True,
    config=None,
) -> tuple[Correction, list[dict]]:
    """Issue a correction of the published edition ``kind``/``ref`` (see the module text).

    ``rewordings`` maps paragraph keys (``p3``) to corrected wording (figures and units as in the corrected
    data). Raises :class:`ReviewError` when the edition is not published, no reason is given, or nothing
    changed.
    """
    from dashboards.editions import build_document, plan_edition
    from dashboards.freezing import SnapshotScope, freeze_snapshot
    from dashboards.signoff import find_edition

    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("请说明更正原因（例如：都昌县补报了第5周的隐患台账，相关数据有变化）。")
    state = find_edition(settings, kind, ref)
    if state.state == "draft":
        raise ReviewError("该期尚未签发，直接修改草稿即可，无需更正。")
    original = state.edition
    campaign = settings.campaign()
    now = campaign_now(campaign).replace(microsecond=0)
    number = len(list_corrections(settings, original.meta.kind, original.meta.ref)) + 1
    folder = _root(settings, original.meta.kind, original.meta.ref) / str(number)
    private_dir(folder.parent)
    staging = folder.with_name(f".{number}.correcting-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        meta = plan_edition(settings, original.meta.kind, original.meta.ref, frozen_at=now, campaign=campaign)
        freeze_snapshot(
            settings.published, staging / "snapshot.duckdb", SnapshotScope(meta.period_no, meta.month)
        )
        meta.write(staging)
        fresh = Edition(staging, meta)
        review = _carry_review(fresh, read_review(original.folder), rewordings or {})
        (staging / REVIEW_FILE).write_text(
            json.dumps(review, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        changes = compare_documents(build_document(original), build_document(fresh))
        if not changes:
            raise ReviewError(
                f"与原{original.meta.report_name}第{original.meta.issue_no}期相比，数据和文字均无变化，无需发布更正。"
            )
        data = {
            "kind": original.meta.kind,
            "ref": original.meta.ref,
            "number": number,
            "original_issue_no": original.meta.issue_no,
            "reason": reason,
            "who": who,
            "at": now.isoformat(),
            "changes": [dataclasses.asdict(c) for c in changes],
        }
        _render(staging, meta, original, data, now)
        (staging / "correction.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        staging.rename(folder)
        fsync_dir(folder.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result = Correction(folder, data)
    append_audit(
        settings, "correct", who=who, reason=reason, kind=original.meta.kind, ref=original.meta.ref,
        issue_no=original.meta.issue_no, number=number, changes=len(changes),
    )  # fmt: skip
    deliveries = _deliver(result, original, config) if deliver else []
    return result, deliveries


def _carry_review(fresh: Edition, signed: dict, asked: dict[str, str]) -> dict:
    """The signed 按语 and wording, carried to the corrected data where the generated paragraph is unchanged,
    plus the wording corrected now (checked against the corrected figures)."""
    from dashboards.editions import build_document

    raw = {p.key: p.text for p in paragraphs(build_document(fresh, review=False).html)}
    con = fresh.connect()
    try:
        units = [
            r[0] for r in con.execute("select name from ref.units order by length(name) desc").fetchall()
        ]
    finally:
        con.close()
    kept = {k: v for k, v in (signed.get("rewordings") or {}).items() if raw.get(k) == v["original"]}
    for key, text in asked.items():
        if key not in raw:
            raise ReviewError(f"本期没有第{key.removeprefix('p')}段可修改的文字。")
        text = " ".join(text.split())
        try:
            check_reword(raw[key], text, units)
        except ReviewError as exc:
            raise ReviewError(f"第{key.removeprefix('p')}段：{exc}") from None
        kept[key] = {"original": raw[key], "text": text}
    return {"note": signed.get("note"), "rewordings": kept}


def _render(folder: Path, meta, original: Edition, data: dict, now: dt.datetime) -> None:
    import polars as pl

    from dashboards.formatting import issue_label
    from dashboards.narrative import base_context
    from dashboards.rendering import Document, render_template, write_document
    from dashboards.workbook import Sheet

    changes = [Change(**c) for c in data["changes"]]
    figure_rows = [c for c in changes if not c.is_text]
    text_rows = [c for c in changes if c.is_text]
    stated = dataclasses.replace(meta, issue_at=now)
    context = base_context(stated)
    parts = (["figures"] if figure_rows else []) + (["texts"] if text_rows else []) + ["rest"]
    original_issue = issue_label(original.meta.issue_no)
    context["issue"] = f"{original_issue}更正" + (
        f"（{cn_numeral(data['number'])}）" if data["number"] > 1 else ""
    )
    what = "、".join((["部分数据"] if figure_rows else []) + (["部分文字表述"] if text_rows else []))
    opening = (
        f"{original.meta.report_name}{original_issue}（{original.meta.label}）印发后，{data['reason'].rstrip('。')}，"
        f"{what}需要更正。现将更正内容通报如下。"
    )
    html = render_template(
        "correction.html.j2", **context, num={p: cn_numeral(i) for i, p in enumerate(parts, 1)},
        original_issue=original_issue, opening=opening, figure_rows=figure_rows, text_rows=text_rows,
    )  # fmt: skip
    frame = pl.DataFrame(
        {
            "位置": [c.place for c in changes],
            "项目": [c.item for c in changes],
            "栏目": [c.column for c in changes],
            "原为": [c.old for c in changes],
            "更正为": [c.new for c in changes],
        }
    )
    title = f"{meta.title}（{original_issue}）更正"
    summary = "\n".join(
        [title, opening, *(f"{c.place} {c.item} {c.column}：{c.old} → {c.new}" for c in changes)]
    )
    document = Document("correction", title, html, [Sheet("更正明细", frame, title=title)], summary)
    write_document(document, folder, created=now, author=meta.campaign.office)


def _deliver(result: Correction, original: Edition, config) -> list[dict]:
    """E-mail the correction to the original edition's recipients (once: ``delivery.json``)."""
    from email.message import EmailMessage

    from dashboards.delivery import SmtpConfig, recipients_for, send_message

    record = result.folder / "delivery.json"
    if record.is_file():
        return [{**json.loads(record.read_text(encoding="utf-8")), "status": "already_sent"}]
    config = config or SmtpConfig.from_env()
    meta = original.meta
    recipients = recipients_for(original)
    files = result.outputs()
    msg = EmailMessage()
    msg["Subject"] = f"{meta.title}（第{meta.issue_no}期，{meta.label}）更正"
    msg["From"] = config.sender
    msg["To"] = ", ".join(recipients)
    text = (result.folder / "correction.txt").read_text(encoding="utf-8")
    msg.set_content(f"{text}\n——{meta.campaign.office}\n", charset="utf-8")
    msg.add_alternative(files["html"].read_text(encoding="utf-8"), subtype="html", charset="utf-8")
    msg.add_attachment(files["pdf"].read_bytes(), maintype="application", subtype="pdf",
                       filename=f"{msg['Subject']}.pdf")  # fmt: skip
    msg.add_attachment(
        files["xlsx"].read_bytes(), maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=f"{msg['Subject']}.xlsx",
    )  # fmt: skip
    refused = send_message(msg, config, recipients)
    out = {"kind": meta.kind, "ref": meta.ref, "status": "sent", "recipients": recipients,
           "refused": sorted(refused), "subject": msg["Subject"],
           "sent_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()}  # fmt: skip
    record.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [out]
