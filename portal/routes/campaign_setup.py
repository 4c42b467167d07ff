"""``/campaign-setup`` (the office): set up a campaign from its 责任分工表, as ``roadsafe campaign import`` does.

1. ``POST /campaign-setup``: the table is received like an upload (size limit, type told by the content:
   Excel .xlsx/.xls, CSV or a Word .docx whose table is read; an old binary .doc is refused with the way
   round it), kept in a private staging
   folder, and imported as a draft (new unit names listed for confirmation, not refused): the page shows the
   Chinese report — the cells it could not interpret (errors, to correct in the table), what to confirm
   (new units, odd deadlines, targets picked out of the task text) — and the tasks as read.
2. ``POST /campaign-setup/confirm``: the same staged table imported again with the same options and written
   with :func:`roadsafe.campaign.imported.write_imported` under ``$ROADSAFE_HOME/campaigns/<code>/`` (whole
   or not at all; refused while the table has errors). The folder records who imported it and when
   (``导入记录.json``), and the portal log says so.

The portal writes only inside ``$ROADSAFE_HOME/campaigns/``: the staging folders are hidden folders there
(``.setup-<token>``, 0700, never a campaign code), removed on confirmation or after a day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from portal.errors import PortalError
from portal.pages import render
from portal.uploads import UploadRefused, display_name, sniff_type

__all__ = ["MAX_TABLE_BYTES", "router"]

router = APIRouter()
log = logging.getLogger("roadsafe.portal")

MAX_TABLE_BYTES = 5 * 1024 * 1024  # a 责任分工表 is a few dozen rows; the portal's upload limit bounds it too
_STAGING_PREFIX = ".setup-"
_STAGING_DAYS = 1
_RECORD = "导入记录.json"
_TABLE_KINDS = ("xlsx", "xls", "csv", "docx")  # what the import reads (a form upload may be more)
_NOT_A_TABLE = (
    "文件类型不符合要求：责任分工表只接受 Excel 工作簿（.xlsx、.xls）、CSV 文件或 Word 文档（.docx），"
    "系统按文件内容判断类型。"
)
_FIELDS = ("code", "like", "name", "document", "year", "start", "end")
_WORD = (
    "这是旧版 Word 文档（.doc）或 WPS 文档，系统无法读取其中的表格。请在 Word 或 WPS 中打开，"
    "另存为 .docx 或 .xlsx 文件后上传（表头保留“序号”“工作任务”“牵头单位”“配合单位”“完成时限”等列）。"
)


def _root(portal) -> Path:
    from roadsafe.campaign import office_campaigns_dir

    return office_campaigns_dir(portal.settings.home)


def _office_campaigns(portal) -> list[str]:
    from roadsafe.campaign import CODE_PATTERN

    root = _root(portal)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and CODE_PATTERN.fullmatch(p.name))


def _templates(portal) -> list[str]:
    from roadsafe.campaign import CODE_PATTERN, campaigns_dir

    shipped = [p.name for p in campaigns_dir().iterdir() if p.is_dir() and CODE_PATTERN.fullmatch(p.name)]
    return sorted({*shipped, *_office_campaigns(portal)})


def _page(portal, request, session, status: int = 200, **ctx):
    base = {
        "templates": _templates(portal),
        "like": portal.campaign.code,
        "existing": _office_campaigns(portal),
        "max_mb": MAX_TABLE_BYTES // (1024 * 1024),
        "values": {},
    }
    return render(portal, request, "campaign_setup.html", status=status, session=session, **{**base, **ctx})


@router.get("/campaign-setup")
def setup_page(request: Request):
    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    return _page(portal, request, session)


def _code_problem(portal, code: str) -> str | None:
    from roadsafe.campaign import CODE_PATTERN, campaigns_dir

    if not code:
        return "请填写活动代码。"
    if len(code) > 40 or not CODE_PATTERN.fullmatch(code):
        return f"活动代码“{code}”只能由小写字母、数字和连字符组成（不超过40个字符），且不以连字符开头。"
    if (campaigns_dir() / code).is_dir():
        return f"活动代码“{code}”已被程序自带的活动使用，请改用其他代码。"
    if (_root(portal) / code).exists():
        return f"活动“{code}”已导入，请改用其他代码（如需重新导入，请联系技术人员先删除原活动）。"
    return None


def _date(text: str, what: str) -> str | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise PortalError(400, f"{what}“{text}”不是日期，请按 2022-04-07 的格式填写。") from None


def _options(portal, posted) -> dict:
    """The import options from the posted form, checked (PortalError with a Chinese message)."""
    code = str(posted.get("code") or "").strip()
    if problem := _code_problem(portal, code):
        raise PortalError(400, problem)
    like = str(posted.get("like") or portal.campaign.code).strip()
    if like not in _templates(portal):
        raise PortalError(400, f"参照活动“{like}”不存在，请从列表中选择。")
    name = " ".join(str(posted.get("name") or "").split())[:100] or None
    document = " ".join(str(posted.get("document") or "").split())[:60] or None
    year_text = str(posted.get("year") or "").strip()
    if year_text and not (year_text.isdigit() and 2000 <= int(year_text) <= 2100):
        raise PortalError(400, f"年份“{year_text}”不正确，请填写四位年份，如 2022。")
    start = _date(str(posted.get("start") or "").strip(), "开始日期")
    end = _date(str(posted.get("end") or "").strip(), "结束日期")
    if start and end and end < start:
        raise PortalError(400, "结束日期早于开始日期，请检查。")
    return {
        "code": code, "like": like, "name": name, "document": document, "start": start, "end": end,
        "year": int(year_text) if year_text else None,
    }  # fmt: skip


def _import(portal, table: Path, options: dict):
    """Run the import (as ``roadsafe campaign import --draft`` reads it): the result, nothing written."""
    from roadsafe.campaign import campaign_root, load_campaign, read_yaml
    from roadsafe.campaign.table_import import TableOptions, import_table

    home = portal.settings.home
    template = load_campaign(options["like"], home=home)
    root = campaign_root(options["like"], home)
    docs = {name: read_yaml(root / f"{name}.yml") for name in ("campaign", "units", "forms")}
    opts = TableOptions(
        code=options["code"],
        name=options["name"],
        start=dt.date.fromisoformat(options["start"]) if options["start"] else None,
        end=dt.date.fromisoformat(options["end"]) if options["end"] else None,
        document=options["document"],
        year=options.get("year"),
        accept_new_units=True,
    )
    return import_table(table, template, docs, opts)


def _words(problem) -> str:
    """A problem's Chinese text, pointing at this page's fields rather than the command line's."""
    return problem.text().replace("或 --year", "或本页的“年份”")


