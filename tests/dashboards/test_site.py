"""The static site: pages from the published snapshot, escaped text, read-only serving on loopback."""

from __future__ import annotations

import datetime as dt
import http.client
import re
import threading

import pytest
from dash_helpers import TZ, html_text
from fixture_marts import HOSTILE_DIFFICULTY

from dashboards.site import build_site, make_handler

AS_OF = dt.datetime(2022, 5, 13, 9, 0, tzinfo=TZ)  # week 5's forms are due; week 6's are not


@pytest.fixture(scope="module")
def site(fixture_settings, weekly5, monthly05):
    index = build_site(fixture_settings, as_of=AS_OF)
    return index.parent


def test_pages_exist(site, campaign):
    assert (site / "index.html").is_file()
    assert len(list((site / "tasks").glob("task-*.html"))) == len(campaign.tasks)
    for unit in campaign.counties + campaign.departments:
        assert (site / "units" / f"{unit.id}.html").is_file()
    assert (site / "editions" / "weekly_bulletin" / "week-05" / "bulletin.pdf").is_file()


def test_index_lists_editions_ranking_and_tasks(site):
    page = html_text((site / "index.html").read_text(encoding="utf-8"))
    assert "当前数据周次：第5周" in page
    assert "工作通报第5期第5周" in page
    assert "最新排名（2022年4月）" in page  # May's ranking is issued on 05-31, after AS_OF
    assert "强化重点车辆隐患大清仓" in page


def test_submitted_text_is_escaped_everywhere(site):
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script", text, flags=re.I), path
    task4 = (site / "tasks" / "task-04.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in task4
    assert HOSTILE_DIFFICULTY in html_text(task4)


def test_task_and_unit_pages_have_trend_charts(site):
    task4 = (site / "tasks" / "task-04.html").read_text(encoding="utf-8")
    assert task4.count("<svg") == 2  # I02 and I03 at city level
    unit = (site / "units" / "duchang.html").read_text(encoding="utf-8")
    assert "<svg" in unit and "道路交通隐患排查整治台账" in html_text(unit)  # its missing F4


def test_served_read_only_on_loopback(site):
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"

        def request(method, path):
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request(method, path, body=b"x" if method in ("POST", "PUT") else None)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            return response, body

        response, body = request("GET", "/index.html")
        assert response.status == 200 and "专项整治" in body.decode("utf-8")
        assert "default-src 'none'" in response.getheader("Content-Security-Policy")
        assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy")
        assert response.getheader("X-Frame-Options") == "DENY"
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert response.getheader("Referrer-Policy") == "no-referrer"
        (site / "edition.pdf").write_bytes(b"%PDF-1.7")
        response, _ = request("GET", "/edition.pdf")
        assert response.status == 200 and response.getheader("Cache-Control") == "no-store"
        assert response.getheader("Content-Disposition") == "attachment"
        assert request("GET", "/tasks/")[0].status == 404  # no directory listings
        assert request("POST", "/index.html")[0].status == 501
        assert request("PUT", "/evil.html")[0].status == 501
        assert request("DELETE", "/index.html")[0].status == 501
        assert request("GET", "/../../etc/passwd")[0].status == 404
    finally:
        server.shutdown()
        server.server_close()
