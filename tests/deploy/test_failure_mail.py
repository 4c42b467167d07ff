"""A task that fails for good e-mails the operator, and ``roadsafe status`` reports it: the real
``roadsafe_monthly`` DAG run with ``airflow dags test`` for a year the working-day calendar does not know
(its first task fails with the calendar's Chinese message), a real SMTP server on loopback receiving what
the failure callback sends; then the status read from Airflow's metadata database (``roadsafe status``, a
real process) and from a real api-server's REST API (what the portal's office page uses)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from application.airflow.local import AIRFLOW, airflow_env, run_airflow
from tests.mailbox import running_mailbox

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FAILED_TASK = ("roadsafe_monthly", "is_last_working_day")


@pytest.fixture(scope="module")
def mailbox():
    with running_mailbox() as box:
        yield box


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory, mailbox):
    """A home whose Airflow (embedded profile) ran the real monthly DAG into a failure; (home, env, output)."""
    home = tmp_path_factory.mktemp("failed") / "home"
    env = airflow_env(home)
    env.pop("ROADSAFE_CAMPAIGNS", None)
    env.update(
        ROADSAFE_SMTP_HOST="127.0.0.1",
        ROADSAFE_SMTP_PORT=str(mailbox.port),
        ROADSAFE_SMTP_FROM="roadsafe@jiujiang.example.gov.cn",
        ROADSAFE_OPERATOR_EMAIL="yunwei@jiujiang.example.gov.cn, zhiban@jiujiang.example.gov.cn",
    )
    run_airflow(["db", "migrate"], env, timeout=300)
    t0 = time.monotonic()
    proc = subprocess.run(
        [AIRFLOW, "dags", "test", "roadsafe_monthly", "2027-01-29T10:00:00+00:00"],
        env=env, capture_output=True, text=True, timeout=400, cwd=home,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "state=failed" in out, out[-3000:]
    print(f"\nfailing dags test with its callback: {time.monotonic() - t0:.1f} s")
    return home, env, out


def test_every_roadsafe_dag_mails_the_operator_on_failure():
    from airflow.dag_processing.dagbag import DagBag

    from application.airflow.callbacks import on_failure_callback
    from application.airflow.local import DAGS_FOLDER

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors, bag.import_errors
    assert len(bag.dags) >= 6
    for dag_id, dag in bag.dags.items():
        for task in dag.tasks:
            assert on_failure_callback in (task.on_failure_callback or []), f"{dag_id}.{task.task_id}"


def test_a_failed_task_of_the_real_dag_is_mailed_to_the_operator(failed_run, mailbox):
    _home, _env, out = failed_run
    assert len(mailbox.messages) == 1, out[-3000:]
    sender, rcpts, _raw = mailbox.messages[0]
    assert sender == "roadsafe@jiujiang.example.gov.cn"
    assert rcpts == ["yunwei@jiujiang.example.gov.cn", "zhiban@jiujiang.example.gov.cn"]
    (msg,) = mailbox.parsed()
    assert msg["Subject"] == "【roadsafe】任务失败：roadsafe_monthly.is_last_working_day（jiujiang-2022）"
    body = msg.get_content()
    assert "流程（DAG）：roadsafe_monthly" in body and "任务：is_last_working_day" in body
    assert "数据时间：2027年1月29日 18:00:00（北京时间）" in body
    assert "工作日历中没有2027年的节假日安排" in body  # the task's own exception, as the calendar words it


def test_a_failure_without_an_operator_address_sends_nothing_and_does_not_raise(mailbox, monkeypatch, caplog):
    from application.airflow.callbacks import on_failure_callback

    before = len(mailbox.messages)
    monkeypatch.setenv("ROADSAFE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ROADSAFE_SMTP_PORT", str(mailbox.port))
    monkeypatch.delenv("ROADSAFE_OPERATOR_EMAIL", raising=False)
    on_failure_callback({"exception": RuntimeError("x")})
    assert len(mailbox.messages) == before
    assert "ROADSAFE_OPERATOR_EMAIL is not set" in caplog.text
    # a mail server that is down: logged, never raised (the task's own failure stays what it was)
    monkeypatch.setenv("ROADSAFE_OPERATOR_EMAIL", "yunwei@jiujiang.example.gov.cn")
    monkeypatch.setenv("ROADSAFE_SMTP_PORT", "1")
    on_failure_callback({"exception": RuntimeError("x")})
    assert "could not e-mail the failure" in caplog.text


def _status(home: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in env.items() if not k.startswith(("AIRFLOW__", "ROADSAFE_AIRFLOW"))}
    return subprocess.run([sys.executable, "-m", "application.cli", "--home", str(home), "status", *args],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)  # fmt: skip


def test_status_reads_the_failed_task_from_the_metadata_database(failed_run):
    home, env, _ = failed_run
    proc = _status(home, env, "--json")
    assert proc.returncode == 1, proc.stderr  # a failed task: the probe's exit code says so
    status = json.loads(proc.stdout)
    assert status["airflow"]["connected"] and status["airflow"]["source"] == "元数据库"
    failed = [(t["dag_id"], t["task_id"], t["campaign"]) for t in status["airflow"]["failed"]]
    assert failed == [(*FAILED_TASK, "jiujiang-2022")]
    text = _status(home, env).stdout
    assert "近24小时失败任务 1 个" in text and "失败  roadsafe_monthly.is_last_working_day" in text


def test_status_reads_the_failed_task_through_the_rest_api(failed_run, tmp_path):
    """A real api-server on the same metadata database; the office page's source (the portal's account)."""
    from application.airflow.stack import Processes, free_port, wait_for
    from roadsafe.opstatus import AirflowRest, collect
    from roadsafe.settings import Settings

    home, env, _ = failed_run
    port = free_port()
    env = airflow_env(home, port=port)
    procs = Processes()
    try:
        procs.start("api-server", [AIRFLOW, "api-server"], env, tmp_path / "api-server.out")
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: AirflowRest(url).read(_since()).connected, 120, what="the api-server",
                 on_tick=procs.check_alive)  # fmt: skip
        status = collect([Settings(home=home)], root=home, airflow=AirflowRest(url))
    finally:
        procs.stop_all()
    assert status.airflow.connected and status.airflow.source == "REST 接口"
    assert [(t.dag_id, t.task_id) for t in status.airflow.failed] == [FAILED_TASK]
    assert status.airflow.running == []
    # and when the api-server is gone: said so, the rest still shown
    gone = collect([Settings(home=home)], root=home, airflow=AirflowRest(url, timeout=1))
    assert not gone.airflow.connected and "Airflow 未连接（URLError" in gone.text()


def _since():
    import datetime as dt

    return dt.datetime.now(dt.UTC) - dt.timedelta(days=1)

