"""`airflow dags test` of every DAG on the sample campaign (one run each, no scheduler).

`dags test` runs a single DAG in-process and never starts asset-triggered downstream DAGs, so each DAG is
tested in turn on one ROADSAFE_HOME: ingest a few week-1 sample files, build, the weekly edition of
2022-04-14 (e-mailed to a real SMTP server on loopback), a non-bulletin day, the monthly edition of
2022-04-29, reminders, and a year the calendar does not know.
"""

from __future__ import annotations

import asyncio
import email
import json
import shutil
import subprocess
from email.header import decode_header, make_header
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


class Mailbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(make_header(decode_header(m["Subject"]))) for m in self.messages]


@pytest.fixture(scope="module")
def smtp(aflib):
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=aflib.free_port())
    controller.start()
    try:
        yield controller, box
    finally:
        controller.stop()
        asyncio.set_event_loop(None)


@pytest.fixture(scope="module")
def env(tmp_path_factory, aflib, smtp, sample_campaign):
    home = tmp_path_factory.mktemp("dagstest")
    env = aflib.airflow_env(home)
    controller, _ = smtp
    env.update({"ROADSAFE_SMTP_HOST": "127.0.0.1", "ROADSAFE_SMTP_PORT": str(controller.port)})
    aflib.run_cli(["db", "migrate"], env)
    aflib.run_cli(["pools", "set", "roadsafe_duckdb", "1", "DuckDB single writer"], env)
    for unit, src in aflib.pick_samples(sample_campaign, 8, period_no=1):
        (home / "inbox" / unit).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, home / "inbox" / unit / src.name)
    return env


def dags_test(aflib, env, dag_id: str, logical_date: str | None = None, ok: bool = True) -> str:
    args = ["dags", "test", dag_id] + ([logical_date] if logical_date else [])
    if ok:
        proc = aflib.run_cli(args, env, timeout=400)
    else:
        proc = subprocess.run(
            [aflib.AIRFLOW, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
            cwd=env["ROADSAFE_HOME"],
        )
        assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert ("state=success" in out) is ok, out[-3000:]
    return out


def query(env, sql: str, db: str = "published/warehouse.duckdb"):
    import duckdb

    con = duckdb.connect(str(Path(env["ROADSAFE_HOME"]) / db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_ingest_then_build(aflib, env):
    dags_test(aflib, env, "roadsafe_ingest")
    assert query(env, "select status, count(*) from raw.submissions group by 1", "warehouse.duckdb") == [
        ("accepted", 8)
    ]
    dags_test(aflib, env, "roadsafe_build")
    assert query(env, "select count(*) from raw.submissions") == [(8,)]
    assert query(env, "select count(*) from marts.fct_indicator_values")[0][0] > 0


def test_ingest_again_finds_nothing_and_skips_the_raw_outlet(aflib, env):
    out = dags_test(aflib, env, "roadsafe_ingest")
    assert "no submission written to raw.*" in out


def test_weekly_edition_on_its_bulletin_day(aflib, env, smtp):
    _, box = smtp
    dags_test(aflib, env, "roadsafe_weekly", "2022-04-14T09:00:00+00:00")  # 17:00 Asia/Shanghai
    reports = Path(env["ROADSAFE_HOME"]) / "reports"
    for kind, name in (("weekly_bulletin", "bulletin"), ("dispatch_list", "dispatch")):
        folder = reports / kind / "week-01"
        for ext in ("html", "pdf", "xlsx"):
            assert (folder / f"{name}.{ext}").stat().st_size > 0
        assert json.loads((folder / "delivery.json").read_text())["status"] == "sent"
    subjects = box.subjects()
    assert any("工作通报" in s for s in subjects) and any("工作调度单" in s for s in subjects)


def test_weekly_short_circuits_on_other_days(aflib, env, smtp):
    _, box = smtp
    before = len(box.messages)
    out = dags_test(aflib, env, "roadsafe_weekly", "2022-04-15T09:00:00+00:00")
    assert "Skipping downstream tasks" in out
    assert not (Path(env["ROADSAFE_HOME"]) / "reports" / "weekly_bulletin" / "week-02").exists()
    assert len(box.messages) == before


def test_monthly_edition_on_the_last_working_day(aflib, env, smtp):
    _, box = smtp
    dags_test(aflib, env, "roadsafe_monthly", "2022-04-29T10:00:00+00:00")  # 18:00 Asia/Shanghai
    reports = Path(env["ROADSAFE_HOME"]) / "reports"
    assert (reports / "monthly_ranking" / "2022-04").is_dir()
    assert (reports / "monthly_summary" / "2022-04").is_dir()
    assert any("工作排名" in s for s in box.subjects())


def test_monthly_fails_clearly_for_a_year_the_calendar_does_not_know(aflib, env):
    out = dags_test(aflib, env, "roadsafe_monthly", "2027-01-29T10:00:00+00:00", ok=False)
    assert "工作日历中没有2027年的节假日安排" in out
    assert "state=failed" in out


def test_reminders_write_the_hours_notices(aflib, env):
    # 2022-04-14 12:00 Asia/Shanghai: the week-1 forms are due now → an overdue notice for every expected
    # submission without an accepted file received by then. The sample files were copied into the inbox
    # today, so none was received by 2022-04-14: every week-1 expected submission gets its notice.
    dags_test(aflib, env, "roadsafe_reminders", "2022-04-14T04:00:00+00:00")
    outbox = Path(env["ROADSAFE_HOME"]) / "reminders" / "2022-04-14T12.json"
    notices = json.loads(outbox.read_text(encoding="utf-8"))["notices"]
    assert {n["kind"] for n in notices} == {"overdue"}
    expected = query(
        env,
        "select form_code, unit_id from ref.expected_submissions "
        "where due_at = timestamptz '2022-04-14 12:00:00+08:00' order by 1, 2",
    )
    assert sorted((n["form_code"], n["unit_id"]) for n in notices) == [tuple(r) for r in expected]
    assert len(expected) > 8
