"""``roadsafe portal`` and ``roadsafe user …`` (registered by :mod:`application.commands.reports`).

================================================================  ============================================
``roadsafe portal [--host 127.0.0.1] [--port 8510]``              run the upload portal (uvicorn)
``roadsafe user add LOGIN --unit 市公安局 [--password-stdin]``      an account for a unit
``roadsafe user add LOGIN --office [--password-stdin]``           an account for the campaign office
``roadsafe user add LOGIN --leader [--password-stdin]``           a leader: reads the leaders' pages, read-only
``roadsafe user list``                                            every account
``roadsafe user disable LOGIN`` / ``enable LOGIN``                 stop (and end its sessions) / allow again
``roadsafe user password LOGIN [--password-stdin]``               set a new password (ends its sessions)
================================================================  ============================================

Without ``--password-stdin`` a random password is generated and printed once. Only light modules are
imported here; the web stack is imported by the handlers.
"""

from __future__ import annotations

import argparse
import secrets
import sys

__all__ = ["register"]


def _store(settings):
    from portal.store import Store

    return Store(settings.home / "portal" / "users.sqlite3")


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _password(args) -> tuple[str, bool]:
    """(password, generated)."""
    from portal.auth import check_password_rules

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        problem = check_password_rules(password)
        if problem:
            raise ValueError(problem)
        return password, False
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(14))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password, True


def _friendly(handler):
    import functools

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (ValueError, LookupError, OSError) as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return 2

    return run


@_friendly
def _user_add(args: argparse.Namespace) -> int:
    from portal.store import normalise_login

    login = normalise_login(args.login)
    if not login or any(c.isspace() for c in login) or len(login) > 64:
        raise ValueError("账号不能为空、不能含空格，且不超过64个字符。")
    unit_id = None
    role = "leader" if args.leader else "office"
    if args.unit:
        campaign = args.settings.campaign()
        unit = campaign.units.get(args.unit) or campaign.resolve_unit(args.unit)
        if unit is None or unit.kind not in ("county", "department"):
            raise ValueError(
                f"找不到填报单位“{args.unit}”，请填写县（市、区）或市直部门的名称（如“市公安局”）。"
            )
        unit_id, role = unit.id, "unit"
    store = _store(args.settings)
    if store.get_user(login) is not None:
        raise ValueError(f"账号“{login}”已存在。")
    password, generated = _password(args)
    store.add_user(login, unit_id, role, _hasher().hash(password))
    who = {"office": "市整治办（查看全部单位）", "leader": "领导（只读查看工作进展总览及全部单位）"}.get(role)
    who = who or args.settings.campaign().units[unit_id].name
    print(f"已创建账号 {login}：{who}")
    if generated:
        print(f"初始密码：{password}（仅显示这一次，请妥善转交）")
    return 0


@_friendly
def _user_list(args: argparse.Namespace) -> int:
    store = _store(args.settings)
    users = store.list_users()
    if not users:
        print("尚未创建账号。用 roadsafe user add LOGIN --unit 单位 创建。")
        return 0
    names = {}
    try:
        names = {u.id: u.name for u in args.settings.campaign().units.values()}
    except Exception:  # noqa: BLE001 - list accounts even when the campaign does not load
        pass
    print("login\tunit\trole\tenabled\tcreated_at\tlast_login_at")
    for u in users:
        unit = names.get(u.unit_id, u.unit_id) if u.unit_id else "-"
        state = "yes" if u.enabled else "no"
        print(f"{u.login}\t{unit}\t{u.role}\t{state}\t{u.created_at}\t{u.last_login_at or '-'}")
    return 0


def _set_enabled(enabled: bool):
    @_friendly
    def run(args: argparse.Namespace) -> int:
        if not _store(args.settings).set_enabled(args.login, enabled):
            raise LookupError(f"账号“{args.login}”不存在。")
        print(f"账号 {args.login} 已{'启用' if enabled else '停用（已登录的会话同时失效）'}。")
        return 0

    return run


@_friendly
def _user_password(args: argparse.Namespace) -> int:
    from portal.store import normalise_login

    store = _store(args.settings)
    if store.get_user(args.login) is None:
        raise LookupError(f"账号“{args.login}”不存在。")
    password, generated = _password(args)
    store.set_password_hash(args.login, _hasher().hash(password))
    store.clear_throttle(f"login:{normalise_login(args.login)}")
    print(f"账号 {args.login} 的密码已重置（该账号已登录的会话同时失效）。")
    if generated:
        print(f"新密码：{password}（仅显示这一次，请妥善转交）")
    return 0


@_friendly
def _portal(args: argparse.Namespace) -> int:
    import logging

    from portal.app import serve
    from portal.config import PortalConfig

    args.settings.ensure()
    _log_to_file(args.settings)
    logging.getLogger("roadsafe.portal").info("portal starting on %s:%s", args.host, args.port)
    try:
        serve(PortalConfig.from_env(args.settings), host=args.host, port=args.port)
    except KeyboardInterrupt:
        pass
    return 0


def _log_to_file(settings) -> None:
    import logging
    from logging.handlers import RotatingFileHandler

    settings.logs.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        settings.logs / "portal.log", maxBytes=5 << 20, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stream = logging.StreamHandler()
    stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("roadsafe.portal", "portal", "ingest"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.addHandler(stream)


def register(subparsers) -> None:
    """Add ``portal`` and ``user`` to the ``roadsafe`` command line."""
    p = subparsers.add_parser("portal", help="run the upload portal for the units (web)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8510)
    p.set_defaults(func=_portal)

    user = subparsers.add_parser("user", help="portal accounts: add, list, disable, enable, password")
    actions = user.add_subparsers(dest="user_action", required=True, metavar="ACTION")

    p = actions.add_parser("add", help="create an account for a unit, the office or a leader")
    p.add_argument("login")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--unit", help="the unit (name, id or alias), e.g. 市公安局")
    who.add_argument("--office", action="store_true", help="the campaign office: sees every unit")
    who.add_argument("--leader", action="store_true", help="a leader: reads the leaders' pages of every unit")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=_user_add)

    p = actions.add_parser("list", help="every account")
    p.set_defaults(func=_user_list)

    p = actions.add_parser("disable", help="disable an account (its sessions end at once)")
    p.add_argument("login")
    p.set_defaults(func=_set_enabled(False))

    p = actions.add_parser("enable", help="enable a disabled account")
    p.add_argument("login")
    p.set_defaults(func=_set_enabled(True))

    p = actions.add_parser("password", help="set a new password")
    p.add_argument("login")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=_user_password)
