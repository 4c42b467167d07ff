"""HTTP-level tests of the portal on the real application (FastAPI TestClient): login, rate limit,
sessions, CSRF, the upload gate (size, type by content, names), scope (a unit only sees its own), error
pages, and the upload flow into the pending mechanism and the Airflow event."""

from __future__ import annotations

import io
import logging
import re
import time
import zipfile

import openpyxl
from portal_helpers import (
    FakeAirflow,
    csrf_of,
    fill_f1,
    free_port,
    landed_files,
    receipts,
    text_of,
)

from portal.auth import SESSION_COOKIE
from portal.store import Store


def _upload(client, *, name="F1.xlsx", data=b"", form="auto", week="auto", unit=None, csrf=None):
    page = client.get("/upload")
    fields = {"csrf_token": csrf_of(page.text) if csrf is None else csrf, "form": form, "week": week}
    if unit is not None:
        fields["unit"] = unit
    if csrf == "":
        fields.pop("csrf_token")
    return client.post("/upload", data=fields, files={"file": (name, data, "application/octet-stream")})


def _template(client, tmp_path, week=5):
    resp = client.get(f"/templates/F1.xlsx?week={week}")
    assert resp.status_code == 200
    path = tmp_path / "template.xlsx"
    path.write_bytes(resp.content)
    return path


def _this_week_state(html: str, code: str) -> str:
    import re

    row = re.search(rf'<tr data-form="{code}">(.*?)</tr>', html, flags=re.S).group(1)
    return text_of(re.search(r'<span class="badge[^"]*">(.*?)</span>', row).group(1))


def _store(settings) -> Store:
    return Store(settings.home / "portal" / "users.sqlite3")


# --------------------------------------------------------------------------- health and login


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"


def test_pages_need_login(client):
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    assert "用户登录" in client.get("/login").text


def test_wrong_password(client, login_as):
    resp = login_as(client, "gongan", "not-the-password")
    assert resp.status_code == 401
    assert "账号或密码错误" in text_of(resp.text)
    assert SESSION_COOKIE not in resp.cookies
    # an unknown account gets exactly the same answer
    resp = login_as(client, "nobody", "whatever-password")
    assert resp.status_code == 401 and "账号或密码错误" in text_of(resp.text)
    # the right password works, and the session cookie is HttpOnly and SameSite=Lax
    resp = login_as(client, "gongan")
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "我的填报任务" in client.get("/").text


