"""``roadsafe demo``: the 2022 sample campaign, week by week, through real Airflow DAG runs, then the
long-term plan (九府办发[2022]11号) next to it (:mod:`application.demo.longterm`).

For every report time of the campaign (each weekly bulletin, each monthly ranking), in order:

1. ``roadsafe_ingest`` imports the sample submissions received up to that time, with their original
   receive times (so on time and late are real);
2. ``roadsafe_build`` runs dbt and publishes the snapshot;
3. ``roadsafe_weekly`` or ``roadsafe_monthly`` freezes the edition, renders HTML/PDF/XLSX and e-mails it
   (to a mail sink on loopback that keeps every message under ``$ROADSAFE_HOME/outbox``);
4. the reminders of the hours since the previous step are selected and delivered to the sample contacts
   (imported from their generated Excel list), as the hourly reminders DAG would (same function).

The DAGs run with ``dag.test()`` in this process: the same DAG code as production, one run at a time, on
an Airflow metadata database under ``$ROADSAFE_HOME/airflow``. Running the demo again starts from an
empty warehouse so the figures are the same every time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

from roadsafe.settings import Settings

__all__ = ["report_times", "run_demo"]

_REPORT_DAGS = {"weekly_bulletin": "roadsafe_weekly", "monthly_ranking": "roadsafe_monthly"}


def report_times(campaign, calendar) -> list[tuple[dt.datetime, str, str]]:
    """(time, DAG id, what) for every weekly bulletin and monthly ranking of the campaign, in order."""
    from roadsafe.schedule import build_schedule

    return [
        (item.due_at, _REPORT_DAGS[item.kind], item.ref)
        for item in build_schedule(campaign, calendar)
        if item.kind in _REPORT_DAGS
    ]


def _fresh_home(settings: Settings) -> None:
    """Remove what an earlier demo left (warehouse, landing zone, reports), keeping Airflow's database."""
    for name in (
        "warehouse.duckdb",
        "warehouse.duckdb.wal",
        "landing",
        "published",
        "reports",
        "site",
        "outbox",
        "reminders",
    ):
        path = settings.home / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


@contextlib.contextmanager
def _output_to(log_path: Path):
    """Send this process's stdout/stderr (file descriptors, so task logs too) to a log file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_path.open("ab") as log_file:
        os.dup2(log_file.fileno(), 1)
        os.dup2(log_file.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _run_dag(bag, dag_id: str, when: dt.datetime, log_path: Path, conf: dict | None = None) -> str:
    import pendulum

    with _output_to(log_path):
        run = bag.dags[dag_id].test(logical_date=pendulum.instance(when), run_conf=conf)
    if run.state != "success":
        raise RuntimeError(
            f"DAG {dag_id} 于 {when:%Y-%m-%d %H:%M} 运行失败（{run.state}），日志见 {log_path}。"
        )
    return run.state


class _DemoReminders:
    """The sample contacts imported, then the reminders of every notice hour up to each step's time."""

    def __init__(self, settings: Settings, campaign):
        from application.inbox_replies import create_drop_folders
        from application.samples.contacts import write_sample_contacts
        from roadsafe.contacts import import_xlsx, save_contacts

        source = write_sample_contacts(campaign, settings.samples / f"{campaign.code}-联络员名单.xlsx")
        save_contacts(settings, import_xlsx(campaign, source))
        create_drop_folders(settings, campaign)
        self.settings, self.campaign = settings, campaign
        self.since = dt.datetime.combine(campaign.frame.start, dt.time(), dt.UTC) - dt.timedelta(days=3)
        self.counts: dict[str, int] = {}

    def run_until(self, when: dt.datetime) -> None:
        from application.reminders import notice_slots, run_reminders
        from roadsafe.warehouse import open_snapshot

        con = open_snapshot(self.settings.published)
        try:
            rows = con.execute("select distinct due_at from ref.expected_submissions").fetchall()
        finally:
            con.close()
        for slot in notice_slots(self.campaign, [r[0] for r in rows], self.since, when):
            for d in run_reminders(self.settings, slot)["deliveries"]:
                if d["status"] == "sent":
                    self.counts[d["rung"]] = self.counts.get(d["rung"], 0) + 1
        self.since = when

    def text(self) -> str:
        names = {"reminder": "提醒", "overdue": "逾期通知", "escalation": "督促"}
        parts = "，".join(f"{names[k]} {v}" for k, v in self.counts.items())
        return f"{sum(self.counts.values())} 封（{parts}），收件人为样例联络员（example.org / example.com）"


