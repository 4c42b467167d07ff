"""``roadsafe status`` on a small real home (a real process), the Celery queue's depth on the machine's real
Redis, and the same status on the portal's office page. The Airflow part (metadata database and REST API)
is checked in test_failure_mail.py on a real failed run."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379"

pytestmark = pytest.mark.slow


@pytest.fixture
def home(small_home, tmp_path) -> Path:
    """A private copy of the small home (without any Airflow state another test left in it)."""
    target = tmp_path / "home"
    shutil.copytree(small_home, target, ignore=shutil.ignore_patterns("airflow", "backups"))
    return target


def status(home: Path, *args: str, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW__", "ROADSAFE_AIRFLOW", "ROADSAFE_CELERY", "ROADSAFE_CAMPAIGN"))}  # fmt: skip
    env.pop("ROADSAFE_PROFILE", None)
    env.update(extra)
    return subprocess.run([sys.executable, "-m", "application.cli", "--home", str(home), "status", *args],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)  # fmt: skip


def snapshot_rows(home: Path, sql: str) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(home / "published" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_status_of_a_home_says_what_its_files_say(home):
    proc = status(home, "--json")
    assert proc.returncode == 1, proc.stderr  # Airflow not reachable: the probe fails
    s = json.loads(proc.stdout)
    (c,) = s["campaigns"]
    assert c["code"] == "jiujiang-2022" and c["name"] == "2022年全市道路交通安全专项整治"
    # the last file of every unit that sent one, as the published registry has it
    expected = snapshot_rows(home, """
        select unit_id, original_name, received_at from raw.submissions where unit_id is not null
        qualify row_number() over (partition by unit_id order by received_at desc, submission_id desc) = 1""")
    got = {f["unit_id"]: (f["original_name"], dt.datetime.fromisoformat(f["received_at"])) for f in c["last_files"]}
    assert got == {u: (name, at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at) for u, name, at in expected}
    receipts = list((home / "landing" / "receipts").glob("*.json"))
    assert c["receipts"] == len(receipts) > 80 and c["pending"] == 0
    published = home / "published" / "warehouse.duckdb"
    assert dt.datetime.fromisoformat(c["last_build_at"]).timestamp() == pytest.approx(published.stat().st_mtime)
    assert c["last_edition"]["kind"] == "weekly_bulletin" and c["last_edition"]["issue_no"] == 1
    assert c["last_edition"]["rendered"] is False
    assert s["disk_bytes"] >= c["disk_bytes"] > published.stat().st_size
    assert not s["airflow"]["connected"] and s["queue"]["depth"] is None

    text = status(home).stdout
    assert "【2022年全市道路交通安全专项整治】（jiujiang-2022）" in text
    assert f"共收到 {len(receipts)} 份，其中 0 份尚未进入已发布数据" in text
    assert "Airflow 未连接" in text and "未使用 Celery 队列" in text


def test_a_file_received_but_not_yet_built_counts_as_pending(home):
    from ingest.landing import PendingReceipt, land_bytes, new_receipt_id, write_receipt
    from roadsafe.settings import Settings

    settings = Settings(home=home)
    landed = land_bytes(settings, b"unit,value\n1,2\n", "late.csv")
    now = dt.datetime.now(dt.UTC)
    write_receipt(settings, PendingReceipt(
        receipt_id=new_receipt_id(now, landed.sha256), sha256=landed.sha256, size=landed.size,
        stored_path=landed.path.relative_to(home).as_posix(), original_name="late.csv", unit="lianxi",
        unit_id="lianxi", form=None, period=None, channel="cli", submitted_by=None, received_at=now.isoformat(),
        source_path=None))  # fmt: skip
    s = json.loads(status(home, "--json").stdout)
    (c,) = s["campaigns"]
    assert c["pending"] == 1
    assert dt.datetime.fromisoformat(c["last_received_at"]) >= now.replace(microsecond=0)


@pytest.fixture
def redis_db():
    """A Redis database number nobody else uses during this test (empty at the start, flushed after)."""
    import redis

    for db in range(15, 1, -1):
        client = redis.Redis.from_url(f"{REDIS}/{db}")
        if client.dbsize() == 0 and client.set("roadsafe:test-lock", "1", nx=True):
            break
    else:
        raise AssertionError("no free Redis database number between 2 and 15")
    yield client, f"{REDIS}/{db}"
    client.flushdb()


def test_the_queue_depth_is_read_from_the_celery_broker(home, redis_db):
    from roadsafe.opstatus import queue_depth

    client, url = redis_db
    for i in range(3):
        client.rpush("default", json.dumps({"task": i}))
    client.rpush("default\x06\x163", "a message at priority 3")
    assert queue_depth(url) == {"queue": "default", "depth": 4, "note": None}
    proc = status(home, ROADSAFE_PROFILE="prod", ROADSAFE_CELERY_BROKER_URL=url,
                  ROADSAFE_AIRFLOW_DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:1/none")  # fmt: skip
    assert "任务队列：default 队列积压 4 个任务" in proc.stdout
    assert "Airflow 未连接（OperationalError" in proc.stdout
    assert queue_depth("redis://127.0.0.1:1/0")["note"] == "队列服务未连接（ConnectionError）"


def test_the_office_page_shows_the_status(home):
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from portal.app import create_app
    from portal.config import PortalConfig
    from portal.store import Store
    from roadsafe.settings import Settings

    Store(home / "portal" / "users.sqlite3").add_user("zhengzhiban", None, "office",
                                                      PasswordHasher().hash("Office-pass-2022"))  # fmt: skip
    config = PortalConfig(settings=Settings(home=home), secret=b"deploy-test-secret-" * 3, secure_cookies=False,
                          airflow_url="http://127.0.0.1:1")  # fmt: skip
    with TestClient(create_app(config)) as client:
        page = client.get("/login")
        import re

        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"login": "zhengzhiban", "password": "Office-pass-2022", "csrf_token": token})
        office = client.get("/office")
    assert office.status_code == 200
    html = office.text
    section = html[html.index('id="ops-status"'):]
    receipts = len(list((home / "landing" / "receipts").glob("*.json")))
    assert "运行状态" in section and f"共 {receipts} 份，其中 0 份尚未进入已发布数据" in section
    assert "Airflow 未连接" in section and "第1期" in section


def test_every_campaign_of_a_deployment_of_several_is_reported(tmp_path):
    root = tmp_path / "deployment"
    proc = status(root, "--json", ROADSAFE_CAMPAIGNS="jiujiang-2022,jiujiang-longterm-2022")
    s = json.loads(proc.stdout)
    assert [(c["code"], c["home"]) for c in s["campaigns"]] == [
        ("jiujiang-2022", str(root / "homes" / "jiujiang-2022")),
        ("jiujiang-longterm-2022", str(root / "homes" / "jiujiang-longterm-2022")),
    ]
    assert s["campaigns"][1]["name"] == "全市道路交通安全综合治理长效机制"
