"""The state of a deployment at a glance, for the operator (``roadsafe status``) and the office page.

For each campaign: the last file of every unit and whether it is in the published figures, the files
received but not yet in them, the last build (the snapshot's publication), the last edition; for the
deployment: running and recently failed Airflow tasks, the Celery queue's depth and the disk use of
``$ROADSAFE_HOME``. Everything is read without taking a lock: the published snapshot read-only, the landing
zone's receipt names, the editions' ``edition.json``, Airflow's metadata database or REST API, Redis.

Airflow is asked through one of two sources: its metadata database (``$ROADSAFE_AIRFLOW_DATABASE_URL``, or
the embedded profile's SQLite file under ``$ROADSAFE_HOME/airflow``), which the operator's shell may read, or
the REST API with an account that may read DAG runs and task instances (the portal's own). When neither
answers, the status says "Airflow 未连接" and shows the rest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from roadsafe.settings import Settings
from roadsafe.wording import cn_short, cn_size

__all__ = [
    "AirflowDatabase",
    "AirflowRest",
    "AirflowState",
    "CampaignState",
    "DeploymentStatus",
    "collect",
    "queue_depth",
]

DEFAULT_TZ = "Asia/Shanghai"
FAILED_WINDOW = dt.timedelta(hours=24)
STATUS_WORDS = {"accepted": "已受理", "rejected": "退回", "duplicate": "重复"}
STATE_WORDS = {"running": "运行中", "failed": "失败"}


@dataclass
class UnitFile:
    unit_id: str
    unit_name: str
    form_code: str | None
    original_name: str | None
    received_at: dt.datetime | None
    status: str


@dataclass
class CampaignState:
    code: str
    name: str
    home: str
    timezone: str = DEFAULT_TZ
    snapshot: bool = False
    last_files: list[UnitFile] = field(default_factory=list)
    last_received_at: dt.datetime | None = None
    receipts: int = 0
    pending: int = 0
    last_build_at: dt.datetime | None = None
    last_ingest_at: dt.datetime | None = None
    last_edition: dict | None = None
    disk_bytes: int = 0


@dataclass
class TaskLine:
    dag_id: str
    task_id: str
    run_id: str
    state: str
    start_date: dt.datetime | None
    end_date: dt.datetime | None
    hostname: str | None
    campaign: str | None = None


@dataclass
class AirflowState:
    connected: bool
    source: str
    error: str | None = None
    running: list[TaskLine] = field(default_factory=list)
    failed: list[TaskLine] = field(default_factory=list)
    last_success: dict[str, dt.datetime] = field(default_factory=dict)


@dataclass
class DeploymentStatus:
    generated_at: dt.datetime
    root: str
    campaigns: list[CampaignState]
    airflow: AirflowState
    queue: dict
    disk_bytes: int
    disk_free: int | None

    def to_json(self) -> str:
        def default(value):
            if isinstance(value, dt.datetime):
                return value.isoformat()
            raise TypeError(type(value).__name__)

        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=default)

    def text(self) -> str:
        """The Chinese report for people."""
        tz = ZoneInfo(self.campaigns[0].timezone if self.campaigns else DEFAULT_TZ)
        out = [f"运行状态（{cn_short(self.generated_at, tz)}，数据目录 {self.root}）", ""]
        for c in self.campaigns:
            ctz = ZoneInfo(c.timezone)
            out.append(f"【{c.name}】（{c.code}）")
            built = cn_short(c.last_build_at, ctz) if c.last_build_at else "尚未发布数据快照"
            out.append(f"  最近构建：{built}")
            ingest = cn_short(c.last_ingest_at, ctz) if c.last_ingest_at else "—（Airflow 未连接或尚无记录）"
            out.append(f"  最近入库：{ingest}")
            out.append(
                f"  最近收到文件：{cn_short(c.last_received_at, ctz)}；共收到 {c.receipts} 份，"
                f"其中 {c.pending} 份尚未进入已发布数据"
            )
            if c.last_edition:
                e = c.last_edition
                out.append(f"  最近一期报告：{e['title']}（第{e['issue_no']}期，{e['label']}），"
                           f"{cn_short(_parse(e['frozen_at']), ctz)} 生成{'' if e['rendered'] else '，尚未完成排版'}")  # fmt: skip
            else:
                out.append("  最近一期报告：尚无")
            out.append(f"  数据占用：{cn_size(c.disk_bytes)}")
            if c.last_files:
                out.append("  各单位最近报送：")
                for f in c.last_files:
                    out.append(f"    {f.unit_name}  {f.form_code or '—'}  {f.original_name or '—'}  "
                               f"{cn_short(f.received_at, ctz)}  {STATUS_WORDS.get(f.status, f.status)}")  # fmt: skip
            elif c.snapshot:
                out.append("  各单位最近报送：尚无")
            out.append("")
        a = self.airflow
        if not a.connected:
            out.append(f"Airflow 未连接（{a.error}）" if a.error else "Airflow 未连接")
        else:
            out.append(f"Airflow（{a.source}）：运行中任务 {len(a.running)} 个，近24小时失败任务 {len(a.failed)} 个")
            for t in a.running + a.failed:
                when = cn_short(t.end_date or t.start_date, tz)
                out.append(f"  {STATE_WORDS.get(t.state, t.state)}  {t.dag_id}.{t.task_id}  {when}"
                           f"{'  ' + t.hostname if t.hostname else ''}")  # fmt: skip
        q = self.queue
        if q.get("depth") is not None:
            out.append(f"任务队列：{q['queue']} 队列积压 {q['depth']} 个任务")
        else:
            out.append(f"任务队列：{q.get('note') or '—'}")
        free = f"，磁盘剩余 {cn_size(self.disk_free)}" if self.disk_free is not None else ""
        out.append(f"数据目录占用：{cn_size(self.disk_bytes)}{free}")
        return "\n".join(out)


def _parse(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _aware(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _mtime(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError:
        return None


def tree_bytes(root: Path) -> int:
    """Bytes of the regular files under ``root`` (links not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            total += st.st_size
    return total


# --------------------------------------------------------------------------- one campaign


def campaign_state(settings: Settings) -> CampaignState:
    """What the campaign's home says: snapshot, receipts, editions, disk."""
    state = CampaignState(code=settings.campaign_code, name=settings.campaign_code, home=str(settings.home))
    receipts_dir = settings.landing / "receipts"
    receipt_ids = {p.stem for p in receipts_dir.glob("*.json")} if receipts_dir.is_dir() else set()
    state.receipts = len(receipt_ids)
    newest = max((receipts_dir / f"{r}.json" for r in receipt_ids), key=lambda p: p.stat().st_mtime, default=None)
    state.last_received_at = _mtime(newest) if newest else None
    loaded: set[str] = set()
    if settings.published.is_file():
        from roadsafe.warehouse import open_snapshot

        state.snapshot = True
        state.last_build_at = _mtime(settings.published)
        con = open_snapshot(settings.published)
        try:
            row = con.execute("select name, timezone from ref.campaign").fetchone()
            if row:
                state.name, state.timezone = row[0], row[1] or DEFAULT_TZ
            loaded = {r[0] for r in con.execute("select receipt_id from raw.submissions").fetchall() if r[0]}
            rows = con.execute(
                """
                select s.unit_id, coalesce(u.name, s.unit_id), s.form_code, s.original_name, s.received_at, s.status
                from raw.submissions s left join ref.units u on u.unit_id = s.unit_id
                where s.unit_id is not null
                qualify row_number() over (partition by s.unit_id order by s.received_at desc, s.submission_id desc) = 1
                order by u.sort_order nulls last, s.unit_id
                """
            ).fetchall()
        finally:
            con.close()
        state.last_files = [UnitFile(r[0], r[1], r[2], r[3], _aware(r[4]), r[5]) for r in rows]
    else:  # no snapshot yet: the name and time zone from the definition
        try:
            frame = settings.campaign().frame
            state.name, state.timezone = frame.name, frame.timezone
        except Exception:  # noqa: BLE001 - a broken definition is another command's message; show the code
            pass
    state.pending = len(receipt_ids - loaded)
    state.last_edition = last_edition(settings.reports)
    state.disk_bytes = tree_bytes(settings.home)
    return state


def last_edition(reports: Path) -> dict | None:
    """The edition frozen last (``reports/<kind>/<ref>/edition.json``), with its title and whether rendered."""
    best = None
    for meta_path in reports.glob("*/*/edition.json") if reports.is_dir() else ():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        frozen = meta.get("frozen_at")
        if not frozen or (best is not None and _parse(frozen) <= _parse(best["frozen_at"])):
            continue
        title = meta.get("kind")
        manifest_path = meta_path.with_name("manifest.json")
        try:
            title = json.loads(manifest_path.read_text(encoding="utf-8")).get("title") or title
        except (OSError, ValueError):
            pass
        rendered = any(p.suffix == ".pdf" for p in meta_path.parent.iterdir())
        best = {"kind": meta.get("kind"), "ref": meta.get("ref"), "title": title, "issue_no": meta.get("issue_no"),
                "label": meta.get("label"), "frozen_at": frozen, "rendered": rendered}  # fmt: skip
    return best


# --------------------------------------------------------------------------- Airflow


def _campaign_of(dag_id: str, codes: list[str]) -> str | None:
    """``roadsafe_<kind>__<code>`` names its campaign; a one-campaign deployment's DAGs are its campaign's."""
    if "__" in dag_id:
        code = dag_id.rsplit("__", 1)[1]
        return code if code in codes else None
    return codes[0] if len(codes) == 1 else None


class AirflowDatabase:
    """Airflow's metadata database read with SQLAlchemy (PostgreSQL or the embedded SQLite file)."""

    source = "元数据库"

    def __init__(self, url: str):
        self.url = url

    def read(self, since: dt.datetime) -> AirflowState:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url, connect_args=_connect_args(self.url))
        try:
            with engine.connect() as conn:
                cols = "dag_id, task_id, run_id, state, start_date, end_date, hostname"
                running = conn.execute(sa.text(
                    f"select {cols} from task_instance where state = 'running' and dag_id like 'roadsafe%' "
                    "order by start_date")).fetchall()  # fmt: skip
                failed = conn.execute(sa.text(
                    f"select {cols} from task_instance where state = 'failed' and dag_id like 'roadsafe%' "
                    "and end_date >= :since order by end_date desc"), {"since": since}).fetchall()  # fmt: skip
                last = conn.execute(sa.text(
                    "select dag_id, max(end_date) from dag_run where state = 'success' and dag_id like 'roadsafe%' "
                    "group by dag_id")).fetchall()  # fmt: skip
        finally:
            engine.dispose()
        return AirflowState(
            connected=True,
            source=self.source,
            running=[TaskLine(*r[:4], _aware(r[4]), _aware(r[5]), r[6]) for r in running],
            failed=[TaskLine(*r[:4], _aware(r[4]), _aware(r[5]), r[6]) for r in failed],
            last_success={r[0]: _aware(r[1]) for r in last if r[1] is not None},
        )


