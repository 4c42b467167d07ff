"""Importing historical submissions: ``ingest.history.replay_manifest`` and ``roadsafe import-history``.

The sample campaign (seed 2022) is replayed through the real pipeline: statuses must equal what the
generator expects, a second call must do nothing, windows must be ``since < received_at <= until``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from corpus import query, settings

from application.cli import main as cli_main
from application.samples import generate_samples
from ingest.history import replay, replay_manifest
from ingest.landing import read_receipts
from ingest.service import UsageError, _campaign, _land_request


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(folder, manifest entries as dicts) of the generated sample campaign."""
    out = tmp_path_factory.mktemp("history-sample")
    manifest = generate_samples("jiujiang-2022", out, seed=2022)
    return out, [e.to_json() for e in manifest.entries]


def _time(entry: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["received_at"])


def _last_of_week(entries: list[dict], week: int) -> dt.datetime:
    return max(_time(e) for e in entries if e["period_no"] <= week)


def _mini(tmp_path: Path, sample, picked: list[dict], **changes) -> Path:
    """A manifest folder holding copies of some sample entries (``changes`` applied to every line)."""
    folder, _ = sample
    out = tmp_path / "archive"
    lines = []
    for entry in picked:
        target = out / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / entry["path"], target)
        lines.append(json.dumps({**entry, **changes}, ensure_ascii=False))
    (out / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def test_first_two_weeks_week_by_week_give_the_expected_statuses(sample, tmp_path):
    folder, entries = sample
    s = settings(tmp_path)
    week1, week2 = _last_of_week(entries, 1), _last_of_week(entries, 2)
    first = [e for e in entries if _time(e) <= week1]
    second = [e for e in entries if week1 < _time(e) <= week2]
    assert len(first) > 80 and len(second) > 80

    got1 = replay_manifest(s, folder, until=week1)
    assert [(r.status, r.received_at) for r in got1] == [(e["expect"], _time(e)) for e in first]
    assert {r.status for r in got1} >= {"accepted", "rejected"}  # the sample has a rejected file in week 1

    # the next week: a growing `until` imports only what is new, in manifest order
    got2 = replay_manifest(s, folder, until=week2)
    assert [(r.status, r.received_at) for r in got2] == [(e["expect"], _time(e)) for e in second]
    assert [(r.unit, r.form, r.period) for r in got1 + got2] == [
        (e["unit_id"], e["form_code"], e["period_no"]) for e in first + second
    ]
    rows = query(s, "select channel, received_at, original_name from raw.submissions order by submission_id")
    assert rows == [(e["channel"], _time(e), Path(e["path"]).name) for e in first + second]

    # idempotent: the same windows again record nothing
    count = len(rows)
    assert replay_manifest(s, folder, until=week2) == []
    assert replay_manifest(s, folder, since=week1, until=week2) == []
    again = replay(s, folder, until=week2)
    assert (again.receipts, again.skipped, again.failed) == ([], count, [])
    assert query(s, "select count(*) from raw.submissions") == [(count,)]
    assert len(read_receipts(s)) == count  # nothing landed twice


def test_the_window_is_after_since_up_to_and_including_until(sample, tmp_path):
    _, entries = sample
    picked = entries[:5]
    times = [_time(e) for e in picked]
    assert len(set(times)) == 5
    folder = _mini(tmp_path, sample, picked)
    s = settings(tmp_path)
    got = replay_manifest(s, folder, since=times[1], until=times[3])
    assert [r.received_at for r in got] == times[2:4]
    # naive bounds are campaign time; an entry exactly at `since` stays out, one at `until` is in
    naive = times[0].replace(tzinfo=None)  # the sample times are +08:00, the campaign's
    got = replay_manifest(s, folder, until=naive)
    assert [r.received_at for r in got] == times[:1]
    got = replay_manifest(s, folder, since=times[3])
    assert [r.received_at for r in got] == times[4:]
    got = replay_manifest(s, folder)  # no bounds: everything not yet recorded
    assert [r.received_at for r in got] == times[1:2]
    assert replay_manifest(s, folder) == []


def test_a_file_landed_by_an_interrupted_import_is_loaded_not_landed_again(sample, tmp_path):
    _, entries = sample
    picked = entries[:3]
    folder = _mini(tmp_path, sample, picked)
    s = settings(tmp_path)
    entry = picked[1]
    pending = _land_request(  # what an import killed between landing and loading leaves behind
        s,
        _campaign(s),
        folder / entry["path"],
        unit=entry["unit_id"],
        form=None,
        period=None,
        channel=entry["channel"],
        submitted_by=None,
        received_at=_time(entry),
        original_name=None,
    )
    got = replay_manifest(s, folder)
    assert [r.status for r in got] == [e["expect"] for e in picked]
    assert len(read_receipts(s)) == 3
    assert query(
        s, "select receipt_id from raw.submissions where submission_id = ?", [got[1].submission_id]
    ) == [(pending.receipt_id,)]


def test_an_archive_pruned_of_imported_files_still_imports_the_rest(sample, tmp_path):
    _, entries = sample
    picked = entries[:3]
    folder = _mini(tmp_path, sample, picked)
    s = settings(tmp_path)
    assert len(replay_manifest(s, folder, until=_time(picked[1]))) == 2
    (folder / picked[0]["path"]).unlink()
    result = replay(s, folder)
    assert ([r.received_at for r in result.receipts], result.skipped) == ([_time(picked[2])], 2)


def test_a_bad_manifest_records_nothing(sample, tmp_path):
    _, entries = sample
    s = settings(tmp_path)
    folder = _mini(tmp_path, sample, entries[:2], unit_id="不存在的单位")
    with pytest.raises(UsageError) as err:
        replay_manifest(s, folder)
    assert (
        "第1行" in err.value.message and "第2行" in err.value.message and "不存在的单位" in err.value.message
    )
    (folder / entries[0]["path"]).unlink()
    lines = (
        (folder / "manifest.jsonl").read_text(encoding="utf-8").replace("不存在的单位", entries[0]["unit_id"])
    )
    (folder / "manifest.jsonl").write_text(lines + "{not json\n", encoding="utf-8")
    with pytest.raises(UsageError) as err:
        replay_manifest(s, folder)
    assert "第3行" in err.value.message
    (folder / "manifest.jsonl").write_text(lines, encoding="utf-8")
    with pytest.raises(UsageError) as err:
        replay_manifest(s, folder)
    assert "找不到文件" in err.value.message and "第1行" in err.value.message
    with pytest.raises(UsageError):
        replay_manifest(s, tmp_path / "nowhere")
    assert read_receipts(s) == []
    assert not list(s.landing.glob("*/*.*"))


def test_cli_import_history(sample, tmp_path, capsys):
    _, entries = sample
    picked = entries[:4]
    folder = _mini(tmp_path, sample, picked)
    s = settings(tmp_path)
    until = _time(picked[2]).isoformat()
    assert cli_main(["--home", str(s.home), "import-history", str(folder), "--until", until]) == 0
    out = capsys.readouterr().out
    assert "已导入 3 份历史报送（受理 3），跳过已导入的 0 份。" in out
    assert cli_main(["--home", str(s.home), "import-history", str(folder)]) == 0
    assert "已导入 1 份历史报送（受理 1），跳过已导入的 3 份。" in capsys.readouterr().out
    assert cli_main(["--home", str(s.home), "import-history", str(tmp_path / "nowhere")]) == 2
    assert "manifest.jsonl" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["--home", str(s.home), "import-history", str(folder), "--until", "next tuesday"])
