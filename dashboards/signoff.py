"""审核签发: a scheduled edition is first a draft the office reviews, annotates and signs.

A draft is an edition folder under ``$ROADSAFE_HOME/drafts/<kind>/<ref>/``: its own frozen snapshot (the
marts cut at its period, exactly as :func:`dashboards.editions.freeze` cuts them), ``edition.json``, the
office's review ``signoff.json`` (按语, reworded paragraphs), the page ``<stem>.html`` as it would be issued
and ``paragraphs.json`` (the generated wording, keyed ``p1`` …). What the office reviews is what is issued:

- :func:`set_note` / :func:`reword` change the review (a rewording that changes a figure or a unit is
  refused, :class:`~dashboards.review.ReviewError`), and render the page again;
- :func:`sign` moves the folder into ``reports/<kind>/<ref>/`` (the record; a published edition is never
  replaced), renders HTML, PDF and XLSX with the review applied, and e-mails it;
- :func:`issue` is what the schedule does at the issue time: a signed edition is delivered; a draft nobody
  signed is, by the campaign's ``editions.unsigned``, signed automatically (``publish``, recorded as 自动签发)
  or kept back while the office is told by e-mail that it awaits signature (``wait``).

Every action is appended to the audit record (:mod:`dashboards.audit`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from dashboards.audit import append_audit
from dashboards.edition_meta import KINDS, MONTHLY_KINDS, SPAN_KINDS, WEEKLY_KINDS
from dashboards.editions import (
    STEMS,
    Edition,
    edition_dir,
    list_editions,
    monthly_ref,
    open_edition,
    span_ref,
    weekly_ref,
)
from dashboards.review import MAX_NOTE, REVIEW_FILE, ReviewError, check_reword, paragraphs, read_review
from roadsafe.durable import fsync_dir, private_dir, process_alive
from roadsafe.wording import campaign_now, cn_date, cn_moment, local

__all__ = [
    "EditionState",
    "ReviewError",
    "draft_dir",
    "edition_states",
    "find_edition",
    "issue",
    "normal_ref",
    "prepare_draft",
    "prepare_for_day",
    "read_paragraphs",
    "render_step",
    "reword",
    "set_note",
    "sign",
]

SYSTEM = "系统"
_STATE_TEXT = {"draft": "待签发", "signed": "已签发", "auto": "自动签发", "published": "已发布"}


def normal_ref(kind: str, ref) -> str:
    """``week-05`` / ``2022-05`` / ``period-01`` / ``final`` from what a user types (``5``, ``week-05`` …)."""
    if kind not in KINDS:
        raise ReviewError(f"未知的报告类型：{kind}（应为 {'、'.join(KINDS)} 之一）")
    try:
        if kind in WEEKLY_KINDS:
            return weekly_ref(int(str(ref).removeprefix("week-")))
        if kind in MONTHLY_KINDS:
            return monthly_ref(str(ref))
        return span_ref(kind, ref)
    except ValueError:
        raise ReviewError(f"期次“{ref}”无法识别（周报写周次，如 5；月报写月份，如 2022-05）。") from None


def drafts_root(settings) -> Path:
    return settings.home / "drafts"


def draft_dir(settings, kind: str, ref: str) -> Path:
    return drafts_root(settings) / kind / normal_ref(kind, ref)


@dataclass(frozen=True)
class EditionState:
    """One edition as the office sees it: a draft, or published (signed, signed automatically, or issued
    before sign-off existed)."""

    edition: Edition
    state: str
    review: dict

    @property
    def state_text(self) -> str:
        return _STATE_TEXT[self.state]

    @property
    def kind(self) -> str:
        return self.edition.meta.kind

    @property
    def ref(self) -> str:
        return self.edition.meta.ref


def _state_of(edition: Edition, review: dict, is_draft: bool) -> EditionState:
    if is_draft:
        return EditionState(edition, "draft", review)
    return EditionState(
        edition, {"signed": "signed", "auto": "auto"}.get(review.get("mode"), "published"), review
    )


def find_edition(settings, kind: str, ref) -> EditionState:
    """The published edition of ``kind``/``ref`` if there is one, else its draft (ReviewError if neither)."""
    ref = normal_ref(kind, ref)
    published = edition_dir(settings, kind, ref)
    if (published / "edition.json").is_file():
        return _state_of(open_edition(published), read_review(published), False)
    draft = draft_dir(settings, kind, ref)
    if (draft / "edition.json").is_file():
        return _state_of(open_edition(draft), read_review(draft), True)
    raise ReviewError(f"找不到该期报告（{kind} {ref}）的草稿或已发布的期次：请先生成草稿。")


def edition_states(settings) -> list[EditionState]:
    """Drafts first (by kind, 期号), then every published edition."""
    drafts = []
    root = drafts_root(settings)
    for kind in KINDS:
        base = root / kind
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if (
                    not folder.name.startswith(".")
                    and (folder / "edition.json").is_file()
                    and not (edition_dir(settings, kind, folder.name)).exists()
                ):
                    drafts.append(_state_of(open_edition(folder), read_review(folder), True))
    drafts.sort(key=lambda s: (KINDS.index(s.kind), s.edition.meta.issue_no))
    published = [_state_of(e, read_review(e.folder), False) for e in list_editions(settings)]
    return drafts + published


@contextlib.contextmanager
def _locked(settings):
    """One sign-off action at a time (the portal, the CLI and the DAG may act on the same draft)."""
    root = private_dir(drafts_root(settings))
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _moment_text(moment: dt.datetime, tz: str) -> str:
    """``2022年5月12日16时05分``."""
    moment = local(moment, tz)
    return f"{cn_date(moment)}{moment.hour}时{moment.minute:02d}分"


def _now(settings) -> dt.datetime:
    return campaign_now(settings.campaign()).replace(microsecond=0)


# --------------------------------------------------------------------------- drafts


def prepare_draft(
    settings,
    kind: str,
    ref,
    *,
    frozen_at: dt.datetime | None = None,
    who: str = SYSTEM,
    campaign=None,
    calendar=None,
) -> EditionState:
    """The draft of an edition, frozen now (or at ``frozen_at``) from the published snapshot; an existing
    draft (with its review) or a published edition is returned as it is."""
    from dashboards.editions import plan_edition
    from dashboards.freezing import SnapshotScope, freeze_snapshot
    from roadsafe.warehouse import SnapshotMissing

    ref = normal_ref(kind, ref)
    campaign = campaign or settings.campaign()
    with _locked(settings):
        try:
            return find_edition(settings, kind, ref)
        except ReviewError:
            pass
        if not settings.published.is_file():
            raise SnapshotMissing(f"找不到已发布的数据快照 {settings.published}：请先运行 roadsafe build。")
        frozen_at = frozen_at or campaign_now(campaign).replace(microsecond=0)
        meta = plan_edition(settings, kind, ref, frozen_at=frozen_at, campaign=campaign, calendar=calendar)
        folder = draft_dir(settings, kind, ref)
        private_dir(folder.parent)
        for left in folder.parent.glob(f".{ref}.drafting-*"):  # a killed process's half-made draft
            if not process_alive(int(left.name.rpartition("-")[2])):
                shutil.rmtree(left, ignore_errors=True)
        staging = folder.with_name(f".{ref}.drafting-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            freeze_snapshot(
                settings.published, staging / "snapshot.duckdb", SnapshotScope(meta.period_no, meta.month)
            )
            meta.write(staging)
            review = {
                "kind": kind,
                "ref": ref,
                "note": None,
                "rewordings": {},
                "prepared_at": frozen_at.isoformat(),
            }
            _write_json(staging / REVIEW_FILE, review)
            staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fsync_dir(folder.parent)
        edition = open_edition(folder)
        _preview(edition, review)
    append_audit(settings, "draft", who=who, kind=kind, ref=ref, issue_no=meta.issue_no, title=meta.title)
    return EditionState(edition, "draft", review)


def _preview(edition: Edition, review: dict) -> Path:
    """Write the draft's page as it would be issued, and its generated paragraphs."""
    from dashboards.editions import build_document
    from dashboards.review import apply_review

    raw = build_document(edition, review=False)
    found = [{"key": p.key, "text": p.text} for p in paragraphs(raw.html)]
    _write_json(edition.folder / "paragraphs.json", found)
    page = edition.folder / f"{edition.stem}.html"
    tmp = page.with_name(f".{page.name}.{os.getpid()}.tmp")
    tmp.write_text(apply_review(raw, edition.folder, review).html, encoding="utf-8", newline="\n")
    os.replace(tmp, page)
    return page


