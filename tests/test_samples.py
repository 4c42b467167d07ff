"""The sample campaign generator: deterministic, complete, realistic and as messy as the spec says."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from application.samples import generate_samples, load_manifest
from application.samples.__main__ import main
from application.samples.world import build_world
from ingest.formfile import form_due_at
from roadsafe.campaign import load_campaign

SEED = 2022


@pytest.fixture(scope="module")
def campaign():
    return load_campaign("jiujiang-2022")


@pytest.fixture(scope="module")
def sample(campaign, tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    manifest = generate_samples(campaign, out, seed=SEED)
    header, entries = load_manifest(out)
    return out, manifest, header, entries


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_bytes(campaign, sample, tmp_path):
    out, manifest, _, _ = sample
    again = generate_samples(campaign, tmp_path / "again", seed=SEED)
    a = _tree(out)
    assert a == _tree(tmp_path / "again")
    assert [e.to_json() for e in again.entries] == [e.to_json() for e in manifest.entries]
    formats = Counter(e.format for e in manifest.entries)
    assert formats["xlsx"] and formats["xls"] and formats["csv"]  # xlsxwriter and xlwt both reproducible

    # regenerating into the same folder with another seed replaces the earlier sample
    generate_samples(campaign, tmp_path / "again", seed=SEED + 1)
    b = _tree(tmp_path / "again")
    assert a["manifest.jsonl"] != b["manifest.jsonl"]
    shared = set(a) & set(b) - {"manifest.json", "manifest.jsonl"}
    assert sum(a[p] != b[p] for p in shared) > 0.9 * len(shared)
    _, entries = load_manifest(tmp_path / "again")
    assert {e["path"] for e in entries} | {"manifest.json", "manifest.jsonl"} == set(b)


def test_foreign_folder_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main([str(tmp_path)]) == 2
    assert "不为空" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_every_expected_submission_is_sent_or_listed_missing(campaign, sample):
    _, manifest, header, entries = sample
    expected = {
        (code, unit, p.no)
        for code in campaign.forms
        for unit in campaign.form_submitters(code)
        for p in campaign.periods()
    }
    sent = {(e["form_code"], e["unit_id"], e["period_no"]) for e in entries}
    missing = {(m["form_code"], m["unit_id"], m["period_no"]) for m in header["missing"]}
    assert sent | missing == expected
    assert not sent & missing
    assert header["expected_submissions"] == len(expected) == manifest.expected
    assert 0.02 <= len(missing) / len(expected) <= 0.04
    assert header["extra_units"] == [] and header["scale"] == 1 and header["seed"] == SEED


def test_manifest_lines(campaign, sample):
    out, _, header, entries = sample
    due_at = {p.no: form_due_at(campaign, p.no) for p in campaign.periods()}
    assert [e["received_at"] for e in entries] == sorted(e["received_at"] for e in entries)
    assert header["files"] == len(entries) > 1100
    required = {"path", "unit_id", "form_code", "period_no", "received_at", "channel", "expect", "note"}
    for e in entries:
        assert required <= set(e)
        path = out / e["path"]
        assert path.is_file() and e["path"].split("/")[:2] == [f"{e['period_no']:02d}", e["unit_id"]]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == e["sha256"]
        received = dt.datetime.fromisoformat(e["received_at"])
        assert received.utcoffset() == dt.timedelta(hours=8)
        due = due_at[e["period_no"]]
        assert e["due_at"] == due.isoformat()
        assert (e["minutes_late"] > 0) == (received > due)
        assert e["channel"] in {"inbox", "portal", "cli"} and e["expect"] in {
            "accepted",
            "rejected",
            "duplicate",
        }
        assert e["note"]
    names = [Path(e["path"]).name for e in entries]
    assert "重点车辆隐患清零周报（第5周）-市公安局.xlsx" in names or any(
        "（第5周）-市公安局" in n for n in names
    )


def test_timing(sample):
    _, _, _, entries = sample
    first = [e for e in entries if e["special"] not in {"corrected", "revision", "duplicate"}]
    late = sum(e["minutes_late"] > 0 for e in first) / len(first)
    assert 0.06 <= late <= 0.16
    by_days = [e for e in first if e["minutes_late"] > 24 * 60]
    by_hours = [e for e in first if 0 < e["minutes_late"] <= 6 * 60]
    assert len(by_days) >= 10 and len(by_hours) >= 10


def test_wrong_files_are_corrected_later(sample):
    _, _, _, entries = sample
    by_path = {e["path"]: e for e in entries}
    wrong = [e for e in entries if e["expect"] == "rejected"]
    kinds = Counter(e["special"] for e in wrong)
    assert kinds == {
        "wrong:inspected_gt_due": 3,
        "wrong:negative_count": 3,
        "wrong:misspelt_county": 2,
        "wrong:text_in_number": 2,
        "wrong:fixed_without_date": 2,
    }
    for e in wrong:
        fix = by_path[e["related"]]
        assert fix["special"] == "corrected" and fix["expect"] == "accepted" and fix["related"] == e["path"]
        assert (fix["form_code"], fix["unit_id"], fix["period_no"]) == (
            e["form_code"],
            e["unit_id"],
            e["period_no"],
        )
        assert fix["received_at"] > e["received_at"] and fix["sha256"] != e["sha256"]
    revisions = [e for e in entries if e["special"] == "revision"]
    assert len(revisions) == 3
    for e in revisions:
        first = by_path[e["related"]]
        assert first["expect"] == "accepted" and first["received_at"] < e["received_at"]


def test_identical_resends(sample):
    out, _, _, entries = sample
    by_path = {e["path"]: e for e in entries}
    dups = [e for e in entries if e["expect"] == "duplicate"]
    assert len(dups) == 3
    for e in dups:
        original = by_path[e["related"]]
        assert (out / e["path"]).read_bytes() == (out / original["path"]).read_bytes()
        assert original["received_at"] < e["received_at"] and original["expect"] == "accepted"


def test_messiness_is_all_there(sample):
    _, manifest, header, entries = sample
    formats = Counter((e["format"], e["encoding"]) for e in entries)
    for key in [("xlsx", None), ("xls", None), ("csv", "gbk"), ("csv", "utf-8-sig"), ("csv", "utf-8")]:
        assert formats[key] >= 10, key
    assert formats[("xlsx", None)] > 0.6 * len(entries)
    cases = Counter(c for e in entries for c in e["cases"])
    at_least = {
        "title_row": 500,
        "unit_row": 500,
        "grouped_header": 100,
        "total_row": 20,
        "total_row_top": 3,
        "blank_rows": 10,
        "footer": 300,
        "footer_split": 50,
        "gap_row": 20,
        "columns_reordered": 20,
        "header_synonyms": 50,
        "thousands": 20,
        "fullwidth": 20,
        "wan": 3,
        "unknown_dash": 20,
        "unknown_blank": 20,
        "county_aliases": 50,
        "unit_row_alias": 20,
        "unit_row_date": 20,
        "date_native": 20,
        "date_iso": 10,
        "date_slash": 10,
        "date_cn": 10,
        "date_cn_md": 5,
        "date_serial": 5,
        "template_based": 20,
        "extra_column": 6,
        "sheet_name_generic": 50,
    }
    for case, n in at_least.items():
        assert cases[case] >= n, (case, cases[case])
    assert header["counts"]["cases"] == dict(sorted(cases.items()))
    # notes say it in words
    assert sum("3.15万" in e["note"] for e in entries) == cases["wan"]
    assert all(e["note"].startswith(e["format"]) for e in entries)


def test_files_open_and_show_the_form(campaign, sample):
    out, _, _, entries = sample
    for i, e in enumerate(entries):
        form = campaign.forms[e["form_code"]]
        path = out / e["path"]
        if e["format"] == "csv":
            text = path.read_bytes().decode(e["encoding"])
            cells = [c for line in text.splitlines() for c in line.split(",")]
        else:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
            cells = [str(c) for row in sheet for c in row]
            if e["format"] == "xlsx" and i % 10 == 0:
                assert openpyxl.load_workbook(path, read_only=True).worksheets[0].max_row >= 2
        for col in form.columns:
            assert any(h in cells for h in col.headers), (e["path"], col.header)


def test_csv_encodings_are_real(campaign, sample):
    out, _, _, entries = sample
    for e in (e for e in entries if e["format"] == "csv"):
        data = (out / e["path"]).read_bytes()
        if e["encoding"] == "gbk":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            first = campaign.forms[e["form_code"]].columns[0]
            assert any(h in data.decode("gbk") for h in first.headers)
        elif e["encoding"] == "utf-8-sig":
            assert data.startswith(b"\xef\xbb\xbf")
            data.decode("utf-8")
        else:
            assert not data.startswith(b"\xef\xbb\xbf")
            data.decode("utf-8")


def test_a_city_file_has_all_counties_and_true_figures(campaign, sample):
    out, _, _, entries = sample
    world = build_world(campaign, SEED)
    plain = [
        e
        for e in entries
        if e["form_code"] == "F1"
        and e["unit_id"] == "gongan"
        and e["format"] == "xlsx"
        and not {"thousands", "fullwidth", "wan", "county_aliases"} & set(e["cases"])
        and e["special"] is None
    ]
    assert plain
    e = plain[0]
    rows = CalamineWorkbook.from_path(str(out / e["path"])).get_sheet_by_index(0).to_python()
    names = {u.name: u.id for u in campaign.counties}
    found = {}
    for row in rows:
        label = next((c for c in row if c in names), None)
        if label:
            found[names[label]] = row
    assert set(found) == {u.id for u in campaign.counties}
    truth = world.rows("F1", "gongan", e["period_no"])
    for t in truth:
        assert t["inspected"] in [int(c) for c in found[t["county"]] if isinstance(c, float | int)]


def test_campaign_story(campaign):
    """The numbers behave like the 2022 campaign: rates climb to target, targets of the plan are met."""
    world = build_world(campaign, SEED)

    def rate(form, num, den, week):
        rows = world.county_rows[form][week].values()
        return sum(r[num] or 0 for r in rows) / sum(r[den] or 0 for r in rows)

    assert 0.55 <= rate("F1", "inspected", "inspect_due", 1) <= 0.68
    assert rate("F1", "inspected", "inspect_due", 12) >= 0.95
    week12 = world.county_rows["F1"][12]
    lagging = [c for c, r in week12.items() if r["inspected"] / r["inspect_due"] < 0.95]
    assert 1 <= len(lagging) <= 5  # some counties behind 序时进度
    for form, num, den in [("F1", "inspected", "inspect_due"), ("F2", "renewed", "renew_due")]:
        rates = [rate(form, num, den, w) for w in range(1, 14)]
        assert rates == sorted(rates)
    central = [c.id for c in world.counties if c.central]
    f7 = world.county_rows["F7"]
    assert sum(f7[13][c]["shared_ebikes"] for c in central) == 31500
    deadline_week = campaign.period_for(dt.date(2022, 4, 30)).no
    late = [
        c
        for c in central
        if f7[deadline_week][c]["ebikes_registered"] < f7[deadline_week][c]["shared_ebikes"]
    ]
    assert len(late) == 1  # one county registers late
    assert sum(f7[13][c]["enlarged_plates"] for c in central) >= 3000
    sites = [s for ledger in world.sites.values() for s in ledger]
    assert Counter(s.category for s in sites) == {
        "2018年以来死亡2人以上路口": 5,
        "2021年以来死亡1人路口": 41,
        "十大事故多发路段": 10,
        "农村公路平交路口减速带": 25,
    }
    done = Counter(s.category for s in sites if s.completed_on)
    assert done["十大事故多发路段"] == 10 and done["农村公路平交路口减速带"] == 25
    assert 44 <= done["2018年以来死亡2人以上路口"] + done["2021年以来死亡1人路口"] <= 46
    deaths = sum(r["deaths"] for w in range(1, 14) for r in world.county_rows["F8"][w].values())
    last_year = sum(r["deaths_last_year"] for w in range(1, 14) for r in world.county_rows["F8"][w].values())
    assert 0.3 <= deaths / last_year <= 0.7
    hr = [sum(r["high_risk_enterprises"] for r in world.county_rows["F6"][w].values()) for w in (3, 7, 12)]
    assert hr[0] > hr[1] > hr[2]
    ids = [h.id for ledger in world.hazards.values() for h in ledger]
    assert (
        len(ids) == len(set(ids))
        and any(i.startswith("GL-") for i in ids)
        and any(i.startswith("CG-") for i in ids)
    )
    statuses = {w: Counter(world.rows("F9", "gongan", w)[i]["status"] for i in range(12)) for w in (1, 13)}
    assert statuses[13]["已完成"] > statuses[1]["已完成"]


def test_f9_texts_are_official_chinese(campaign):
    world = build_world(campaign, SEED)
    for unit in campaign.form_submitters("F9"):
        rows = world.rows("F9", unit, 6)
        assert [r["task_no"] for r in rows] == campaign.tasks_led_by(unit)
        for r in rows:
            assert r["status"] in {"未启动", "推进中", "已完成"}
            assert r["progress"].startswith("截至") or r["progress"].startswith("该项工作")
            assert "{" not in r["progress"]
            r["progress"].encode("gbk")  # every text survives a GBK CSV


def test_f7_split_between_police_and_city_management(campaign):
    world = build_world(campaign, SEED)
    police = world.rows("F7", "gongan", 3)
    city = world.rows("F7", "chengguan", 3)
    assert len(police) == 15 and all(r["helmets_equipped"] is None for r in police)
    assert {r["county"] for r in city} == set(campaign.groups["zhongxin"])
    assert all(r["ebikes_registered"] is None and r["helmets_equipped"] is not None for r in city)


def test_scale_adds_synthetic_counties(campaign):
    world = build_world(campaign, SEED, scale=3)
    synthetic = [c for c in world.counties if c.synthetic]
    assert len(synthetic) == 30 and synthetic[0].name == "测试县001" and synthetic[0].id == "test001"
    assert len(world.rows("F1", "gongan", 1)) == 45
    assert len(world.hazards["gonglu"]) == 3 * len(build_world(campaign, SEED).hazards["gonglu"])
    assert world.rows("F9", "test001", 1)[0]["task_no"] == 20


def test_manifest_header_file(sample):
    out, manifest, _, _ = sample
    header = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert header["campaign_code"] == "jiujiang-2022"
    assert any("latest accepted submission" in rule for rule in header["rules"])
    assert header["counts"]["by_form"] == manifest.counts()["by_form"]
    assert manifest.seconds < 20