def _connect_args(url: str) -> dict:
    if url.startswith("postgresql"):
        return {"connect_timeout": 3}
    if url.startswith("sqlite"):
        return {"timeout": 3}
    return {}


class AirflowRest:
    """Airflow's REST API with an account that may read DAG runs and task instances."""

    source = "REST 接口"

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 token: str | None = None, timeout: float = 3.0):  # fmt: skip
        self.url, self.username, self.password, self.token, self.timeout = url.rstrip("/"), username, password, token, timeout

    def _call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - configured URL
            return json.loads(resp.read().decode("utf-8") or "{}")

    def read(self, since: dt.datetime) -> AirflowState:
        token = self.token
        if self.username and self.password:
            token = self._call("POST", "/auth/token", {"username": self.username, "password": self.password})[
                "access_token"
            ]
        lines: dict[str, list[TaskLine]] = {}
        for state in ("running", "failed"):
            params = {"state": state, "limit": 100, "dag_id_prefix_pattern": "roadsafe_"}
            if state == "failed":
                params["end_date_gte"] = since.isoformat()
            answer = self._call("GET", f"/api/v2/dags/~/dagRuns/~/taskInstances?{urllib.parse.urlencode(params)}",
                                token=token)  # fmt: skip
            lines[state] = [
                TaskLine(t["dag_id"], t["task_id"], t["dag_run_id"], t["state"], _aware(t.get("start_date")),
                         _aware(t.get("end_date")), t.get("hostname"))  # fmt: skip
                for t in answer.get("task_instances", [])
                if t["dag_id"].startswith("roadsafe")
            ]
        query = {"state": "success", "order_by": "-end_date", "limit": 100, "dag_id_prefix_pattern": "roadsafe_"}
        runs = self._call("GET", "/api/v2/dags/~/dagRuns?" + urllib.parse.urlencode(query), token=token)
        last: dict[str, dt.datetime] = {}
        for r in runs.get("dag_runs", []):
            end = _aware(r.get("end_date"))
            if end and r["dag_id"].startswith("roadsafe") and (r["dag_id"] not in last or end > last[r["dag_id"]]):
                last[r["dag_id"]] = end
        return AirflowState(True, self.source, running=lines["running"], failed=lines["failed"], last_success=last)


