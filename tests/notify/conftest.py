"""Real servers on loopback for the notification tests: an SMTP server (aiosmtpd) keeping every message, and
an HTTP server standing in for the WeCom/DingTalk/Feishu robots that checks the JSON and the signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from notify_helpers import DING_SECRET, at  # noqa: E402

from roadsafe.campaign import load_campaign
from roadsafe.contacts import OFFICE, Contact, save_contacts
from roadsafe.settings import Settings
from tests.mailbox import running_mailbox, use_mailbox


@pytest.fixture
def smtp(monkeypatch):
    with running_mailbox() as box:
        yield use_mailbox(monkeypatch, box, "zhengzhiban@jiujiang.example.gov.cn")


class RobotServer:
    """Answers like the vendors: ``plan`` is a list of behaviours consumed per request (``ok``, ``500``,
    ``302`` (a redirect), ``slow``: answers after the client gave up); when empty, ``ok``."""

    def __init__(self):
        self.received: list[dict] = []
        self.plan: list[str] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server.lock:
                    behaviour = server.plan.pop(0) if server.plan else "ok"
                parts = urlsplit(self.path)
                record = {
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "content_type": self.headers.get("Content-Type"),
                    "raw": body,
                    "json": json.loads(body.decode("utf-8")),
                    "behaviour": behaviour,
                }
                record["answer"] = server.check(record)
                with server.lock:
                    server.received.append(record)
                if behaviour in ("500", "302"):
                    self.send_response(int(behaviour))
                    if behaviour == "302":  # a redirect to an internal address must not be followed
                        self.send_header("Location", "http://169.254.169.254/latest/meta-data")
                    self.end_headers()
                    return
                if behaviour == "slow":
                    time.sleep(1.5)
                answer = json.dumps(record["answer"]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @staticmethod
    def check(record: dict) -> dict:
        """The vendor's verdict on the request: shape and, for DingTalk, the signature."""
        body, path = record["json"], record["path"]
        if path == "/cgi-bin/webhook/send":
            ok = body.get("msgtype") == "markdown" and isinstance(
                body.get("markdown", {}).get("content"), str
            )
            return {"errcode": 0 if ok else 40008, "errmsg": "ok" if ok else "invalid message type"}
        if path == "/robot/send":
            stamp, sign = record["query"].get("timestamp"), record["query"].get("sign")
            expected = base64.b64encode(
                hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
            ).decode()
            fresh = stamp is not None and abs(int(stamp) / 1000 - time.time()) < 3600
            if not (fresh and sign == expected):
                return {"errcode": 310000, "errmsg": "sign not match"}
            md = body.get("markdown", {})
            ok = body.get("msgtype") == "markdown" and md.get("title") and md.get("text")
            return {"errcode": 0 if ok else 40035, "errmsg": "ok" if ok else "missing parameter"}
        if path.startswith("/open-apis/bot/v2/hook/"):
            ok = body.get("msg_type") == "interactive" and body["card"]["elements"][0]["tag"] == "markdown"
            return {"code": 0 if ok else 9499, "msg": "success" if ok else "bad request"}
        return {"errcode": 404, "errmsg": "no such robot"}

    def accepted(self, path: str) -> list[dict]:
        return [
            r
            for r in self.received
            if r["path"] == path
            and r["behaviour"] != "500"
            and not (r["answer"].get("errcode") or r["answer"].get("code"))
        ]


@pytest.fixture
def robots(monkeypatch):
    monkeypatch.setenv("ROADSAFE_ROBOT_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("ROADSAFE_ROBOT_TIMEOUT", "0.5")
    server = RobotServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(timeout=5)


@pytest.fixture(scope="session")
def campaign():
    return load_campaign("jiujiang-2022")


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("ROADSAFE_PORTAL_URL", "https://baosong.jiujiang.example.gov.cn/")
    monkeypatch.delenv("ROADSAFE_ROBOT_HOSTS", raising=False)
    return Settings(home=tmp_path / "home", campaign_code="jiujiang-2022").ensure()


@pytest.fixture(scope="session")
def samples(tmp_path_factory, campaign):
    """The sample campaign's submission files (generated once: ~3 s)."""
    from application.samples import generate_samples

    out = tmp_path_factory.mktemp("samples") / "jiujiang-2022"
    generate_samples(campaign, out, seed=2022)
    return out


def _snapshot(settings):
    """A published snapshot holding the tables the reminders read: week 1 of F1 for four counties."""
    settings.published.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.published))
    con.execute("create schema ref; create schema raw")
    con.execute(
        "create table ref.expected_submissions (form_code varchar, unit_id varchar, period_no integer,"
        " due_at timestamptz)"
    )
    con.execute(
        "create table raw.submissions (submission_id varchar, form_code varchar, unit_id varchar,"
        " period_no integer, received_at timestamptz, status varchar)"
    )
    con.execute(
        "create table raw.submission_messages (submission_id varchar, seq integer, severity varchar,"
        " message varchar)"
    )
    for unit in ("xunyang", "lianxi", "chaisang", "wuning"):
        con.execute("insert into ref.expected_submissions values ('F1', ?, 1, ?)", [unit, at(14, 12)])
    con.executemany(
        "insert into raw.submissions values (?, 'F1', ?, 1, ?, ?)",
        [("S000001", "lianxi", at(14, 9), "accepted"), ("S000002", "chaisang", at(14, 9), "rejected")],
    )
    # the compliance mart as dbt builds it from the rows above (the 督办 candidates and 督办单 read it)
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_submission_compliance as select form_code, unit_id, period_no, due_at,"
        " case unit_id when 'lianxi' then ?::timestamptz end as first_received_at from ref.expected_submissions",
        [at(14, 9)],
    )
    con.execute(
        "insert into raw.submission_messages values ('S000002', 1, 'error',"
        " '工作表“Sheet1”第5行“应检验车辆数”列：“十二”不是数字')"
    )
    con.close()


def _contacts(settings, robots):
    save_contacts(
        settings,
        {
            "xunyang": Contact(
                "xunyang",
                "浔阳区",
                "王丽",
                "13807921234",
                "wangli@example.org",
                "李强",
                "liqiang@example.com",
                robots.url("/cgi-bin/webhook/send?key=xy"),
            ),
            "chaisang": Contact(
                "chaisang",
                "柴桑区",
                "孙红",
                None,
                "sunhong@example.org",
                "周平",
                "zhouping@example.com",
                robots.url("/robot/send?access_token=cs"),
                DING_SECRET,
            ),
            "lianxi": Contact("lianxi", "濂溪区", "赵刚", None, "zhaogang@example.org"),
            OFFICE: Contact(
                OFFICE,
                "九江市道路交通安全专项整治工作领导小组办公室",
                "周敏",
                None,
                "ban@example.org",
                robot_url=robots.url("/open-apis/bot/v2/hook/office"),
            ),
        },
    )


@pytest.fixture
def world(settings, robots, smtp):
    _snapshot(settings)
    _contacts(settings, robots)
    return settings
