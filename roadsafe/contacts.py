"""Who to tell: each unit's 联络员 (name, mobile, e-mail), its 分管领导 and its group robot, kept apart from the
campaign definition because it is personal data (never in git).

The office keeps the list in Excel (``roadsafe contacts import 联络员名单.xlsx``), columns
单位, 联络员, 手机, 邮箱, 分管领导, 领导邮箱, 群机器人地址 and optionally 机器人密钥. Unit names are matched
through the campaign's aliases; a row whose 单位 is the office itself (``office`` or ``office_short`` of
campaign.yml, or “办公室”) holds the office's own group robot. Every problem is reported in Chinese with its
row and column; nothing is stored while any remains.

Stored as ``$ROADSAFE_HOME/contacts/<campaign>.json`` (mode 0600, written atomically).

Robot addresses (the SSRF rule): a contacts file must never make the server call an arbitrary address. A
robot URL is accepted only when it is ``https``, has no user name or password, uses the default port, and its
host is one of the vendors' webhook hosts (:data:`ROBOT_HOSTS`) or one the operator added in
``$ROADSAFE_ROBOT_HOSTS`` (comma-separated, e.g. a 政务钉钉 private deployment), and its path is a known
webhook path (which also tells the vendor). Plain ``http`` to a loopback address (127.0.0.1, ::1) is accepted
only when the operator set ``ROADSAFE_ROBOT_ALLOW_LOOPBACK=1`` (tests, a local relay). The sender checks the
rule again at send time and never follows redirects.

Examples
--------
>>> robot_problem("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", env={}) is None
True
>>> robot_problem("http://169.254.169.254/latest/meta-data", env={})
'群机器人地址须以 https:// 开头'
>>> robot_vendor("https://oapi.dingtalk.com/robot/send?access_token=x")
'dingtalk'
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from roadsafe.durable import fsync_dir

__all__ = [
    "COLUMNS",
    "OFFICE",
    "ROBOT_HOSTS",
    "Contact",
    "ContactsError",
    "contacts_path",
    "export_xlsx",
    "import_xlsx",
    "load_contacts",
    "parse_rows",
    "robot_problem",
    "robot_vendor",
    "save_contacts",
]

OFFICE = "office"
"""The key of the office's own entry (its group robot, its e-mail)."""

# Chinese header → field, in the order of the Excel list.
COLUMNS: dict[str, str] = {
    "单位": "unit_name",
    "联络员": "liaison",
    "手机": "mobile",
    "邮箱": "email",
    "分管领导": "leader",
    "领导邮箱": "leader_email",
    "群机器人地址": "robot_url",
    "机器人密钥": "robot_secret",
}
_REQUIRED = ("单位", "联络员", "邮箱")

ROBOT_HOSTS = frozenset({"qyapi.weixin.qq.com", "oapi.dingtalk.com", "open.feishu.cn", "open.larksuite.com"})
_ROBOT_PATHS = (
    ("/cgi-bin/webhook/send", "wecom"),
    ("/robot/send", "dingtalk"),
    ("/open-apis/bot/v2/hook/", "feishu"),
)
_EMAIL = re.compile(
    r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)+$"
)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Contact:
    """One unit's contacts (``unit_id`` is :data:`OFFICE` for the office's own entry)."""

    unit_id: str
    unit_name: str
    liaison: str
    mobile: str | None
    email: str
    leader: str | None = None
    leader_email: str | None = None
    robot_url: str | None = None
    robot_secret: str | None = None


