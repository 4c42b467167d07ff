"""``roadsafe build``: write the ``ref.*`` tables, run ``dbt build``, publish the read-only snapshot.

The build runs ``dbt --warn-error build`` in a subprocess (dbt does not support several invocations in
one process): models and data tests (unit tests too when asked: they test the SQL, not the data, so the test
suite runs them and a data arrival does not), with every warning an error — a YAML key dbt would
silently ignore, a deprecated property or an unused config path fails the build before anything runs (all
data tests have severity error, so warn-error changes nothing for them). One invocation instead of a
separate ``dbt parse --warn-error``: each dbt process costs ~5 s of start-up on 2 cores.

What runs: the whole graph when the dbt project, the campaign definition (both: a full refresh) or the
content of the ``ref.*`` tables (calendar, office decisions) changed since the last passing build of this
warehouse file (``ops.build_state``: a new, restored or replaced file has none, so it is built whole); else
only what new data can change — the models downstream of the ``raw`` sources and their tests
(``--select source:raw+``: 148 of 231 nodes). The ``ref`` staging views and the tests on the unchanged
``ref`` data passed at the last build. Everything dbt
writes goes under ``$ROADSAFE_HOME/dbt`` (target, partial-parse cache) and ``$ROADSAFE_HOME/logs/dbt``;
nothing is written into the repository.

When dbt passes, the warehouse is copied to ``published/warehouse.duckdb``: checkpoint, copy the file
while still holding the writer's lock (so no ingest can write meanwhile), ``fsync``, then ``os.replace``
over the old snapshot. Readers holding the old snapshot open keep reading it; new readers see the new one.
A failed build publishes nothing, so readers keep the last good snapshot.

Examples
--------
>>> from roadsafe.settings import Settings
>>> result = run_build(Settings.from_env())  # doctest: +SKIP
>>> result.ok, result.message  # doctest: +SKIP
(True, 'dbt build 通过：…')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from roadsafe.warehouse import connect, publish_snapshot

__all__ = ["DBT_PROJECT_DIR", "BuildResult", "dbt_executable", "run_build"]

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

_KIND_WORDS = {
    "model": "模型",
    "test": "数据测试",
    "unit_test": "单元测试",
    "seed": "种子表",
    "snapshot": "快照",
}


@dataclass
class BuildResult:
    """What a build did, in plain words.

    ``ok`` is True only when ref tables, every dbt model and test, and the snapshot all succeeded.
    ``failures`` has one Chinese sentence per failing model or test (or the error that stopped the build).
    """

    ok: bool
    message: str
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    published: str | None = None
    log_file: str | None = None
    returncode: int | None = None
    full_refresh: bool = False  # the incremental models were rebuilt from scratch
    whole_graph: bool = True  # every model and test ran (False: only what descends from the raw sources)
    status: str = field(init=False)  # "ok" or "failed"

    def __post_init__(self) -> None:
        self.status = "ok" if self.ok else "failed"


def dbt_executable() -> str:
    """The ``dbt`` next to the running Python (the project's virtualenv), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError("找不到 dbt 可执行文件：请先运行 make setup 安装依赖。")
    return found


def _dbt_env(settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ROADSAFE_WAREHOUSE=str(settings.warehouse),
        DBT_PROFILES_DIR=str(DBT_PROJECT_DIR),
        DBT_PROJECT_DIR=str(DBT_PROJECT_DIR),
        DBT_TARGET_PATH=str(settings.home / "dbt" / "target"),
        DBT_LOG_PATH=str(settings.logs / "dbt"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_USE_COLORS="false",
        DBT_PRINTER_WIDTH="120",
    )
    # dbt.log at info level (what ran, how long, what failed) unless asked otherwise: the debug default
    # writes every SQL statement and costs ~4 % of a small build
    env.setdefault("DBT_LOG_LEVEL_FILE", "info")
    return env


def _run_dbt(settings, args: list[str], log) -> subprocess.CompletedProcess:
    cmd = [dbt_executable(), *args]
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.run(
        cmd,
        cwd=settings.home / "dbt",
        env=_dbt_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    log.write(proc.stdout)
    log.flush()
    return proc


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return ""


def _describe(result: dict, nodes: dict) -> str | None:
    """One sentence for a failing run result, or None if it passed."""
    status = result.get("status")
    if status in ("success", "pass", "skipped", "no-op"):
        return None
    uid = result.get("unique_id", "")
    kind = uid.split(".", 1)[0]
    node = nodes.get(uid, {})
    name = node.get("name") or uid.rsplit(".", 1)[-1]
    word = _KIND_WORDS.get(kind, kind)
    message = _first_line(result.get("message"))
    if kind == "test" and status in ("fail", "warn"):
        failures = result.get("failures")
        attached = node.get("attached_node") or ""
        where = f"（{attached.rsplit('.', 1)[-1]}）" if attached else ""
        verb = "未通过" if status == "fail" else "有警告"
        return f"{word} {name}{where} {verb}：{failures} 行不符合要求。"
    if kind == "unit_test":
        model = (node.get("model") or "").rsplit(".", 1)[-1]
        return f"{word} {model}.{name} 未通过：模型对给定输入的结果与预期不符。{message}"
    return f"{word} {name} 出错：{message}"


def _summarise(target: Path, proc: subprocess.CompletedProcess) -> tuple[list[str], dict[str, int]]:
    results_file = target / "run_results.json"
    manifest_file = target / "manifest.json"
    if not results_file.exists():
        return [], {}
    results = json.loads(results_file.read_text(encoding="utf-8"))
    nodes: dict = {}
    if manifest_file.exists():
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    counts: dict[str, int] = {}
    failures = []
    for r in results.get("results", []):
        counts[r.get("status", "unknown")] = counts.get(r.get("status", "unknown"), 0) + 1
        sentence = _describe(r, nodes)
        if sentence:
            failures.append(sentence)
    skipped = counts.get("skipped", 0)
    if failures and skipped:
        failures.append(f"另有 {skipped} 个节点因上游失败而跳过。")
    return failures, counts


_TIMESTAMP = re.compile(r"^\d\d:\d\d:\d\d\s+")


def _error_lines(output: str) -> list[str]:
    """The lines that say what went wrong: from dbt's "Encountered an error" on, else the error lines."""
    lines = [_TIMESTAMP.sub("", ln).strip() for ln in output.splitlines()]
    lines = [ln for ln in lines if ln]
    for i, ln in enumerate(lines):
        if ln.startswith("Encountered an error"):
            picked = lines[i + 1 :] or [ln]
            break
    else:
        picked = [ln for ln in lines if "error" in ln.lower() or "warning" in ln.lower()] or lines[-5:]
    return [ln[:300] for ln in picked][:10]


RAW_DESCENDANTS = ["--select", "source:raw+"]


def _ref_fingerprint(con) -> str:
    """The content of every ``ref.*`` table (row count and the sum of the rows' hashes)."""
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'ref' and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
    ]
    digest = hashlib.sha256()
    for name in tables:
        count, total = con.execute(f'select count(*), sum(hash(t)) from ref."{name}" as t').fetchone()
        digest.update(f"{name}:{count}:{total}\0".encode())
    return digest.hexdigest()


def _code_fingerprint(campaign) -> str:
    """What the incremental tables were computed with: the dbt project and the campaign definition."""
    digest = hashlib.sha256()
    roots = [DBT_PROJECT_DIR / "models", DBT_PROJECT_DIR / "macros", campaign.root]
    files = [(DBT_PROJECT_DIR, DBT_PROJECT_DIR / "dbt_project.yml")]
    files += [(r, f) for r in roots for f in sorted(r.rglob("*")) if f.is_file()]
    for root, f in files:  # each root's files in order, named relative to it: the same anywhere on disk
        digest.update(f"{root.name}/{f.relative_to(root)}".encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def run_build(
    settings, *, publish: bool = True, unit_tests: bool = False, full_refresh: bool = False
) -> BuildResult:
    """Rewrite ``ref.*``, run ``dbt --warn-error build``, publish the snapshot.

    Parameters
    ----------
    settings : roadsafe.settings.Settings
    publish : bool
        Copy the warehouse to the published snapshot when dbt passes (default True).
    unit_tests : bool
        Also run dbt's unit tests (the test suite does; production builds after new data need not).
    full_refresh : bool
        Rebuild the incremental models from scratch. Done by itself when the dbt project or the campaign
        definition changed since this warehouse's last passing build (``ops.build_state``).

    Returns
    -------
    BuildResult
        ``ok`` False with plain-word ``failures`` when a model or test fails; never raises for a dbt
        failure. A broken campaign definition or calendar raises (CampaignError, CalendarYearMissing), and
        roadsafe.warehouse.WarehouseBusy when ingest writers keep the warehouse past the lock wait.
    """
    from application.inbox_replies import create_drop_folders
    from roadsafe.warehouse import writer_turn
    from roadsafe.workcalendar import WorkCalendar

    started = time.perf_counter()
    settings.ensure()
    (settings.home / "dbt").mkdir(parents=True, exist_ok=True)
    log_dir = settings.logs / "dbt"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"build-{dt.datetime.now():%Y%m%dT%H%M%S}.log"

    campaign = settings.campaign()
    calendar = WorkCalendar.load()
    create_drop_folders(settings, campaign)  # every unit that submits finds its folder in the inbox
    # The whole build takes its turn among the warehouse writers: ingest waits behind it instead of
    # finding the file held by dbt, and dbt never starts while a submission is being recorded.
    with writer_turn(settings):
        return _build(settings, campaign, calendar, publish, unit_tests, full_refresh, log_file, started)


def _load_office_decisions(con, settings, campaign) -> None:
    """The office's returns, excuses and cases (``$ROADSAFE_HOME/office/record.jsonl``) into ``ref.office_*``."""
    from roadsafe.reftables import write_office_tables

    write_office_tables(con, settings.home, campaign.code)


_BUILD_STATE = """
create schema if not exists ops;
create table if not exists ops.build_state (
    code_fingerprint varchar not null,  -- _code_fingerprint of the last passing build
    ref_fingerprint varchar not null,   -- _ref_fingerprint of the ref tables it was built on
    built_at timestamptz not null
);
"""


def _take_build_state(con) -> tuple[str | None, str | None]:
    """What this warehouse was last built with (None, None for one never built), cleared so a build that
    fails or is killed leaves a full refresh due. Kept in the warehouse, so a replaced, restored or new
    warehouse file is never built narrowly on what another file held."""
    con.execute(_BUILD_STATE)
    row = con.execute("select code_fingerprint, ref_fingerprint from ops.build_state").fetchone()
    con.execute("delete from ops.build_state")
    return row or (None, None)


def _build(settings, campaign, calendar, publish, unit_tests, full_refresh, log_file, started) -> BuildResult:
    from ingest.schema import ensure_raw_schema
    from roadsafe.reftables import write_reference

    timings: dict[str, float] = {}
    t = time.perf_counter()
    con = connect(settings, wait=60.0)
    try:
        ensure_raw_schema(con, campaign)
        write_reference(con, campaign, calendar)
        _load_office_decisions(con, settings, campaign)
        ref_fingerprint = _ref_fingerprint(con)
        built_code, built_ref = _take_build_state(con)
    finally:
        con.close()
    timings["ref"] = round(time.perf_counter() - t, 3)
    code = _code_fingerprint(campaign)
    full_refresh = full_refresh or built_code != code
    whole_graph = full_refresh or built_ref != ref_fingerprint

    target = settings.home / "dbt" / "target"
    with open(log_file, "w", encoding="utf-8") as log:
        (target / "run_results.json").unlink(missing_ok=True)
        t = time.perf_counter()
        args = ["--warn-error", "build"] + ([] if unit_tests else ["--exclude-resource-type", "unit_test"])
        args += ["--full-refresh"] if full_refresh else []
        args += [] if whole_graph else RAW_DESCENDANTS
        build = _run_dbt(settings, args, log)
        timings["dbt"] = round(time.perf_counter() - t, 3)

    failures, counts = _summarise(target, build)
    if build.returncode != 0:
        if not failures:  # stopped before running anything: a parse error or a warning treated as one
            failures = [f"dbt 解析：{ln}" for ln in _error_lines(build.stdout)]
            message = "dbt 解析未通过（警告按错误处理），未运行模型，未发布快照（读者继续使用上一版）。"
        else:
            n = len([f for f in failures if not f.startswith("另有")])
            message = f"dbt build 未通过：{n} 处失败，未发布快照（读者继续使用上一版）。"
        return BuildResult(
            ok=False,
            message=message,
            failures=failures,
            counts=counts,
            timings={**timings, "total": round(time.perf_counter() - started, 3)},
            log_file=str(log_file),
            returncode=build.returncode,
            full_refresh=full_refresh,
            whole_graph=whole_graph,
        )

    con = connect(settings, wait=60.0)
    try:
        con.execute(
            "insert into ops.build_state values (?, ?, current_timestamp)", [code, ref_fingerprint]
        )
    finally:
        con.close()
    published = None
    if publish:
        t = time.perf_counter()
        published = str(publish_snapshot(settings))
        timings["publish"] = round(time.perf_counter() - t, 3)
    timings["total"] = round(time.perf_counter() - started, 3)
    passed = sum(v for k, v in counts.items() if k in ("success", "pass"))
    return BuildResult(
        ok=True,
        message=f"dbt build 通过：{passed} 个模型与测试成功，用时 {timings['total']:.1f} 秒"
        + (f"；已发布快照 {published}" if published else "。"),
        counts=counts,
        timings=timings,
        published=published,
        log_file=str(log_file),
        returncode=0,
        full_refresh=full_refresh,
        whole_graph=whole_graph,
    )
