"""End to end on the real sample campaign: generate the 2022 sample submissions, send the files of the
first five weeks through ``ingest.service.submit`` at their recorded times, ``run_build`` (dbt), then freeze
and render week 5's bulletin and dispatch list and April's ranking and summary, and compare what they
print with the real marts. (Five weeks, not thirteen, to keep the test within a few minutes.)"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import pytest
from dash_helpers import FROZEN_AT, copy_out, fetch, html_text, pdf_text, squash

from dashboards.formatting import fmt_value
from dashboards.narrative import BAD_STATUSES

pytestmark = pytest.mark.slow

WEEKS = 5


@pytest.fixture(scope="module")
def sample_settings(tmp_path_factory):
    pytest.importorskip("dbt")
    from application.build import run_build
    from application.samples import generate_samples
    from ingest.service import submit
    from roadsafe.settings import Settings

    home = tmp_path_factory.mktemp("sample-home")
    settings = Settings(home=home, campaign_code="jiujiang-2022").ensure()
    out = settings.samples / "jiujiang-2022"
    manifest = generate_samples(settings.campaign(), out, seed=2022)
    for entry in manifest.entries:
        if entry.period_no is not None and entry.period_no > WEEKS:
            continue
        submit(
            settings,
            out / entry.path,
            unit=entry.unit_id,
            channel=entry.channel,
            received_at=dt.datetime.fromisoformat(entry.received_at),
        )
    result = run_build(settings)
    assert result.ok, "\n".join([result.message, *result.failures])
    return settings


@pytest.fixture(scope="module")
def sample_marts(sample_settings):
    con = duckdb.connect(str(sample_settings.published), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def sample_editions(sample_settings):
    from dashboards.editions import monthly_edition, open_edition, weekly_edition

    folders = weekly_edition(sample_settings, 5, frozen_at=FROZEN_AT)
    folders += monthly_edition(sample_settings, "2022-04", frozen_at=FROZEN_AT)
    return {open_edition(f).meta.kind: open_edition(f) for f in folders}


def test_bulletin_figures_equal_the_real_marts(sample_editions, sample_marts):
    edition = sample_editions["weekly_bulletin"]
    text = squash(pdf_text(edition.outputs()["pdf"]))
    rows = fetch(
        sample_marts,
        """
        select indicator_name, indicator_kind, actual, expected, status from marts.fct_indicator_values
        where period_no = 5 and unit_kind in ('city', 'group') and direction <> 'none'
    """,
    )
    assert rows
    for name, kind, actual, expected, status in rows:
        assert fmt_value(actual, kind) in text, (name, actual)
        if expected is not None:
            assert fmt_value(expected, kind) in text, (name, expected)
        assert status in text
    copy_out(edition.outputs()["pdf"], "sample-bulletin-week-05.pdf")


def test_bulletin_names_the_lagging_units_of_the_real_marts(sample_editions, sample_marts):
    page = html_text(sample_editions["weekly_bulletin"].outputs()["html"].read_text(encoding="utf-8"))
    for code, name in fetch(
        sample_marts,
        """
        select distinct indicator_code, indicator_name from marts.fct_indicator_values
        where period_no = 5 and unit_kind = 'county' and status in ('滞后', '逾期未完成', '数据缺报')
          and direction <> 'none'
        order by 1
    """,
    ):
        parts = []
        for status in BAD_STATUSES:
            units = [
                r[0]
                for r in fetch(
                    sample_marts,
                    """
                select unit_name from marts.fct_indicator_values
                where period_no = 5 and unit_kind = 'county' and indicator_code = $c and status = $s
                order by unit_sort_order
            """,
                    {"c": code, "s": status},
                )
            ]
            if units:
                parts.append(f"{status}的有{'、'.join(units)}")
        assert f"{name}：" + "；".join(parts) + "。" in page


def test_ranking_equals_the_real_ranking_mart(sample_editions, sample_marts):
    edition = sample_editions["monthly_ranking"]
    text = squash(pdf_text(edition.outputs()["pdf"]))
    rows = fetch(
        sample_marts,
        """
        select rank, unit_name, score from marts.rpt_monthly_ranking where month = '2022-04'
    """,
    )
    assert rows
    for rank, unit, score in rows:
        assert f"{rank}{unit}{score:.2f}" in text, (rank, unit, score)
    copy_out(edition.outputs()["pdf"], "sample-ranking-2022-04.pdf")
    copy_out(sample_editions["monthly_summary"].outputs()["pdf"], "sample-summary-2022-04.pdf")
    copy_out(sample_editions["dispatch_list"].outputs()["pdf"], "sample-dispatch-week-05.pdf")


def test_sample_editions_rerender_identically(sample_editions):
    from dashboards.editions import render_edition

    for edition in sample_editions.values():
        before = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in edition.outputs().items()}
        render_edition(edition)
        after = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in edition.outputs().items()}
        assert before == after, edition.meta.kind