class ContactsError(ValueError):
    """A contacts list that cannot be used; ``problems`` lists every reason in Chinese."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"联络员名单“{source}”有 {len(problems)} 处问题，未导入任何内容：\n{lines}")


def _clean(value) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return "" if text.lower() in ("none", "nan") else text


def robot_vendor(url: str) -> str | None:
    """``wecom``, ``dingtalk`` or ``feishu`` from the webhook path, or None."""
    path = urlsplit(url).path
    for prefix, vendor in _ROBOT_PATHS:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix) and len(path) > len(prefix)):
            return vendor
    return None


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def robot_problem(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """Why ``url`` may not be called as a group robot (Chinese), or None when it may (see the module text)."""
    env = os.environ if env is None else env
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "群机器人地址格式不正确"
    host = (parts.hostname or "").lower()
    loopback_ok = (env.get("ROADSAFE_ROBOT_ALLOW_LOOPBACK") or "").strip().lower() in _TRUE
    if parts.scheme == "http" and loopback_ok and _is_loopback(host):
        pass
    elif parts.scheme != "https":
        return "群机器人地址须以 https:// 开头"
    else:
        extra = {h.strip().lower() for h in (env.get("ROADSAFE_ROBOT_HOSTS") or "").split(",") if h.strip()}
        if host not in ROBOT_HOSTS | extra:
            return (
                f"群机器人地址的主机“{host or '（空）'}”不是企业微信、钉钉或飞书的机器人地址"
                "（其他主机须由系统管理员在 ROADSAFE_ROBOT_HOSTS 中登记）"
            )
        if port not in (None, 443):
            return "群机器人地址不得指定端口"
    if parts.username or parts.password:
        return "群机器人地址不得包含用户名或密码"
    if robot_vendor(url) is None:
        return "群机器人地址不是企业微信、钉钉或飞书的群机器人 Webhook 地址"
    return None


def _office_names(campaign) -> set[str]:
    frame = campaign.frame
    return {_clean(n).replace(" ", "") for n in (frame.office, frame.office_short, "办公室") if n}


def parse_rows(
    campaign, rows: list[dict[str, object]], source: str, *, env: Mapping[str, str] | None = None
) -> dict[str, Contact]:
    """Check rows (Chinese header → value; row numbers as the office sees them start at 2) and return the
    contacts by unit id. :class:`ContactsError` naming row, column and unit for every problem."""
    problems: list[str] = []
    out: dict[str, Contact] = {}
    offices = _office_names(campaign)
    for n, row in enumerate(rows, start=2):
        values = {field: _clean(row.get(header)) for header, field in COLUMNS.items()}
        if not any(values.values()):
            continue
        name = values["unit_name"]
        where = f"第{n}行"
        for header in _REQUIRED:
            if not values[COLUMNS[header]]:
                problems.append(f"{where}“{header}”列为空" + (f"（单位：{name}）" if name else "") + "。")
        if not name:
            continue
        if name.replace(" ", "") in offices:
            unit_id, unit_name = OFFICE, campaign.frame.office
        else:
            unit = campaign.resolve_unit(name)
            if unit is None or unit.kind == "group":
                problems.append(f"{where}“单位”列：“{name}”不是本活动的报送单位，请使用单位全称或简称。")
                continue
            unit_id, unit_name = unit.id, unit.name
        where = f"{where}（单位：{unit_name}）"
        if unit_id in out:
            problems.append(f"{where}：该单位在名单中重复出现。")
            continue
        for header in ("邮箱", "领导邮箱"):
            value = values[COLUMNS[header]]
            if value and not _EMAIL.match(value):
                problems.append(f"{where}“{header}”列：“{value}”不是有效的电子邮箱地址。")
        mobile = re.sub(r"[\s\-]", "", values["mobile"])
        if mobile and not _MOBILE.match(mobile):
            problems.append(f"{where}“手机”列：“{values['mobile']}”不是有效的11位手机号码。")
        if values["leader_email"] and not values["leader"]:
            problems.append(f"{where}“分管领导”列为空，但填写了“领导邮箱”。")
        url = values["robot_url"]
        if url:
            problem = robot_problem(url, env)
            if problem:
                problems.append(f"{where}“群机器人地址”列：{problem}。")
        elif values["robot_secret"]:
            problems.append(f"{where}“机器人密钥”列有值，但未填写“群机器人地址”。")
        out[unit_id] = Contact(
            unit_id=unit_id,
            unit_name=unit_name,
            liaison=values["liaison"],
            mobile=mobile or None,
            email=values["email"],
            leader=values["leader"] or None,
            leader_email=values["leader_email"] or None,
            robot_url=url or None,
            robot_secret=values["robot_secret"] or None,
        )
    if problems:
        raise ContactsError(source, problems)
    return out


def import_xlsx(campaign, path: Path, *, env: Mapping[str, str] | None = None) -> dict[str, Contact]:
    """Read and check the office's Excel list (first sheet, header in the first row)."""
    import openpyxl

    source = Path(path).name
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same answer to the office
        raise ContactsError(source, [f"无法打开该 Excel 文件（{type(exc).__name__}）。"]) from exc
    try:
        sheet = book.worksheets[0]
        grid = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    if not grid:
        raise ContactsError(source, [f"工作表“{sheet.title}”为空。"])
    headers = [_clean(h).replace(" ", "") for h in grid[0]]
    missing = [h for h in _REQUIRED if h not in headers]
    if missing:
        raise ContactsError(
            source,
            [f"工作表“{sheet.title}”第1行缺少列：{'、'.join(missing)}（应有：{'、'.join(COLUMNS)}）。"],
        )
    rows = [{h: (r[i] if i < len(r) else None) for i, h in enumerate(headers) if h} for r in grid[1:]]
    try:
        return parse_rows(campaign, rows, source, env=env)
    except ContactsError as exc:
        raise ContactsError(source, [f"工作表“{sheet.title}”{p}" for p in exc.problems]) from None


def export_xlsx(contacts: Mapping[str, Contact], path: Path) -> Path:
    """Write the list in the import layout (so the office can edit and import it again)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "联络员名单"
    sheet.append(list(COLUMNS))
    for contact in contacts.values():
        sheet.append([getattr(contact, field) or "" for field in COLUMNS.values()])
    for letter, width in zip("ABCDEFGH", (22, 10, 14, 28, 10, 28, 60, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    path = Path(path)
    book.save(path)
    return path


def contacts_path(settings) -> Path:
    """``$ROADSAFE_HOME/contacts/<campaign>.json``."""
    return settings.home / "contacts" / f"{settings.campaign_code}.json"


def load_contacts(settings) -> dict[str, Contact]:
    """The stored contacts by unit id (empty when none were imported)."""
    path = contacts_path(settings)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    names = {f.name for f in fields(Contact)}
    return {c["unit_id"]: Contact(**{k: v for k, v in c.items() if k in names}) for c in data["contacts"]}


def save_contacts(settings, contacts: Mapping[str, Contact]) -> Path:
    """Store the contacts (0600, atomic: a temp file in the same folder, then rename)."""
    path = contacts_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    payload = {"campaign": settings.campaign_code, "contacts": [asdict(c) for c in contacts.values()]}
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return path
