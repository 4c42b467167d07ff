"""Sample submissions of a campaign whose only forms are task reports (the long-term mechanism plan,
九府办发[2022]11号: form L1, one row per task a unit leads, every half year), plus its written documents.

For every period and every expected submitter: an .xlsx task report (title with the period's dates, the
unit, the official headers) with a status that moves from 推进中 towards 已完成 over the periods, its
progress text and, now and then, difficulties; received before the due time, a few late, one missing.
For every document (forms.yml ``kind: document``): a share of the responsible units send it as a .docx
(zipped by hand: the Office Open XML parts Word writes), a few after the due time.

The same ``manifest.jsonl`` as :func:`application.samples.generate_samples` (``path``, ``unit_id``,
``received_at``, …), so :func:`ingest.history.replay_manifest` imports it.

>>> generate_task_samples("jiujiang-longterm-2022", "var/samples/jiujiang-longterm-2022")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["generate_task_samples", "write_docx"]

LATE_SHARE = 0.1
DOCUMENT_SHARE = 0.6  # responsible units that send each document in the sample

_STEPS = (
    "已完成前期摸底，正在制定工作方案",
    "已召开专题会议部署，正在组织实施",
    "已完成阶段性任务，正在巩固提升",
)
_DIFFICULTIES = (
    "部分乡镇专职人员不足，工作推进较慢，建议加强人员配备",
    "资金保障不到位，部分设施建设滞后，建议纳入财政预算",
    "部门间数据共享机制尚未建立，建议由牵头单位统筹协调",
)


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    """A Word document (.docx) of plain paragraphs, zipped by hand."""
    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
            f'PartName="/word/document.xml" ContentType="{main}"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        zf.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            f'wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>',
        )
    return path


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def _received(r: random.Random, due: dt.datetime, earliest: dt.datetime) -> tuple[dt.datetime, bool]:
    if r.random() < LATE_SHARE:
        return due + dt.timedelta(minutes=r.randint(30, 3 * 24 * 60)), True
    span = max(60, int((due - earliest).total_seconds() // 60))
    return due - dt.timedelta(minutes=r.randint(10, min(span, 5 * 24 * 60))), False


def _report(path: Path, campaign, form, unit, period, rows: list[list[str]], filed: dt.date) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = form.name[:31]
    span = f"{period.start.year}年{period.start.month}月{period.start.day}日至{period.end.year}年{period.end.month}月{period.end.day}日"
    ws.append([f"{form.name}（{span}）"])
    ws.append([f"填报单位：{unit.name}", None, f"填报日期：{filed.year}年{filed.month}月{filed.day}日"])
    ws.append([c.header for c in form.columns])
    for row in rows:
        ws.append(row)
    wb.save(path)


def generate_task_samples(campaign, out_dir, *, seed: int = 2022, calendar=None) -> list[dict]:
    """Write the sample files and ``manifest.jsonl`` (ordered by receive time); returns the entries."""
    from roadsafe.schedule import form_due_at, oneoff_due_times

    if isinstance(campaign, str):
        from roadsafe.campaign import load_campaign

        campaign = load_campaign(campaign)
    if calendar is None:
        from roadsafe.workcalendar import WorkCalendar

        calendar = WorkCalendar.load()
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    entries: list[dict] = []
    periods = campaign.periods()
    skipped = random.Random(f"{seed}:missing").choice(campaign.form_submitters(next(iter(campaign.forms))))
    for code, form in campaign.forms.items():
        if form.grain != "task":
            raise ValueError(f"报表 {code} 不是任务推进情况表：本样例只生成按任务报送的报表。")
        status = form.column_with_role("task_status")
        for period in periods:
            due = form_due_at(campaign, calendar, period)
            for unit_id in campaign.form_submitters(code):
                if unit_id == skipped and period.no == periods[-1].no:
                    continue  # one unit never sends its last report: 缺报
                r = random.Random(f"{seed}:{code}:{unit_id}:{period.no}")
                unit = campaign.units[unit_id]
                rows = []
                for task_no in campaign.tasks_led_by(unit_id):
                    done = r.random() < 0.15 + 0.7 * (period.no - 1) / max(1, len(periods) - 1)
                    word = status.values[-1] if done else status.values[min(1, len(status.values) - 1)]
                    values = {
                        status.key: word,
                        "task_no": str(task_no),
                        "progress": f"{unit.name}{r.choice(_STEPS)}。",
                        "difficulties": r.choice(_DIFFICULTIES) if r.random() < 0.2 else "",
                        "evidence": "会议纪要、工作方案" if r.random() < 0.5 else "",
                    }
                    rows.append([values.get(c.key, "") for c in form.columns])
                received, late = _received(r, due, dt.datetime.combine(period.end, dt.time(9), due.tzinfo))
                name = f"{unit.name}{form.name}（{period.label}）.xlsx"
                path = out / str(period.no) / unit_id / name
                path.parent.mkdir(parents=True, exist_ok=True)
                _report(path, campaign, form, unit, period, rows, received.date())
                entries.append(_entry(out, path, unit_id, received, code, late))
    for code, doc in campaign.documents.items():
        oneoff = next(o for o in campaign.frame.oneoffs if o.code == doc.oneoff)
        for occurrence, due in oneoff_due_times(campaign, calendar, oneoff):
            r = random.Random(f"{seed}:{code}:{occurrence}")
            senders = r.sample(
                campaign.responsible_units, round(DOCUMENT_SHARE * len(campaign.responsible_units))
            )
            for unit_id in senders:
                unit = campaign.units[unit_id]
                received, late = _received(r, due, due - dt.timedelta(days=10))
                title = f"{unit.name}{occurrence}{doc.name}"
                path = out / "documents" / unit_id / f"{title}.docx"
                path.parent.mkdir(parents=True, exist_ok=True)
                write_docx(
                    path,
                    [
                        title,
                        f"按照{campaign.frame.document}要求，{unit.name}扎实推进道路交通安全综合治理长效机制建设。",
                        f"一、主要工作：{r.choice(_STEPS)}。",
                        f"二、存在问题：{r.choice(_DIFFICULTIES)}。",
                    ],
                )
                entries.append(_entry(out, path, unit_id, received, code, late))
    entries.sort(key=lambda e: (e["received_at"], e["path"]))
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for e in entries:
            fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    return entries


def _entry(out: Path, path: Path, unit_id: str, received: dt.datetime, code: str, late: bool) -> dict:
    data = path.read_bytes()
    return {
        "path": str(path.relative_to(out)),
        "unit_id": unit_id,
        "received_at": _iso(received),
        "channel": "inbox",
        "form_code": code,
        "expect": "accepted",
        "late": late,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