def _read_airflow(source, since: dt.datetime) -> AirflowState:
    if source is None:
        return AirflowState(False, "", "未配置 Airflow 元数据库或接口地址")
    try:
        return source.read(since)
    except urllib.error.HTTPError as exc:
        reason = "账户无权读取任务状态" if exc.code in (401, 403) else f"接口返回 HTTP {exc.code}"
        return AirflowState(False, source.source, reason)
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the rest of the status still shows
        return AirflowState(False, source.source, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")


# --------------------------------------------------------------------------- Celery queue


def queue_depth(broker_url: str | None, queue: str = "default") -> dict:
    """Tasks waiting in the Celery queue on Redis (the queue's list and its priority lists)."""
    if not broker_url:
        return {"queue": queue, "depth": None, "note": "未使用 Celery 队列（单机 LocalExecutor）"}
    if not broker_url.startswith(("redis://", "rediss://")):
        return {"queue": queue, "depth": None, "note": "队列深度仅支持 Redis 队列"}
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=3, socket_timeout=3)
        keys = [queue.encode(), *client.scan_iter(match=f"{queue}\x06\x16*", count=100)]
        depth = sum(int(client.llen(k)) for k in dict.fromkeys(keys))
        client.close()
    except redis.RedisError as exc:
        return {"queue": queue, "depth": None, "note": f"队列服务未连接（{type(exc).__name__}）"}
    return {"queue": queue, "depth": depth, "note": None}


# --------------------------------------------------------------------------- all together


def collect(
    campaigns: Iterable[Settings],
    *,
    root: Path,
    airflow=None,
    broker_url: str | None = None,
    now: dt.datetime | None = None,
) -> DeploymentStatus:
    """The status of the deployment at ``root`` for ``campaigns`` (their :class:`Settings`)."""
    now = now or dt.datetime.now(dt.UTC)
    states = [campaign_state(s) for s in campaigns]
    air = _read_airflow(airflow, now - FAILED_WINDOW)
    codes = [c.code for c in states]
    for t in air.running + air.failed:
        t.campaign = _campaign_of(t.dag_id, codes)
    for c in states:
        ends = [end for dag_id, end in air.last_success.items()
                if dag_id.startswith("roadsafe_ingest") and _campaign_of(dag_id, codes) == c.code]  # fmt: skip
        c.last_ingest_at = max(ends, default=None)
    try:
        free = shutil.disk_usage(root).free
    except OSError:
        free = None
    return DeploymentStatus(
        generated_at=now,
        root=str(root),
        campaigns=states,
        airflow=air,
        queue=queue_depth(broker_url),
        disk_bytes=tree_bytes(root),
        disk_free=free,
    )
