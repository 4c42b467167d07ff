"""What a unit is told: the notices of the reminder ladder and the inbox 回执, in official, polite Chinese.

A :class:`Notice` has an identity (:attr:`Notice.key`: campaign, unit, form, period, rung) that the
delivery ledger keys on, so a notice is never sent twice. :func:`notice_message` words it for e-mail (a
subject and a plain-text body) and for a group robot (a markdown text), naming the form, the period, the
due time, what is missing or was rejected and why, and the portal link to upload.

Rungs: ``reminder`` (before the due time), ``overdue`` (after it), ``escalation`` (to the unit's leader and
the office), ``receipt`` (the answer to a file dropped into the unit's shared folder).

Examples
--------
>>> n = Notice("reminder", "F1", "xunyang", 5, "2022-05-12T12:00:00+08:00", "2022-05-11T12:00:00+08:00")
>>> n.key("jiujiang-2022")
'jiujiang-2022/xunyang/F1/5/reminder'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from roadsafe.wording import cn_time

__all__ = ["RUNGS", "Message", "Notice", "notice_message", "receipt_message"]

RUNGS = ("reminder", "overdue", "escalation")

_RUNG_TITLE = {"reminder": "报送提醒", "overdue": "逾期未报通知", "escalation": "逾期未报督促函"}


@dataclass(frozen=True)
class Notice:
    """One rung of the ladder for one expected submission."""

    kind: str  # reminder / overdue / escalation
    form_code: str
    unit_id: str
    period_no: int
    due_at: str  # ISO, campaign time zone
    notify_at: str
    last_status: str | None = None  # status of the unit's latest attempt (e.g. rejected), None if none
    recipients: tuple[str, ...] = ()  # extra recipients (escalation), besides the unit itself
    problems: tuple[str, ...] = ()  # the errors of a rejected latest attempt (first few)
    # a written document (forms.yml ``kind: document``): its occurrence (``""``, ``YYYY-MM``, ``YYYY``)
    occurrence: str | None = None

    def key(self, campaign_code: str) -> str:
        which = self.period_no if self.occurrence is None else (self.occurrence or "once")
        return f"{campaign_code}/{self.unit_id}/{self.form_code}/{which}/{self.kind}"


@dataclass(frozen=True)
class Message:
    """A notice worded for the channels: ``subject`` and ``text`` for e-mail, ``markdown`` for robots;
    ``attachments`` (file name, bytes) go with the e-mail (a 督办单's PDF)."""

    subject: str
    text: str
    markdown: str
    attachments: tuple[tuple[str, bytes], ...] = ()


def _what(campaign, notice: Notice) -> tuple[str, str, str]:
    unit = campaign.units[notice.unit_id].name
    if notice.occurrence is not None and notice.form_code in campaign.documents:
        occurrence = notice.occurrence
        label = (
            f"{int(occurrence[:4])}年{int(occurrence[5:])}月"
            if len(occurrence) == 7
            else occurrence and f"{occurrence}年"
        )
        return unit, f"《{campaign.documents[notice.form_code].name}》", f"（{label}）" if label else ""
    form = campaign.forms[notice.form_code].name if notice.form_code in campaign.forms else notice.form_code
    try:
        period = campaign.period(notice.period_no).label
    except (KeyError, IndexError, ValueError):
        period = f"第{notice.period_no}期"
    return unit, f"《{form}》（{notice.form_code}）", period


def _state(notice: Notice) -> list[str]:
    if notice.last_status == "rejected":
        lines = ["贵单位最近一次报送的文件未通过校验，尚未受理。主要问题如下："]
        lines += [f"{i}. {p}" for i, p in enumerate(notice.problems, 1)] or ["（详见报送回执）"]
        return lines
    return ["截至目前，尚未收到贵单位的报送。"]


def notice_message(campaign, notice: Notice, portal_url: str) -> Message:
    """The wording of one ladder notice (see the module text)."""
    unit, form, period = _what(campaign, notice)
    due = cn_time(dt.datetime.fromisoformat(notice.due_at))
    office = campaign.frame.office
    title = _RUNG_TITLE[notice.kind]
    subject = f"【{title}】{form}{period}（截止{due}）"
    if notice.kind == "reminder":
        ask = f"该表报送截止时间为{due}，请于截止前报送。"
    elif notice.kind == "overdue":
        ask = f"该表报送截止时间为{due}，现已逾期。请抓紧报送，逾期情况将计入通报和排名。"
    else:
        ask = (
            f"该表报送截止时间为{due}，逾期已久仍未报送。请分管领导督促落实，尽快报送；"
            "多次逾期或缺报的单位将列入督办。"
        )
    body = [
        f"{unit}：",
        "",
        f"按照{campaign.frame.name}工作安排，贵单位应按期报送{form}{period}。",
        *_state(notice),
        ask,
    ]
    link = f"报送地址：{portal_url}（也可将文件放入贵单位的共享报送文件夹）"
    text = "\n".join([*body, link, "", "如已报送，请忽略本通知。感谢支持配合！", f"——{office}"]) + "\n"
    markdown = "\n".join(
        [
            f"### {title}：{unit}",
            f"> {form}{period}",
            f"> 截止时间：**{due}**",
            "",
            *_state(notice),
            ask,
            f"[点此报送]({portal_url})",
            "",
            f"——{office}",
        ]
    )
    return Message(subject=subject, text=text, markdown=markdown)


def receipt_message(campaign, receipt_text: str, file_name: str, accepted: bool, portal_url: str) -> Message:
    """The 回执 of a file dropped into a unit's shared folder, for e-mail and robots."""
    office = campaign.frame.office
    head = "已受理" if accepted else "未受理"
    subject = f"【报送回执】{file_name}（{head}）"
    advice = "" if accepted else "请按上述问题修改后重新放入报送文件夹，或通过门户报送。\n"
    text = (
        f"贵单位放入共享报送文件夹的文件“{file_name}”已处理，回执如下：\n\n{receipt_text}\n\n{advice}"
        f"门户地址：{portal_url}\n——{office}\n"
    )
    markdown = f"### 报送回执：{file_name}\n{receipt_text}\n\n{advice}[门户]({portal_url})\n\n——{office}"
    return Message(subject=subject, text=text, markdown=markdown)
