"""The service contract: ``submit`` / ``Receipt``, ``process_inbox``, the registry, the lock, the CLI."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time

import pytest
from corpus import (
    ON_TIME_W5,
    REPO,
    at,
    f1_rows,
    f1_xlsx,
    f4_row,
    f4_xlsx,
    query,
    settings,
)

from application.cli import main as cli_main
from ingest.landing import read_receipts
from ingest.service import Receipt, UsageError, process_inbox, submit
from roadsafe.warehouse import WarehouseBusy


@pytest.fixture
def s(tmp_path):
    return settings(tmp_path)


def test_receipt_contract(s, tmp_path):
    r = submit(s, f1_xlsx(tmp_path / "F1.xlsx"), unit="公安局", submitted_by="张三", received_at=ON_TIME_W5)
    assert isinstance(r, Receipt)
    assert (r.status, r.submission_id, r.form, r.unit, r.period, r.row_count) == (
        "accepted",
        "S000001",
        "F1",
        "gongan",
        5,
        15,
    )
    assert (r.form_code, r.unit_id, r.period_no) == ("F1", "gongan", 5)  # names the Airflow summary reads
    assert r.messages == () and r.minutes_late == 0
    assert r.due_at == at(2022, 5, 12, 12, 0) and r.due_at.utcoffset() == dt.timedelta(hours=8)
    assert r.received_at == ON_TIME_W5
    row = query(
        s,
        "select submission_id, campaign_code, form_code, unit_id, period_no, original_name, stored_path, "
        "size_bytes, channel, submitted_by, received_at, due_at, minutes_late, status, superseded_by, "
        "row_count, error_count, warning_count, file_sha256 from raw.submissions",
    )[0]
    assert row[:6] == ("S000001", "jiujiang-2022", "F1", "gongan", 5, "F1.xlsx")
    assert row[6] == f"landing/{row[18][:2]}/{row[18]}.xlsx"
    assert (s.home / row[6]).read_bytes() == (tmp_path / "F1.xlsx").read_bytes()
    assert row[7] == (tmp_path / "F1.xlsx").stat().st_size
    assert row[8:] == (
        "cli",
        "张三",
        ON_TIME_W5,
        at(2022, 5, 12, 12, 0),
        0,
        "accepted",
        None,
        15,
        0,
        0,
        row[18],
    )


def test_form_values_view_reads_the_loaded_rows(s, tmp_path):
    submit(s, f1_xlsx(tmp_path / "F1.xlsx"), unit="市公安局", received_at=ON_TIME_W5)
    got = query(
        s,
        "select form_code, subject_unit_id, column_key, value_num from raw.form_values "
        "where record_key = 'xunyang' and column_key in ('inspected', 'vehicles_total') order by column_key",
    )
    assert got == [("F1", "xunyang", "inspected", 80.0), ("F1", "xunyang", "vehicles_total", 100.0)]


def test_usage_errors_record_nothing(s, tmp_path):
    path = f1_xlsx(tmp_path / "F1.xlsx")
    with pytest.raises(UsageError) as exc:
        submit(s, path, unit="市外星局")
    assert (
        exc.value.message
        == "找不到报送单位“市外星局”，请填写县（市、区）或市直部门的名称（如“市公安局”“浔阳区”）。"
    )
    with pytest.raises(UsageError) as exc:
        submit(s, path, unit="市公安局", form="F99")
    assert exc.value.message == "报表代码“F99”不存在，可用的报表：F1、F2、F3、F4、F5、F6、F7、F8、F9。"
    with pytest.raises(UsageError) as exc:
        submit(s, tmp_path / "nope.xlsx", unit="市公安局")
    assert exc.value.message.startswith("找不到文件“")
    assert not s.warehouse.exists() and list(s.landing.rglob("*")) == []


def test_older_receipt_loaded_late_does_not_replace_a_newer_one(s, tmp_path):
    newer = submit(
        s,
        f1_xlsx(tmp_path / "v2.xlsx", rows=f1_rows(bump=2)),
        unit="市公安局",
        received_at=at(2022, 5, 12, 11),
    )
    older = submit(s, f1_xlsx(tmp_path / "v1.xlsx"), unit="市公安局", received_at=at(2022, 5, 12, 9))
    assert older.status == "accepted" and older.superseded_by == newer.submission_id
    assert "此前已收到更晚报送的 S000001，以其为准。" in older.text()
    assert query(s, "select submission_id, superseded_by from raw.submissions order by 1") == [
        ("S000001", None),
        ("S000002", "S000001"),
    ]


def test_going_back_to_an_earlier_version_is_not_a_duplicate(s, tmp_path):
    v1 = f1_xlsx(tmp_path / "v1.xlsx")
    v2 = f1_xlsx(tmp_path / "v2.xlsx", rows=f1_rows(bump=2))
    submit(s, v1, unit="市公安局", received_at=at(2022, 5, 12, 9))
    submit(s, v2, unit="市公安局", received_at=at(2022, 5, 12, 10))
    again = submit(s, v1, unit="市公安局", received_at=at(2022, 5, 12, 11))
    assert again.status == "accepted" and again.superseded == ("S000002",)
    dup = submit(s, v1, unit="市公安局", received_at=at(2022, 5, 12, 11, 30))
    assert dup.status == "duplicate" and dup.duplicate_of == "S000003"
    assert query(s, "select status, count(*) from raw.submissions group by 1 order by 1") == [
        ("accepted", 3),
        ("duplicate", 1),
    ]


# --------------------------------------------------------------------------- the inbox


def _drop(s, unit: str, name: str, source) -> os.PathLike:
    folder = s.inbox / unit
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(source.read_bytes())
    return target


def test_process_inbox_lands_and_loads_each_file_once(s, tmp_path):
    f1 = _drop(s, "gongan", "重点车辆隐患清零周报（第5周）.xlsx", f1_xlsx(tmp_path / "a.xlsx"))
    f4 = _drop(s, "xunyang", "台账.xlsx", f4_xlsx(tmp_path / "b.xlsx", [f4_row(1), f4_row(2)]))
    _drop(s, "gongan", "~$重点车辆隐患清零周报（第5周）.xlsx", tmp_path / "a.xlsx")  # an Excel lock file
    before = {p: p.read_bytes() for p in (f1, f4)}
    receipts = process_inbox(s)
    assert [(r.status, r.unit, r.form, r.period, r.row_count) for r in receipts] == [
        ("accepted", "gongan", "F1", 5, 15),
        ("accepted", "xunyang", "F4", 5, 2),
    ]
    assert query(s, "select channel, source_path from raw.submissions order by 1, 2") == [
        ("inbox", "gongan/重点车辆隐患清零周报（第5周）.xlsx"),
        ("inbox", "xunyang/台账.xlsx"),
    ]
    # never moved, never changed
    assert {p: p.read_bytes() for p in (f1, f4)} == before
    assert process_inbox(s) == []
    # a new version under the same name is a new submission
    f4.write_bytes(f4_xlsx(tmp_path / "c.xlsx", [f4_row(1), f4_row(2), f4_row(3)]).read_bytes())
    (again,) = process_inbox(s)
    assert (again.status, again.row_count, again.superseded) == ("accepted", 3, ("S000002",))
    assert process_inbox(s) == []


def test_inbox_folder_that_is_no_unit(s, tmp_path):
    _drop(s, "nobody", "F1.xlsx", f1_xlsx(tmp_path / "a.xlsx"))
    (r,) = process_inbox(s)
    assert (r.status, r.unit) == ("rejected", None)
    assert [m.text for m in r.messages] == [
        "文件“F1.xlsx”：收件箱文件夹“nobody”不是已登记的单位，无法确定报送单位，请将文件放入本单位的文件夹后重新报送。"
    ]
    assert process_inbox(s) == []  # recorded: not retried


def test_inbox_folder_may_be_a_unit_name(s, tmp_path):
    _drop(s, "市公安局", "F1.xlsx", f1_xlsx(tmp_path / "a.xlsx"))
    (r,) = process_inbox(s)
    assert (r.status, r.unit) == ("accepted", "gongan")


# --------------------------------------------------------------------------- the lock

_HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
    """
)