def read_paragraphs(edition: Edition) -> list[dict]:
    """The generated paragraphs of a draft (``key``, ``text``), as keyed for :func:`reword`."""
    path = edition.folder / "paragraphs.json"
    if not path.is_file():
        from dashboards.editions import build_document

        return [
            {"key": p.key, "text": p.text} for p in paragraphs(build_document(edition, review=False).html)
        ]
    return json.loads(path.read_text(encoding="utf-8"))


def _draft(settings, kind: str, ref) -> EditionState:
    state = find_edition(settings, kind, ref)
    if state.state != "draft":
        meta = state.edition.meta
        raise ReviewError(
            f"{meta.title}（第{meta.issue_no}期）已{state.state_text}，不能再修改；如有错误，请发布更正通报。"
        )
    return state


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ReviewError("说明超过500字。")
    return reason


def set_note(settings, kind: str, ref, note: str, *, who: str, reason: str | None = None) -> dict:
    """Set (or, with an empty text, remove) the draft's editor's note (按语)."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ReviewError(f"按语超过{MAX_NOTE}字，请精简。")
    if "<" in note or ">" in note:
        raise ReviewError("按语中不能含有“<”或“>”。")
    reason = _reason(reason)
    with _locked(settings):
        state = _draft(settings, kind, ref)
        review = {**state.review, "note": note or None}
        _write_json(state.edition.folder / REVIEW_FILE, review)
        _preview(state.edition, review)
    append_audit(settings, "note", who=who, reason=reason, kind=state.kind, ref=state.ref, note=note)
    return review


def _unit_names(edition: Edition) -> list[str]:
    con = edition.connect()
    try:
        return [r[0] for r in con.execute("select name from ref.units order by length(name) desc").fetchall()]
    finally:
        con.close()


def reword(settings, kind: str, ref, key: str, text: str, *, who: str, reason: str | None = None) -> dict:
    """Correct the generated wording of paragraph ``key`` (``p3``); the same figures and units must stay.
    A text equal to the generated one removes the correction."""
    reason = _reason(reason)
    with _locked(settings):
        state = _draft(settings, kind, ref)
        original = {p["key"]: p["text"] for p in read_paragraphs(state.edition)}.get(key)
        if original is None:
            raise ReviewError(f"本期没有第{key.removeprefix('p')}段可修改的文字。")
        text = " ".join((text or "").split())
        rewordings = dict(state.review.get("rewordings") or {})
        if text == original:
            rewordings.pop(key, None)
        else:
            try:
                check_reword(original, text, _unit_names(state.edition))
            except ReviewError as exc:
                raise ReviewError(f"第{key.removeprefix('p')}段：{exc}") from None
            rewordings[key] = {"original": original, "text": text}
        review = {**state.review, "rewordings": rewordings}
        _write_json(state.edition.folder / REVIEW_FILE, review)
        _preview(state.edition, review)
    append_audit(
        settings, "reword", who=who, reason=reason, kind=state.kind, ref=state.ref, paragraph=key,
        old=original, new=text,
    )  # fmt: skip
    return review


# --------------------------------------------------------------------------- signing and issuing


def sign(
    settings, kind: str, ref, *, who: str, reason: str | None = None, auto: bool = False, deliver: bool = True,
    config=None,
) -> tuple[EditionState, list[dict]]:  # fmt: skip
    """Sign a draft: it becomes the edition of record (numbered, rendered with its review) and is e-mailed
    to its recipients. Returns the published state and the delivery results."""
    from dashboards.editions import render_edition

    reason = _reason(reason)
    with _locked(settings):
        state = _draft(settings, kind, ref)
        target = edition_dir(settings, state.kind, state.ref)
        if target.exists():
            raise ReviewError(f"{target} 已存在：该期已发布，不能再签发；如有错误，请发布更正通报。")
        now = _now(settings)
        review = {
            **state.review,
            "mode": "auto" if auto else "signed",
            "signed_by": SYSTEM if auto else who,
            "signed_at": now.isoformat(),
            "signed_at_text": _moment_text(now, state.edition.meta.campaign.timezone),
        }
        folder = state.edition.folder
        _write_json(folder / REVIEW_FILE, review)
        (folder / f"{state.edition.stem}.html").unlink(missing_ok=True)  # the preview; rendered again below
        private_dir(target.parent)
        folder.rename(target)
        fsync_dir(target.parent)
        edition = open_edition(target)
        render_edition(edition)
    meta = edition.meta
    append_audit(
        settings, "auto_sign" if auto else "sign", who=review["signed_by"], reason=reason, kind=meta.kind,
        ref=meta.ref, issue_no=meta.issue_no, title=meta.title, note=review.get("note"),
        rewordings=sorted(review.get("rewordings") or {}),
    )  # fmt: skip
    published = EditionState(edition, review["mode"], review)
    deliveries = []
    if deliver:
        from dashboards.delivery import deliver as send

        deliveries = send(settings, target, with_siblings=False, config=config)
    return published, deliveries


def _await_mail(settings, state: EditionState, config) -> dict:
    from email.message import EmailMessage

    from dashboards.delivery import SmtpConfig, send_message
    from dashboards.outreach import portal_url

    meta = state.edition.meta
    recipients = list(meta.campaign.recipients.get("office", []))
    if not recipients:
        raise RuntimeError("活动定义 campaign.yml 的 recipients 中没有 office（整治办）的收件人。")
    config = config or SmtpConfig.from_env()
    tz = meta.campaign.timezone
    link = f"{portal_url().rstrip('/')}/signoff/{meta.kind}/{meta.ref}"
    msg = EmailMessage()
    msg["Subject"] = f"【待签发】{meta.title}（第{meta.issue_no}期，{meta.label}）"
    msg["From"] = config.sender
    msg["To"] = ", ".join(recipients)
    msg.set_content(
        f"{meta.title}（第{meta.issue_no}期，{meta.label}）草稿已生成，原定发布时间为"
        f"{cn_moment(local(meta.issue_at, tz))}。\n"
        "按本活动设置，未经签发的期次不自动发送。请登录数据报送平台“审核签发”页面审阅、添加按语并签发：\n"
        f"{link}\n签发后即按原收件人发送。\n——roadsafe\n",
        charset="utf-8",
    )
    refused = send_message(msg, config, recipients)
    return {"recipients": recipients, "refused": sorted(refused), "subject": msg["Subject"]}


def issue(settings, kind: str, ref, *, config=None) -> dict:
    """What the schedule does at the issue time of one edition: deliver it when signed; otherwise apply the
    campaign's ``editions.unsigned`` (``publish``: sign automatically and deliver; ``wait``: deliver nothing
    and tell the office once). Returns ``status`` (``delivered``/``auto_signed``/``awaiting_signature``)."""
    from dashboards.delivery import deliver as send

    state = prepare_draft(settings, kind, ref)
    if state.state != "draft":
        return {"kind": kind, "ref": state.ref, "status": "delivered",
                "deliveries": send(settings, state.edition.folder, with_siblings=False, config=config)}  # fmt: skip
    policy = settings.campaign().frame.editions.unsigned
    if policy == "publish":
        _state, deliveries = sign(settings, kind, ref, who=SYSTEM, auto=True, config=config,
                                  reason="到发布时间未签发，按活动设置自动签发")  # fmt: skip
        return {"kind": kind, "ref": state.ref, "status": "auto_signed", "deliveries": deliveries}
    with _locked(settings):
        state = _draft(settings, kind, ref)
        reminded = state.review.get("reminded_at")
        if not reminded:
            mail = _await_mail(settings, state, config)
            review = {**state.review, "reminded_at": _now(settings).isoformat()}
            _write_json(state.edition.folder / REVIEW_FILE, review)
    if not reminded:
        append_audit(settings, "await", who=SYSTEM, reason="到发布时间未签发，按活动设置等待签发",
                     kind=kind, ref=state.ref, notified=mail["recipients"])  # fmt: skip
    return {"kind": kind, "ref": state.ref, "status": "awaiting_signature", "reminded": not reminded}


# --------------------------------------------------------------------------- the DAGs' steps


def prepare_for_day(settings, kinds: tuple[str, ...], day: dt.date) -> Path:
    """For the weekly / monthly DAG: the drafts of the edition issued on ``day`` (kept as they are when they
    exist, with the office's review); returns the folder of the first kind (draft or published)."""
    from roadsafe.schedule import build_schedule
    from roadsafe.workcalendar import WorkCalendar

    campaign = settings.campaign()
    if kinds == WEEKLY_KINDS:
        tz = campaign.frame.timezone
        labels = {p.label: p.no for p in campaign.periods()}
        due = [
            i for i in build_schedule(campaign, WorkCalendar.load())
            if i.kind == "weekly_bulletin" and local(i.due_at, tz).date() == day
        ]  # fmt: skip
        if not due:
            raise ValueError(f"{day} 不是工作通报的发布日。")
        ref = weekly_ref(labels[due[0].ref])
    else:
        ref = f"{day:%Y-%m}"
    states = [prepare_draft(settings, kind, ref, campaign=campaign) for kind in kinds]
    return states[0].edition.folder


def render_step(folder: Path, short: str) -> list[Path]:
    """For the DAGs' render tasks: the page of a draft, or the three files of a published edition, of the
    report ``short`` (``bulletin``, ``dispatch``, ``ranking``, ``summary``) of ``folder``'s week or month.
    A report not drafted yet is drafted (never frozen straight into the record)."""
    from dashboards.editions import render_edition
    from roadsafe.settings import Settings

    folder = Path(folder)
    meta = open_edition(folder).meta
    settings = Settings(home=folder.parents[2], campaign_code=meta.campaign.code)
    kind = {v: k for k, v in STEMS.items() if k not in SPAN_KINDS}.get(short, short)
    state = prepare_draft(settings, kind, meta.ref)
    if state.state == "draft":
        return [_preview(state.edition, state.review)]
    if not state.edition.is_rendered():
        render_edition(state.edition)
    return list(state.edition.outputs().values())
