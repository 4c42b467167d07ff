"""Delivering notices exactly once, with every attempt recorded in the warehouse (``ops.notice_attempts``).

A notice goes out over its routes (``email``, ``robot``, ``office_robot``); each (notice, route) pair is
delivered at most once:

1. in one turn among the warehouse writers (:func:`roadsafe.warehouse.writer_turn`), the pairs whose latest
   ledger row is ``sent`` (done) or ``claimed`` (another run is sending it, or a run died while sending:
   the result is unknown and it is not sent again, it is listed for the office instead) are skipped, and a
   ``claimed`` row is written for each of the others;
2. outside the writer turn (a slow robot never holds up ingestion), each claimed pair is sent, a failing
   one retried with back-off while the other routes still go (a target that failed
   :data:`GIVE_UP_AFTER` notices in a row is not called again in the run);
3. in a second turn, every attempt is written (``sent`` or ``failed``, when, to whom, the answer).

A pair whose last row is ``failed`` is tried again by the next run that selects its notice (an Airflow retry
of the same hour). A notice with no route at all gets a ``no_contact`` row. :func:`undelivered` lists the
notices that reached nobody, for the office.

:func:`routes_for` says who hears a notice; ``$ROADSAFE_PORTAL_URL`` is the portal address the notices
give (:func:`portal_url`, default ``http://127.0.0.1:8510/``).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from dashboards.channels import Attempt, attempt_with_retries
from dashboards.duban import Duban, duban_message
from dashboards.notices import Message

__all__ = [
    "deliver_duban",
    "DELAYS",
    "LEDGER_DDL",
    "Outgoing",
    "Route",
    "deliver",
    "ledger_rows",
    "portal_url",
    "routes_for",
    "smtp_config",
    "undelivered",
]

DELAYS = (2.0, 10.0)
"""Back-off before the second and third attempt on a failing route (seconds)."""

GIVE_UP_AFTER = 2
"""After this many notices in a row failed on one target in a run, the run stops calling it (recorded as
failed: a dead robot must not hold the run for minutes)."""

LEDGER_DDL = """
create schema if not exists ops;
create table if not exists ops.notice_attempts (
    notice_key    varchar not null,
    campaign_code varchar not null,
    unit_id       varchar,
    rung          varchar not null,
    route         varchar not null,
    target        varchar not null,
    state         varchar not null,
    attempt_no    integer not null,
    attempted_at  timestamptz not null,
    detail        varchar,
    subject       varchar
)
"""


@dataclass(frozen=True)
class Route:
    """One way to reach the unit: ``name`` (email/robot/office_robot), a label for the ledger (addresses,
    or the robot's host: never the robot's key), and the call that sends the message."""

    name: str
    target: str
    send: Callable[[Message], str] = field(compare=False)


@dataclass(frozen=True)
class Outgoing:
    key: str
    campaign_code: str
    unit_id: str | None
    rung: str
    message: Message
    routes: tuple[Route, ...]


def _ensure(con) -> None:
    con.execute(LEDGER_DDL)


def _latest(con, keys: list[str]) -> dict[tuple[str, str], str]:
    if not keys:
        return {}
    rows = con.execute(
        """
        select notice_key, route, arg_max(state, attempted_at) from ops.notice_attempts
        where notice_key in (select unnest($keys)) group by all
        """,
        {"keys": keys},
    ).fetchall()
    return {(k, r): s for k, r, s in rows}


def _insert(con, rows: list[tuple]) -> None:
    if rows:
        con.executemany("insert into ops.notice_attempts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _row(item: Outgoing, route: str, target: str, state: str, no: int, at: dt.datetime, detail: str | None):
    return (
        item.key,
        item.campaign_code,
        item.unit_id,
        item.rung,
        route,
        target,
        state,
        no,
        at,
        detail,
        item.message.subject,
    )


def deliver(
    settings,
    items: list[Outgoing],
    *,
    delays: tuple[float, ...] = DELAYS,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict]:
    """Send ``items`` exactly once (see the module text); one result dict per notice and route:
    ``key``, ``rung``, ``unit_id``, ``route``, ``target``, ``status`` (sent/failed/already_sent/
    in_doubt/no_contact), ``attempts``, ``detail``."""
    from roadsafe.warehouse import connect, writer_turn

    results: list[dict] = []
    claimed: list[tuple[Outgoing, Route]] = []
    now = dt.datetime.now(dt.UTC)
    with writer_turn(settings) as deadline:
        con = connect(settings, deadline=deadline)
        try:
            _ensure(con)
            latest = _latest(con, [i.key for i in items])
            rows = []
            for item in items:
                if not item.routes:
                    if (item.key, "none") not in latest:
                        rows.append(_row(item, "none", "", "no_contact", 0, now, "未登记联络方式"))
                    results.append(_result(item, "none", "", "no_contact", 0, "未登记联络方式"))
                    continue
                for route in item.routes:
                    state = latest.get((item.key, route.name))
                    if state == "sent":
                        results.append(_result(item, route.name, route.target, "already_sent", 0, ""))
                    elif state == "claimed":
                        results.append(
                            _result(item, route.name, route.target, "in_doubt", 0, "上次发送结果未知，未重发")
                        )
                    else:
                        rows.append(_row(item, route.name, route.target, "claimed", 0, now, None))
                        claimed.append((item, route))
            _insert(con, rows)
        finally:
            con.close()
    outcomes: list[tuple[Outgoing, Route, list[Attempt]]] = []
    broken: Counter = Counter()  # target → notices it failed in this run: stop calling a dead server
    try:
        for item, route in claimed:
            if broken[route.target] >= GIVE_UP_AFTER:
                attempts = [
                    Attempt(
                        dt.datetime.now(dt.UTC), False, f"该地址本轮已连续失败{GIVE_UP_AFTER}次，暂停发送"
                    )
                ]
            else:
                attempts = attempt_with_retries(lambda i=item, r=route: r.send(i.message), delays, sleep)
                broken[route.target] = 0 if attempts[-1].ok else broken[route.target] + 1
            outcomes.append((item, route, attempts))
            last = attempts[-1]
            status = "sent" if last.ok else "failed"
            results.append(_result(item, route.name, route.target, status, len(attempts), last.detail))
    finally:  # whatever happened, record what was tried (a claim without a result stays "in doubt")
        if outcomes:
            with writer_turn(settings) as deadline:
                con = connect(settings, deadline=deadline)
                try:
                    _insert(
                        con,
                        [
                            _row(
                                item,
                                route.name,
                                route.target,
                                "sent" if a.ok else "failed",
                                n,
                                a.at,
                                a.detail,
                            )
                            for item, route, attempts in outcomes
                            for n, a in enumerate(attempts, 1)
                        ],
                    )
                finally:
                    con.close()
    return results


def _result(item: Outgoing, route: str, target: str, status: str, attempts: int, detail: str) -> dict:
    return {
        "key": item.key,
        "rung": item.rung,
        "unit_id": item.unit_id,
        "route": route,
        "target": target,
        "status": status,
        "attempts": attempts,
        "detail": detail,
    }


def ledger_rows(con, campaign_code: str) -> list[dict]:
    """Every recorded attempt of a campaign, newest first (for the office's views)."""
    if not con.execute(
        "select 1 from duckdb_tables() where schema_name = 'ops' and table_name = 'notice_attempts'"
    ).fetchall():
        return []
    cur = con.execute(
        "select * from ops.notice_attempts where campaign_code = ? order by attempted_at desc, notice_key, route",
        [campaign_code],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def undelivered(con, campaign_code: str) -> list[dict]:
    """Notices no route delivered: every route's latest row is failed, claimed (result unknown) or
    no_contact. One dict per notice: ``notice_key``, ``unit_id``, ``rung``, ``subject``, ``why``."""
    if not ledger_rows(con, campaign_code)[:1]:
        return []
    rows = con.execute(
        """
        with last as (
            select notice_key, route, arg_max(state, attempted_at) as state, arg_max(detail, attempted_at) as detail,
                   any_value(unit_id) as unit_id, any_value(rung) as rung, any_value(subject) as subject
            from ops.notice_attempts where campaign_code = ? group by notice_key, route
        )
        select notice_key, any_value(unit_id), any_value(rung), any_value(subject),
               string_agg(route || '：' || state || coalesce('（' || detail || '）', ''), '；' order by route)
        from last group by notice_key
        having count(*) filter (where state = 'sent') = 0
        order by notice_key
        """,
        [campaign_code],
    ).fetchall()
    return [{"notice_key": k, "unit_id": u, "rung": r, "subject": s, "why": w} for k, u, r, s, w in rows]


def portal_url() -> str:
    """The portal address notices give: ``$ROADSAFE_PORTAL_URL`` (default ``http://127.0.0.1:8510/``)."""
    return os.environ.get("ROADSAFE_PORTAL_URL") or "http://127.0.0.1:8510/"


def smtp_config():
    """SMTP settings from the environment, None when no server is configured."""
    from dashboards.delivery import SmtpConfig

    try:
        return SmtpConfig.from_env()
    except RuntimeError:
        return None


_TO_LEADERS = ("escalation", "duban")


def routes_for(contacts: dict, unit_id: str, rung: str, extra: tuple[str, ...], key: str, smtp) -> tuple:
    """The routes of one notice: e-mail (the 联络员; on an escalation or a 督办单 also the 分管领导 and
    ``extra``) and the unit's group robot; on an escalation or a 督办单 the office's group robot too."""
    from dashboards.channels import ChannelFailed, send_mail, send_robot
    from roadsafe.contacts import OFFICE

    contact = contacts.get(unit_id)
    emails = [contact.email] if contact else []
    if rung in _TO_LEADERS:
        emails += [contact.leader_email] if contact and contact.leader_email else []
        emails += list(extra)
    emails = list(dict.fromkeys(e for e in emails if e))
    routes = []
    if emails:

        def mail(message, to=tuple(emails)):
            if smtp is None:
                raise ChannelFailed("未配置邮件服务器（ROADSAFE_SMTP_HOST）", permanent=True)
            return send_mail(
                smtp, list(to), message.subject, message.text, key=key, attachments=message.attachments
            )

        routes.append(Route("email", "、".join(emails), mail))
    robots = [("robot", contact)]
    if rung in _TO_LEADERS:
        robots.append(("office_robot", contacts.get(OFFICE)))
    for name, who in robots:
        if who is not None and who.robot_url:
            routes.append(
                Route(
                    name,
                    f"{who.unit_name}群机器人",
                    lambda message, c=who: send_robot(
                        c.robot_url, message.subject, message.markdown, c.robot_secret
                    ),
                )
            )
    return tuple(routes)


def deliver_duban(settings, duban: Duban, *, delays: tuple[float, ...] | None = None) -> list[dict]:
    """Send a 督办单 to the unit's 联络员 and 分管领导, the office (``escalate_to``) and the group robots,
    exactly once (ledger key ``<campaign>/<unit>/duban/<no>``)."""
    from roadsafe.contacts import load_contacts

    campaign = settings.campaign()
    rules = campaign.frame
    office = tuple(a for g in rules.reminders.escalate_to for a in rules.recipients.get(g, [g]))
    key = f"{campaign.code}/{duban.unit_id}/duban/{duban.no}"
    routes = routes_for(load_contacts(settings), duban.unit_id, "duban", office, key, smtp_config())
    item = Outgoing(
        key, campaign.code, duban.unit_id, "duban", duban_message(campaign, duban, portal_url()), routes
    )
    return deliver(settings, [item], delays=DELAYS if delays is None else delays)