def _hold_lock(s, seconds: float) -> subprocess.Popen:
    s.warehouse.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(s.warehouse), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_briefly_held_lock_is_waited_for(s, tmp_path, monkeypatch):
    monkeypatch.setenv("ROADSAFE_LOCK_WAIT", "20")
    proc = _hold_lock(s, 1.5)
    try:
        start = time.monotonic()
        r = submit(s, f1_xlsx(tmp_path / "F1.xlsx"), unit="市公安局", received_at=ON_TIME_W5)
        assert r.status == "accepted" and time.monotonic() - start >= 1.0
    finally:
        proc.wait(30)


def test_a_held_lock_gives_a_clear_message_and_the_file_stays_pending(s, tmp_path, monkeypatch):
    monkeypatch.setenv("ROADSAFE_LOCK_WAIT", "1")
    proc = _hold_lock(s, 60)
    try:
        with pytest.raises(WarehouseBusy) as exc:
            submit(s, f1_xlsx(tmp_path / "F1.xlsx"), unit="市公安局", received_at=ON_TIME_W5)
        assert exc.value.message.startswith(f"数据仓库 {s.warehouse} 正被其他程序占用（已等待")
        assert exc.value.message.endswith("秒），本次报送未处理，文件已留存，请稍后重试。")
    finally:
        proc.kill()
        proc.wait(30)
    assert [r.original_name for r in read_receipts(s)] == ["F1.xlsx"]
    (r,) = process_inbox(s)  # the landed file is picked up
    assert (r.status, r.unit, r.row_count, r.received_at) == ("accepted", "gongan", 15, ON_TIME_W5)
    assert process_inbox(s) == []


