"""What Airflow calls when a roadsafe task fails for good (after its retries): an e-mail to the operator.

Every roadsafe DAG has :func:`on_failure_callback` in its ``default_args``
(:data:`application.airflow.campaigns.DEFAULT_ARGS`). It runs in the task's own process, on the worker
that ran the task, and sends through the project's SMTP settings (``ROADSAFE_SMTP_*``, see
:mod:`dashboards.delivery`) to ``$ROADSAFE_OPERATOR_EMAIL`` (one address or several, comma-separated).
Without an address or a server it only logs that it could not tell anyone; it never raises, so a broken
mail server cannot change the task's outcome.

Imported by the DAG files at parse time: the standard library only at module level.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

__all__ = ["failure_message", "on_failure_callback", "operator_addresses"]

log = logging.getLogger(__name__)


def operator_addresses(environ: Mapping[str, str] | None = None) -> list[str]:
    """``$ROADSAFE_OPERATOR_EMAIL`` split on commas (empty when unset)."""
    text = (os.environ if environ is None else environ).get("ROADSAFE_OPERATOR_EMAIL") or ""
    return [a.strip() for a in text.replace(";", ",").split(",") if a.strip()]


def _campaign(dag_id: str) -> str:
    """The campaign a DAG belongs to (``roadsafe_<kind>__<code>``), else the deployment's one campaign."""
    if "__" in dag_id:
        return dag_id.rsplit("__", 1)[1]
    return os.environ.get("ROADSAFE_CAMPAIGN") or "jiujiang-2022"


def _when(value) -> str:
    if not isinstance(value, dt.datetime):
        return "—"
    local = value.astimezone(dt.timezone(dt.timedelta(hours=8)))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S}（北京时间）"


def failure_message(context: Mapping, sender: str, recipients: list[str]) -> EmailMessage:
    """The Chinese message for one failed task instance, from Airflow's task ``context``."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or "?"
    task_id = getattr(ti, "task_id", None) or "?"
    run_id = getattr(ti, "run_id", None) or "?"
    tries = getattr(ti, "try_number", None)
    host = getattr(ti, "hostname", None) or socket.gethostname()
    error = context.get("exception")
    error_text = f"{type(error).__name__}: {error}" if error is not None else "（Airflow 未提供错误信息）"
    logical = context.get("logical_date")
    started = getattr(ti, "start_date", None)
    log_url = getattr(ti, "log_url", None)
    msg = EmailMessage()
    msg["Subject"] = f"【roadsafe】任务失败：{dag_id}.{task_id}（{_campaign(dag_id)}）"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(idstring="roadsafe-failure", domain=sender.rpartition("@")[2] or "localhost")
    lines = [
        "roadsafe 的一个任务在重试后仍然失败，请及时处理。",
        "",
        f"活动：{_campaign(dag_id)}",
        f"流程（DAG）：{dag_id}",
        f"任务：{task_id}",
        f"运行：{run_id}",
        f"数据时间：{_when(logical)}",
        f"开始时间：{_when(started)}",
        f"尝试次数：{tries if tries is not None else '—'}",
        f"执行主机：{host}",
        "",
        "错误：",
        error_text[:4000],
        "",
        f"日志：{log_url}" if log_url else "日志：在 Airflow 界面中打开该任务查看。",
        "排查后可在 Airflow 界面中清除（Clear）该任务以重新运行；运行状态可用 roadsafe status 查看。",
    ]
    msg.set_content("\n".join(lines) + "\n", charset="utf-8")
    return msg


def on_failure_callback(context) -> None:
    """E-mail the operator about a failed task; never raises."""
    recipients = operator_addresses()
    if not recipients:
        log.warning("roadsafe: a task failed and ROADSAFE_OPERATOR_EMAIL is not set: no one was told by e-mail")
        return
    try:
        from dashboards.delivery import SmtpConfig, send_message

        config = SmtpConfig.from_env()
        refused = send_message(failure_message(context, config.sender, recipients), config, recipients)
        if refused:
            log.warning("roadsafe: the mail server refused %s", ", ".join(sorted(refused)))
        else:
            log.info("roadsafe: failure e-mailed to %s", ", ".join(recipients))
    except Exception:  # noqa: BLE001 - the callback must not hide the task's own failure
        log.exception("roadsafe: could not e-mail the failure to %s", ", ".join(recipients))