def test_login_redirects_only_within_the_site(client):
    for target, expected in (
        ("/history", "/history"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
    ):
        page = client.get("/login")
        resp = client.post(
            "/login",
            data={
                "login": "gongan",
                "password": "Gongan-Portal-2022",
                "csrf_token": csrf_of(page.text),
                "next": target,
            },
            follow_redirects=False,
        )
        assert resp.status_code == 303 and resp.headers["location"] == expected
        client.cookies.clear()


def test_login_back_off_per_account(client, login_as, settings):
    for _ in range(5):
        assert login_as(client, "gongan", "wrong-password-1").status_code == 401
    resp = login_as(client, "gongan")  # the right password, but the account must wait
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 30
    assert "登录失败次数过多" in text_of(resp.text) and "该账号需等待" in text_of(resp.text)
    # another account from the same address is not held back by this one
    assert login_as(client, "xunyang").status_code == 303
    # a back-off, not a lock: once the wait is over the next wrong password doubles it …
    with _store(settings).connect() as con:
        con.execute("update login_throttle set next_at = 0 where key = 'login:gongan'")
    assert login_as(client, "gongan", "wrong-password-1").status_code == 401
    resp = login_as(client, "gongan")
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 60
    # … and the right password after the wait logs in (and clears the count)
    with _store(settings).connect() as con:
        con.execute("update login_throttle set next_at = 0 where key = 'login:gongan'")
    assert login_as(client, "gongan").status_code == 303
    with _store(settings).connect() as con:
        assert con.execute("select count(*) from login_throttle where key = 'login:gongan'").fetchone()[0] == 0


def test_login_back_off_per_client_address(make_client, login_as):
    client = make_client(login_failures_per_ip=6)
    for i in range(6):
        assert login_as(client, f"guess{i}", "wrong-password-1").status_code == 401
    resp = login_as(client, "office")
    assert resp.status_code == 429 and "本机需等待" in text_of(resp.text)


def test_expired_session(client, login_as, settings):
    login_as(client, "gongan")
    assert client.get("/").status_code == 200
    with _store(settings).connect() as con:  # 8 h 1 min without a request
        con.execute("update sessions set last_seen = last_seen - ?", [8 * 3600 + 60])
    resp = client.get("/history", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login?") and "reason=expired" in resp.headers["location"]
    assert "登录已超时" in text_of(client.get(resp.headers["location"]).text)
    # the session is gone on the server: the old cookie never works again
    with _store(settings).connect() as con:
        assert con.execute("select count(*) from sessions").fetchone()[0] == 0
    # an upload posted with an expired session is refused with a Chinese page, nothing is landed
    login_as(client, "gongan")
    page = client.get("/upload")
    with _store(settings).connect() as con:
        con.execute("update sessions set last_seen = last_seen - ?", [9 * 3600])
    before = landed_files(settings)
    resp = client.post(
        "/upload", data={"csrf_token": csrf_of(page.text)}, files={"file": ("a.csv", b"a,b\n1,2\n")}
    )
    assert resp.status_code == 401 and "登录已超时" in text_of(resp.text)
    assert landed_files(settings) == before


def test_session_cookie_cannot_be_forged(client, login_as):
    login_as(client, "gongan")
    cookie = client.cookies.get(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, cookie[:-3] + ("abc" if not cookie.endswith("abc") else "xyz"))
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")


def test_logout_ends_the_session(client, login_as, settings):
    login_as(client, "gongan")
    cookie = client.cookies.get(SESSION_COOKIE)
    page = client.get("/")
    resp = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert resp.status_code == 303
    client.cookies.set(SESSION_COOKIE, cookie)  # replaying the old cookie
    assert client.get("/", follow_redirects=False).status_code == 303


def test_disabled_account_is_logged_out(client, login_as, settings):
    login_as(client, "gongan")
    assert client.get("/").status_code == 200
    _store(settings).set_enabled("gongan", False)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert login_as(client, "gongan").status_code == 401


# --------------------------------------------------------------------------- CSRF


def test_csrf_missing(client, login_as, settings, tmp_path):
    login_as(client, "gongan")
    good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
    before = landed_files(settings)
    resp = _upload(client, data=good.read_bytes(), csrf="")
    assert resp.status_code == 403 and "安全校验未通过" in text_of(resp.text)
    resp = _upload(client, data=good.read_bytes(), csrf="forged-token")
    assert resp.status_code == 403
    assert landed_files(settings) == before and receipts(settings) == []
    # logout without the token does nothing
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/").status_code == 200


def test_login_form_needs_its_token(client):
    resp = client.post(
        "/login", data={"login": "gongan", "password": "Gongan-Portal-2022"}, follow_redirects=False
    )
    assert resp.status_code == 403 and "安全校验未通过" in text_of(resp.text)
    assert SESSION_COOKIE not in resp.cookies


# --------------------------------------------------------------------------- the upload gate


def test_oversized_file(make_client, login_as, settings):
    client = make_client(max_upload_bytes=1024 * 1024)
    login_as(client, "gongan")
    before = landed_files(settings)
    big = b"PK\x03\x04" + b"\0" * (1024 * 1024 + 10)
    resp = _upload(client, name="big.xlsx", data=big)
    assert resp.status_code == 413
    assert "文件超过大小上限（1MB）" in text_of(resp.text)
    # a chunked body without Content-Length is cut off the same way
    page = client.get("/upload")
    boundary = "xyzBOUNDARY"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_of(page.text)}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    ).encode()

    def chunks():
        yield head
        for _ in range(40):
            yield b"1,2,3\n" * 10000

    resp = client.post(
        "/upload", content=chunks(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert resp.status_code == 413 and "文件超过大小上限" in text_of(resp.text)
    assert landed_files(settings) == before and receipts(settings) == []


def test_default_limit_is_20_mb(client, login_as, settings):
    login_as(client, "gongan")
    resp = _upload(client, name="big.csv", data=b"a,b\n" + b"1,2\n" * (5 * 1024 * 1024 + 1))
    assert resp.status_code == 413 and "20MB" in text_of(resp.text)


def test_file_named_with_a_path(client, login_as, settings, tmp_path):
    login_as(client, "gongan")
    good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
    resp = _upload(client, name="../../x.xlsx", data=good.read_bytes())
    assert resp.status_code == 200, text_of(resp.text)
    assert "已受理" in text_of(resp.text)
    (rec,) = receipts(settings)
    assert rec["original_name"] == "x.xlsx"
    stored = settings.home / rec["stored_path"]
    assert stored.resolve().is_relative_to(settings.landing.resolve())
    assert stored.name == f"{rec['sha256']}.xlsx"
    assert not (settings.home.parent / "x.xlsx").exists() and not (settings.home / "x.xlsx").exists()
    assert not any(p.name == "x.xlsx" for p in settings.home.parent.rglob("x.xlsx"))
    # backslashes (a Windows path) and control characters are not a way out either
    other = fill_f1(_template(client, tmp_path, week=6), tmp_path / "F1-6.xlsx", 6)
    resp = _upload(client, name="C:\\Users\\..\\..\\evil\x07name.xlsx", data=other.read_bytes())
    assert resp.status_code == 200
    names = {r["original_name"] for r in receipts(settings)}
    assert "x.xlsx" in names and len(names) == 2
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".") and "\x07" not in name
    assert all(
        (settings.home / r["stored_path"]).parent.parent == settings.landing for r in receipts(settings)
    )


def test_exe_renamed_xlsx(client, login_as, settings):
    login_as(client, "gongan")
    before = landed_files(settings)
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 40
    resp = _upload(client, name="F1.xlsx", data=exe)
    assert resp.status_code == 415
    assert "文件类型不符合要求" in text_of(resp.text) and "按文件内容判断类型" in text_of(resp.text)
    # an image named .csv
    assert _upload(client, name="F1.csv", data=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").status_code == 415
    assert landed_files(settings) == before and receipts(settings) == []
    # a Word document is a written document's format (实施方案, 小结): it is landed and kept on record, but one
    # that names no document kind and is sent as F1.xlsx is answered 未受理 with the reason, never loaded
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    resp = _upload(client, name="F1.xlsx", data=buf.getvalue())
    page = text_of(resp.text)
    assert "未受理" in page and "不是有效的 Excel 或 CSV 文件（可能是 Word 文档或压缩包）" in page
    # so is a PDF named .csv
    resp = _upload(client, name="F1.csv", data=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00")
    assert resp.status_code == 200 and "未受理" in text_of(resp.text)
    assert [r["original_name"] for r in receipts(settings)] == ["F1.xlsx", "F1.csv"]


def test_type_is_told_by_content_not_name(client, login_as, settings, tmp_path):
    login_as(client, "gongan")
    good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
    resp = _upload(client, name="F1周报.csv", data=good.read_bytes())  # an .xlsx named .csv
    assert resp.status_code == 200 and "已受理" in text_of(resp.text)
    (rec,) = receipts(settings)
    assert rec["stored_path"].endswith(".xlsx") and rec["original_name"] == "F1周报.csv"


def test_uploading_for_another_unit(client, login_as, settings, tmp_path):
    login_as(client, "gongan")
    good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
    before = landed_files(settings)
    resp = _upload(client, data=good.read_bytes(), unit="xunyang")
    assert resp.status_code == 403 and "无权查看或报送其他单位" in text_of(resp.text)
    resp = _upload(client, data=good.read_bytes(), unit="浔阳区")  # by name: the same
    assert resp.status_code == 403
    # a form the unit does not submit (F4 is for counties, 市公路发展中心 and 市城管局)
    resp = _upload(client, data=good.read_bytes(), form="F4")
    assert resp.status_code == 403
    assert landed_files(settings) == before and receipts(settings) == []
    # its own unit named explicitly is fine
    assert _upload(client, data=good.read_bytes(), unit="gongan").status_code == 200


def test_a_unit_sees_only_its_own(client, login_as, settings):
    login_as(client, "gongan")
    history = text_of(client.get("/history").text)
    assert "市公安局-F1-第4周.xlsx" in history and "浔阳区-F1-第4周.xlsx" not in history
    for path in (
        "/?unit=xunyang",
        "/history?unit=xunyang",
        "/upload?unit=xunyang",
        "/templates?unit=xunyang",
    ):
        assert client.get(path).status_code == 403, path
    assert client.get("/office").status_code == 403
    assert client.get("/templates/F4.xlsx?week=5").status_code == 403
    assert client.get("/templates/F1.xlsx?week=5&unit=xunyang").status_code == 403
    # the original file of another unit's submission cannot be fetched by id
    import duckdb

    con = duckdb.connect(str(settings.published), read_only=True)
    ((theirs,), (mine,)) = con.execute(
        "select submission_id from raw.submissions order by unit_id = 'gongan'"
    ).fetchall()
    con.close()
    assert client.get(f"/files/{theirs}").status_code == 404
    resp = client.get(f"/files/{mine}")
    assert resp.status_code == 200 and resp.content[:2] == b"PK"


def test_office_sees_everything(client, login_as):
    login_as(client, "office")
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/office"
    office = text_of(client.get("/office").text)
    assert "报送总览" in office and "市公安局" in office and "浔阳区" in office
    assert "已受理" in text_of(client.get("/office?week=4").text)
    history = text_of(client.get("/history").text)
    assert "市公安局-F1-第4周.xlsx" in history and "浔阳区-F1-第4周.xlsx" in history
    assert "浔阳区" in text_of(client.get("/?unit=xunyang").text)


# --------------------------------------------------------------------------- errors


def test_no_stack_trace_to_users(client, login_as, settings, caplog, monkeypatch):
    login_as(client, "gongan")
    portal = client.app.state.portal

    def boom():
        raise RuntimeError("secret internal detail /srv/path")

    monkeypatch.setattr(portal, "data", boom)
    with caplog.at_level(logging.ERROR, logger="roadsafe.portal"):
        resp = client.get("/")
    assert resp.status_code == 500
    assert resp.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in resp.headers
    text = text_of(resp.text)
    assert "系统内部错误" in text and "错误编号" in text
    assert "Traceback" not in resp.text and "secret internal detail" not in resp.text
    assert any("secret internal detail" in str(r.exc_info) for r in caplog.records if r.exc_info)
    assert client.get("/no-such-page").status_code == 404
    assert "页面不存在" in text_of(client.get("/no-such-page").text)
    assert "请求方式不正确" in text_of(client.delete("/upload").text)


def test_security_headers(client, login_as):
    login_as(client, "gongan")
    resp = client.get("/")
    csp = resp.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "http://" not in resp.text.replace("http://www.w3.org", "") and "https://" not in resp.text


# --------------------------------------------------------------------------- the upload flow


def test_rejected_upload_is_recorded_and_ingestion_agrees(client, login_as, settings, tmp_path):
    from ingest.service import process_inbox

    login_as(client, "gongan")
    bad = fill_f1(_template(client, tmp_path), tmp_path / "F1-错误.xlsx", 5, wrong=True)
    resp = _upload(client, name=bad.name, data=bad.read_bytes())
    assert resp.status_code == 200
    text = text_of(resp.text)
    assert "未受理" in text and "有3处错误" in text
    # each wrong row is named by its county, as the template lists it
    county = {r: openpyxl.load_workbook(bad).worksheets[0].cell(r, 1).value for r in (6, 7, 8)}
    assert f"工作表“重点车辆隐患清零周报”第6行（{county[6]}）“检验情况/已检验数”列：数值“七百多”无法识别" in text
    assert f"第7行（{county[7]}）“重点车辆总数”列：数值“-5”为负数" in text
    assert f"第8行（{county[8]}）“注销情况/已注销数”列" in text and "不应超过注销情况/应注销数" in text
    (rec,) = receipts(settings)
    assert rec["channel"] == "portal" and rec["submitted_by"] == "gongan" and rec["unit_id"] == "gongan"
    assert (settings.home / rec["stored_path"]).read_bytes() == bad.read_bytes()
    history = text_of(client.get("/history").text)
    assert "F1-错误.xlsx" in history and "待入库" in history and "检查未通过" in history
    # the ingest run (what the Airflow DAG calls) records the same answer
    (receipt,) = process_inbox(settings)
    assert receipt.status == "rejected" and receipt.error_count == 3
    assert receipt.original_name == "F1-错误.xlsx"
    # once built and published, the page reads the attempt and its messages from the marts
    # (fct_submissions / fct_submission_messages), the sender and the file from the landing receipt
    from application.build import run_build

    assert run_build(settings).ok
    page = client.get("/history")
    row = next(r for r in page.text.split('<tr class="attempt"')[1:] if "F1-错误.xlsx" in r)
    shown = text_of(row)
    assert receipt.submission_id in shown and "未受理" in shown and "待入库" not in shown
    assert f"第6行（{county[6]}）“检验情况/已检验数”列：数值“七百多”无法识别" in shown and "gongan" in shown
    key = re.search(r'href="/files/([^"]+)"', row).group(1)
    assert client.get(f"/files/{key}").content == bad.read_bytes()


def test_accepted_upload_posts_the_asset_event(make_client, login_as, settings, tmp_path):
    from ingest.service import process_inbox

    with FakeAirflow() as airflow:
        client = make_client(airflow_url=airflow.url, airflow_username="portal", airflow_password="secret-pw")
        login_as(client, "gongan")
        good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
        t0 = time.monotonic()
        resp = _upload(client, name="重点车辆隐患清零周报（第5周）-市公安局.xlsx", data=good.read_bytes())
        elapsed = time.monotonic() - t0
        text = text_of(resp.text)
        assert resp.status_code == 200
        assert "已受理：市公安局 报送的《重点车辆隐患清零周报》第5周，共15行，按时报送。" in text
        assert "系统正在入库" in text
        (rec,) = receipts(settings)
        assert [e["extra"]["receipt_id"] for e in airflow.events] == [rec["receipt_id"]]
        assert airflow.events[0]["asset_id"] == 7  # looked up by name, not the similarly named one
        assert airflow.requests[0][1] == "/auth/token"
        # a second upload reuses the token and the asset id
        good2 = fill_f1(_template(client, tmp_path, week=4), tmp_path / "F1-4.xlsx", 4)
        _upload(client, name="F1-4.xlsx", data=good2.read_bytes(), week="4")
        assert len(airflow.events) == 2 and airflow.tokens_issued == 1
    print(f"upload of a 15-row F1 (TestClient, dry run included): {elapsed:.2f} s")
    assert _this_week_state(client.get("/").text, "F1") == "已接收，待入库"
    loaded = process_inbox(settings)
    assert [r.status for r in loaded] == ["accepted", "accepted"]
    # once the build publishes the snapshot the pages show the registry's answer
    from application.build import run_build

    assert run_build(settings).ok
    assert _this_week_state(client.get("/").text, "F1") == "已受理"
    history = text_of(client.get("/history").text)
    assert loaded[0].submission_id in history and "待入库" not in history.split("。", 2)[-1]


def test_airflow_down_file_still_landed(make_client, login_as, settings, tmp_path):
    port = free_port()  # nothing listens there
    client = make_client(
        airflow_url=f"http://127.0.0.1:{port}",
        airflow_username="portal",
        airflow_password="secret-pw",
        airflow_timeout=1.0,
    )
    login_as(client, "gongan")
    good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
    resp = _upload(client, data=good.read_bytes())
    text = text_of(resp.text)
    assert resp.status_code == 200 and "已受理" in text
    assert "数据处理服务暂时无法连接" in text and "自动入库" in text and "无需重新上传" in text
    (rec,) = receipts(settings)
    assert (settings.home / rec["stored_path"]).is_file()
    portal = client.app.state.portal
    assert portal.retry_notifications() is False  # still down
    with FakeAirflow() as airflow:
        portal.notifier.url = airflow.url
        assert portal.retry_notifications() is True
        assert len(airflow.events) == 1 and airflow.events[0]["extra"]["retry"] is True
        assert portal.retry_notifications() is False  # nothing left to announce


def test_double_click_records_once(client, login_as, settings, tmp_path):
    login_as(client, "gongan")
    good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
    first = _upload(client, data=good.read_bytes())
    second = _upload(client, data=good.read_bytes())
    assert "已受理" in text_of(first.text)
    assert "无需重复上传" in text_of(second.text)
    assert len(receipts(settings)) == 1


def test_form_and_week_detected_or_chosen(client, login_as, settings, tmp_path):
    login_as(client, "gongan")
    good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
    resp = _upload(client, data=good.read_bytes(), form="F1", week="6")
    text = text_of(resp.text)
    assert "第6周" in text and "文件标题为第5周，但报送时选择的是第6周" in text
    assert receipts(settings)[0]["form"] == "F1" and receipts(settings)[0]["period"] == 6


def test_no_snapshot_says_no_data(client, login_as, settings, tmp_path):
    settings.published.unlink()
    login_as(client, "gongan")
    home = text_of(client.get("/").text)
    assert "暂无数据" in home
    history = text_of(client.get("/history").text)
    assert "暂无数据" in history and "待入库" in history  # the seed's receipts, never published
    good = fill_f1(_template(client, tmp_path), tmp_path / "F1.xlsx", 5)
    assert "已受理" in text_of(_upload(client, data=good.read_bytes()).text)


def test_template_download(client, login_as, tmp_path):
    import openpyxl

    login_as(client, "gongan")
    page = text_of(client.get("/templates").text)
    assert "F1" in page and "F4" not in page.split("报表 名称 下载")[-1]
    resp = client.get("/templates/F1.xlsx?week=5")
    assert resp.status_code == 200
    assert "filename*=UTF-8''" in resp.headers["content-disposition"]
    path = tmp_path / "t.xlsx"
    path.write_bytes(resp.content)
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert ws["A1"].value == "2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）"
    assert client.get("/templates/F1.xlsx?week=99").status_code == 400
    assert client.get("/templates/F99.xlsx?week=5").status_code == 404


def test_first_visit(make_client, login_as, settings):
    """A unit with no attempt at all sees the welcome steps, this week's forms and the countdown."""
    from argon2 import PasswordHasher
    from portal_helpers import PASSWORDS

    _store(settings).add_user("jiaotong", "jiaotong", "unit", PasswordHasher().hash(PASSWORDS["gongan"]))
    client = make_client()
    login_as(client, "jiaotong", PASSWORDS["gongan"])
    text = text_of(client.get("/").text)
    assert "欢迎使用" in text and "下载模板" in text
    assert "第5周（5月5日至5月11日）" in text
    assert "2022年5月12日（周四）12:00" in text and "距截止还有 20小时59分钟" in text
    for code in ("F5", "F6", "F9"):
        assert code in text
    assert "F1 重点车辆隐患清零周报" not in text
    assert "暂无报送记录" in text_of(client.get("/history").text)


def test_portal_never_writes_duckdb(client, login_as, settings, tmp_path):
    """Pages, uploads (accepted and rejected) and downloads leave both DuckDB files untouched."""

    def stamp(path):
        st = path.stat()
        return st.st_size, st.st_mtime_ns

    before = stamp(settings.warehouse), stamp(settings.published)
    login_as(client, "gongan")
    tpl = _template(client, tmp_path)
    _upload(client, name="bad.xlsx", data=fill_f1(tpl, tmp_path / "bad.xlsx", 5, wrong=True).read_bytes())
    _upload(client, name="good.xlsx", data=fill_f1(tpl, tmp_path / "good.xlsx", 5).read_bytes())
    for path in ("/", "/history", "/templates", "/upload"):
        assert client.get(path).status_code == 200
    login_as(client, "office")
    assert client.get("/office").status_code == 200
    assert (stamp(settings.warehouse), stamp(settings.published)) == before
    assert not list(settings.home.rglob("*.wal"))


def test_concurrent_uploads(make_client, login_as, settings, tmp_path):
    """Four units' browsers uploading at the same moment: four receipts, four answers."""
    from concurrent.futures import ThreadPoolExecutor

    from ingest.templates import write_template

    campaign = settings.campaign()
    jobs = []
    for i, week in enumerate((3, 5, 6, 7)):
        client = make_client()
        login_as(client, "gongan")
        tpl = write_template(campaign, "F1", "gongan", week, tmp_path / f"tpl{i}.xlsx")
        jobs.append((client, fill_f1(tpl, tmp_path / f"F1-{week}.xlsx", week).read_bytes(), week))

    def go(job):
        client, data, week = job
        return _upload(client, name=f"F1-{week}.xlsx", data=data)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(go, jobs))
    assert [r.status_code for r in answers] == [200] * 4
    assert all("已受理" in text_of(r.text) for r in answers)
    assert [r["period"] for r in receipts(settings)] == [None] * 4  # detected from the title
    assert len({r["receipt_id"] for r in receipts(settings)}) == 4