# --------------------------------------------------------------------------- the command line


def _cli(s, *args, capsys):
    code = cli_main(["--home", str(s.home), *args])
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


def test_cli_submit_exit_codes(s, tmp_path, capsys):
    good = f1_xlsx(tmp_path / "F1.xlsx")
    code, out, _ = _cli(
        s, "submit", str(good), "--unit", "市公安局", "--form", "f1", "--week", "5", capsys=capsys
    )
    assert code == 0 and out.startswith("已受理：市公安局 报送的《重点车辆隐患清零周报》第5周，共15行，")
    code, out, _ = _cli(s, "submit", str(good), "--unit", "gongan", capsys=capsys)
    assert code == 0 and out.startswith("重复报送：")
    rows = f1_rows()
    rows[0][1] = "abc"
    bad = f1_xlsx(tmp_path / "bad.xlsx", rows=rows)
    code, out, _ = _cli(s, "submit", str(bad), "--unit", "市公安局", capsys=capsys)
    assert code == 1
    assert out.splitlines()[1] == (
        "1. 文件“bad.xlsx”工作表“Sheet1”第4行（浔阳区）“重点车辆总数”列："
        "数值“abc”无法识别，请填写不小于0的整数（如 1234）。"
    )
    code, _, err = _cli(s, "submit", str(good), "--unit", "火星区", capsys=capsys)
    assert code == 2 and err.startswith("错误：找不到报送单位“火星区”")
    code, _, err = _cli(s, "submit", str(tmp_path / "missing.xlsx"), "--unit", "市公安局", capsys=capsys)
    assert code == 2 and err.startswith("错误：找不到文件“")
    with pytest.raises(SystemExit) as exc:  # argparse: --unit is required
        cli_main(["--home", str(s.home), "submit", str(good)])
    assert exc.value.code == 2


def test_cli_submit_as_a_process(s, tmp_path):
    env = {**os.environ, "ROADSAFE_HOME": str(s.home)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "application.cli",
            "submit",
            str(f1_xlsx(tmp_path / "F1.xlsx")),
            "--unit",
            "市公安局",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("已受理：市公安局 报送的《重点车辆隐患清零周报》第5周，共15行，")


def test_cli_template(s, tmp_path, capsys):
    out_path = tmp_path / "F1-template.xlsx"
    code, out, _ = _cli(
        s, "template", "F1", "--unit", "公安局", "--week", "5", "-o", str(out_path), capsys=capsys
    )
    assert code == 0 and out_path.is_file()
    assert out == f"已生成《重点车辆隐患清零周报》第5周填报模板（市公安局）：{out_path}"
    code, _, err = _cli(
        s, "template", "F1", "--unit", "火星区", "--week", "5", "-o", str(out_path), capsys=capsys
    )
    assert code == 2 and err.startswith("错误：找不到填报单位“火星区”")
    code, _, err = _cli(
        s, "template", "F1", "--unit", "公安局", "--week", "30", "-o", str(out_path), capsys=capsys
    )
    assert code == 2 and "第30周" in err


def test_a_filled_template_is_accepted(s, tmp_path):
    """The official blank form, filled in by the office, goes straight through."""
    import openpyxl

    from ingest.templates import write_template

    path = write_template(s.campaign(), "F1", "gongan", 5, tmp_path / "F1.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    for i, row in enumerate(range(5, 20)):
        for j, value in enumerate([100 + i, 90 + i, 80 + i, 10, 5]):
            ws.cell(row, 2 + j, value)
    wb.save(path)
    r = submit(s, path, unit="市公安局", received_at=ON_TIME_W5)
    assert (r.status, r.period, r.row_count) == ("accepted", 5, 15), r.text()
    assert query(s, "select sum(inspected) from raw.form_f1") == [(sum(80 + i for i in range(15)),)]