def _second_campaign(settings: Settings, env: dict, log_path: Path):
    """The long-term plan next to the first campaign (:mod:`application.demo.longterm`), through the same
    DAG files parsed for it (its home and code in the environment while it runs)."""
    from airflow.dag_processing.dagbag import DagBag

    from application.demo.longterm import run_second_campaign, second_campaign_env, second_settings

    variables = second_campaign_env(second_settings(settings))
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        bag = DagBag(dag_folder=str(env["AIRFLOW__CORE__DAGS_FOLDER"]))
        if bag.import_errors:
            raise RuntimeError(f"DAG 导入错误：{bag.import_errors}")
        return run_second_campaign(
            settings, lambda dag_id, when, conf: _run_dag(bag, dag_id, when, log_path, conf)
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_demo(settings: Settings) -> int:
    """Run the whole sample campaign; prints where everything is. Returns the exit code."""
    from application.airflow.local import airflow_env, run_airflow
    from application.demo.mailsink import MailSink
    from application.samples import generate_samples
    from roadsafe.workcalendar import WorkCalendar

    started = time.monotonic()
    settings.ensure()
    _fresh_home(settings)
    campaign = settings.campaign()
    samples = settings.samples / campaign.code
    manifest = generate_samples(campaign, samples, seed=2022)
    print(f"样例数据：{len(manifest.entries)} 份报送文件 → {samples}")

    log_path = settings.logs / "demo.log"
    log_path.unlink(missing_ok=True)
    print(f"Airflow 运行日志：{log_path}")
    env = airflow_env(settings.home)
    env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    os.environ.update(env)
    run_airflow(["db", "migrate"], env)

    reminders = _DemoReminders(settings, campaign)
    with MailSink(settings.home / "outbox") as sink:
        os.environ.update({"ROADSAFE_SMTP_HOST": sink.host, "ROADSAFE_SMTP_PORT": str(sink.port)})
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(env["AIRFLOW__CORE__DAGS_FOLDER"]))
        if bag.import_errors:
            raise RuntimeError(f"DAG 导入错误：{bag.import_errors}")
        for when, dag_id, ref in report_times(campaign, WorkCalendar.load()):
            step = time.monotonic()
            conf = {"history_manifest": str(samples), "until": when.isoformat()}
            _run_dag(bag, "roadsafe_ingest", when, log_path, conf)
            _run_dag(bag, "roadsafe_build", when, log_path)
            _run_dag(bag, dag_id, when, log_path)
            reminders.run_until(when)
            print(f"  {when:%m-%d %H:%M} {ref:>8} {dag_id:<17} {time.monotonic() - step:5.1f} s")
        second = _second_campaign(settings, env, log_path)
        print(f"  {second.text()}")
        messages = sink.count
    from dashboards.site import build_site

    site = build_site(settings)

    print(f"完成，用时 {time.monotonic() - started:.0f} 秒。")
    print(f"  数据仓库：{settings.warehouse}（只读快照：{settings.published}）")
    print(f"  报告（HTML/PDF/XLSX）：{settings.reports}")
    print(f"  已发送邮件 {messages} 封，存于 {settings.home / 'outbox'}")
    print(f"  其中催报通知 {reminders.text()}")
    print(f"  网站：{site}（.venv/bin/roadsafe serve 后在浏览器打开）")
    return 0


def main() -> int:  # pragma: no cover - `python -m application.demo.replay`
    return run_demo(Settings.from_env())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