def _report(portal, result) -> dict:
    """What the page shows of an import: counts, problems and the tasks as read."""
    names = {u.id: u.name for u in portal.campaign.units.values()}
    names.update({u.get("id"): u.get("name") for u in result.new_units})

    def units(ids) -> str:
        return "、".join(names.get(i, i) for i in ids or [])

    tasks = [
        {
            "no": t.get("no"),
            "title": t.get("title", ""),
            "lead": units(t.get("lead")),
            "co": units(t.get("co")),
            "deadline": t["deadline"].isoformat() if t.get("deadline") else "未能识别",
        }
        for t in result.tasks
    ]
    return {
        "sheet": result.sheet,
        "title": result.title,
        "errors": [_words(p) for p in result.errors],
        "confirm": [_words(p) for p in result.to_confirm],
        "new_units": [u.get("name", "") for u in result.new_units],
        "tasks": tasks,
    }


def _purge_stale(root: Path) -> None:
    if not root.is_dir():
        return
    cutoff = time.time() - _STAGING_DAYS * 86400
    for folder in root.iterdir():
        if folder.name.startswith(_STAGING_PREFIX) and folder.lstat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def _stage(portal, data: bytes, kind: str, label: str, options: dict, login: str) -> str:
    """Keep the table and its options in a private staging folder; returns its token."""
    from roadsafe.durable import private_dir

    root = _root(portal)
    root.mkdir(parents=True, exist_ok=True)
    _purge_stale(root)
    token = secrets.token_hex(16)
    folder = private_dir(root / f"{_STAGING_PREFIX}{token}")
    table = folder / f"table.{kind}"
    fd = os.open(table, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    meta = {
        **options,
        "kind": kind,
        "original_name": label,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "staged_by": login,
        "staged_at": portal.clock.now().isoformat(),
    }
    (folder / "options.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return token


def _staged(portal, token: str) -> tuple[Path, dict]:
    if not (len(token) == 32 and all(c in "0123456789abcdef" for c in token)):
        raise PortalError(400, "导入草稿不存在或已过期，请重新上传责任分工表。")
    folder = _root(portal) / f"{_STAGING_PREFIX}{token}"
    try:
        meta = json.loads((folder / "options.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise PortalError(404, "导入草稿不存在或已过期，请重新上传责任分工表。") from None
    return folder, meta


def _table_of(folder: Path, meta: dict) -> Path:
    """The staged table under the name the office gave it (the import reports and keeps that name)."""
    named = folder / "named"
    named.mkdir(exist_ok=True)
    target = named / meta["original_name"]
    if not target.exists():
        shutil.copyfile(folder / f"table.{meta['kind']}", target)
    return target


@router.post("/campaign-setup")
async def setup_preview(request: Request):
    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    posted = await request.form(max_files=1, max_fields=16)
    try:
        if not portal.auth.csrf_ok(session, posted.get("csrf_token")):
            raise PortalError(403, "安全校验未通过（页面已过期），请刷新页面后重新上传。")
        values = {k: str(posted.get(k) or "") for k in _FIELDS}
        try:
            options = _options(portal, posted)
        except PortalError as exc:
            return _page(portal, request, session, exc.status, refused=exc.message, values=values)
        upload = posted.get("file")
        if upload is None or isinstance(upload, str) or not getattr(upload, "filename", None):
            return _page(portal, request, session, 400, refused="请选择责任分工表文件。", values=values)
        data = await upload.read(MAX_TABLE_BYTES + 1)
        filename = upload.filename
    finally:
        await posted.close()
    try:
        if len(data) > MAX_TABLE_BYTES:
            raise UploadRefused(
                413, f"文件超过{MAX_TABLE_BYTES // (1024 * 1024)}MB，责任分工表不应这么大，请检查后重新上传。"
            )
        if data.startswith(b"PK") and b"word/document.xml" in data[:65536]:
            kind = "docx"  # a Word table: the import reads it within its own limits
        else:
            kind = sniff_type(data)
        if kind in ("doc", "wps"):
            raise UploadRefused(415, _WORD)
        if kind not in _TABLE_KINDS:
            raise UploadRefused(415, _NOT_A_TABLE)
    except UploadRefused as exc:
        return _page(portal, request, session, exc.status, refused=exc.message, values=values)
    label = display_name(filename, kind)
    stem = label.rsplit(".", 1)[0] if "." in label else label
    label = f"{stem}.{kind}"
    token = _stage(portal, data, kind, label, options, session.user.login)
    folder, meta = _staged(portal, token)
    try:
        result = await run_in_threadpool(_import, portal, _table_of(folder, meta), options)
    except (OSError, ValueError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _page(portal, request, session, 400, refused=f"{label}：{exc}", values=values)
    log.info("campaign table %s staged by %s for %s", label, session.user.login, options["code"])
    return _page(
        portal, request, session, token=token, meta=meta, report=_report(portal, result), values=values
    )  # fmt: skip


@router.post("/campaign-setup/confirm")
async def setup_confirm(request: Request):
    portal = request.app.state.portal
    session = portal.session_of(request)
    portal.need_office(session)
    posted = await request.form(max_files=0, max_fields=4)
    try:
        if not portal.auth.csrf_ok(session, posted.get("csrf_token")):
            raise PortalError(403, "安全校验未通过（页面已过期），请刷新页面后重新上传。")
        token = str(posted.get("token") or "")
    finally:
        await posted.close()
    folder, meta = _staged(portal, token)
    if problem := _code_problem(portal, meta["code"]):
        raise PortalError(409, problem)
    from roadsafe.campaign.imported import write_imported

    def write():
        result = _import(portal, _table_of(folder, meta), meta)
        if result.errors:
            return result, [_words(p) for p in result.errors], False
        target = _root(portal) / meta["code"]
        problems = write_imported(result, target, draft=False)
        return result, problems, target.is_dir()

    result, problems, written = await run_in_threadpool(write)
    report = _report(portal, result)
    if not written:
        return _page(
            portal, request, session, 422, token=token, meta=meta, report=report, not_written=problems,
            values={k: meta.get(k) or "" for k in _FIELDS},
        )  # fmt: skip
    target = _root(portal) / meta["code"]
    record = {
        "imported_by": session.user.login,
        "imported_at": portal.clock.now().isoformat(),
        "original_name": meta["original_name"],
        "sha256": meta["sha256"],
        "size": meta["size"],
        "like": meta["like"],
        "tasks": len(result.tasks),
        "to_confirm": report["confirm"],
        "load_problems": problems,
    }
    (target / _RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    log.info(
        "campaign %s imported by %s from %s (sha256 %s, %d tasks)",
        meta["code"], session.user.login, meta["original_name"], meta["sha256"], len(result.tasks),
    )  # fmt: skip
    return _page(portal, request, session, done=meta["code"], meta=meta, report=report, record=record)
