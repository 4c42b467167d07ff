"""The 审核签发 pages over HTTP (FastAPI TestClient on the real application): only the office, CSRF on every
POST, a refused rewording answered in Chinese on the page, signing recorded under the office's login."""

from __future__ import annotations

from portal_helpers import text_of
from signoff_portal import add_users, csrf, logged_in

from dashboards.audit import read_audit


def test_office_drafts_annotates_and_signs_in_the_portal(home, smtp):
    add_users(home)
    client = logged_in(home, "office")
    try:
        page = client.get("/signoff")
        assert page.status_code == 200 and "暂无待签发的草稿" in page.text
        assert 'value="weekly_bulletin/week-05"' in page.text  # due tomorrow (the portal's clock: 5月11日)
        made = client.post(
            "/signoff/draft",
            data={"csrf_token": csrf(page.text), "edition": "weekly_bulletin/week-05"},
            follow_redirects=False,
        )
        assert (
            made.status_code == 303
            and made.headers["location"] == "/signoff/weekly_bulletin/week-05?done=draft"
        )
        view = client.get(made.headers["location"])
        assert view.status_code == 200 and "已生成草稿。" in view.text and "待签发（草稿）" in view.text
        assert '<template shadowrootmode="open">' in view.text and view.text.count("<h1") == 1
        token = csrf(view.text)

        assert client.post("/signoff/weekly_bulletin/week-05/note", data={"note": "x"}).status_code == 403
        saved = client.post(
            "/signoff/weekly_bulletin/week-05/note",
            data={"csrf_token": token, "note": "请各地按期整改。", "reason": "审阅"},
            follow_redirects=True,
        )
        assert "已保存按语。" in saved.text and "请各地按期整改。" in saved.text

        refused = client.post(
            "/signoff/weekly_bulletin/week-05/reword",
            data={"csrf_token": token, "key": "p2", "text": "截至第5周，全部整治任务均已完成。"},
        )
        assert refused.status_code == 400
        assert "第2段：修改后的段落改动了数字" in text_of(refused.text) and "数字不能修改" in text_of(
            refused.text
        )

        unconfirmed = client.post("/signoff/weekly_bulletin/week-05/sign", data={"csrf_token": token})
        assert unconfirmed.status_code == 400 and "请勾选“已审阅，同意签发”" in unconfirmed.text
        signed = client.post(
            "/signoff/weekly_bulletin/week-05/sign",
            data={"csrf_token": token, "confirm": "yes", "reason": "同意"},
            follow_redirects=True,
        )
        assert signed.status_code == 200 and "已签发并发送。" in signed.text
        assert "已签发" in text_of(signed.text) and 'id="signed-by">office，' in signed.text
        assert "/editions/weekly_bulletin/week-05/bulletin.pdf" in signed.text
        assert (
            len(smtp.messages) == 1
            and "请各地按期整改。" in smtp.parsed()[0].get_body(("html",)).get_content()
        )
        listed = client.get("/signoff")
        assert "已签发（office）" in text_of(listed.text)
        assert [(e["action"], e["who"]) for e in read_audit(home)] == [
            ("draft", "office"),
            ("note", "office"),
            ("sign", "office"),
        ]
        assert client.get("/signoff/weekly_bulletin/..%2F..%2Fetc").status_code == 404
    finally:
        client.__exit__(None, None, None)


def test_units_cannot_see_or_sign(home):
    add_users(home)
    client = logged_in(home, "gongan")
    try:
        assert client.get("/signoff").status_code == 403
        assert client.get("/signoff/weekly_bulletin/week-05").status_code == 403
        assert (
            client.post("/signoff/weekly_bulletin/week-05/sign", data={"confirm": "yes"}).status_code == 403
        )
    finally:
        client.__exit__(None, None, None)
