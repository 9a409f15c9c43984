"""Every role rule of the web app, through the real HTTP stack (FastAPI TestClient)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.support.web_fixtures import csrf_of, log_in

PAGES = ["/calls", "/dashboard", "/calls/{id}"]
NON_PAGES = ["/api/calls", "/api/calls/{id}", "/audio/{id}", "/export.csv", "/export.xlsx", "/static/app.js"]


@pytest.mark.parametrize("path", PAGES)
def test_logged_out_pages_redirect_to_login(client_as, call_ids, path):
    r = client_as(None).get(path.format(id=call_ids[0]), follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", NON_PAGES)
def test_logged_out_api_audio_export_static_refused(client_as, call_ids, path):
    r = client_as(None).get(path.format(id=call_ids[0]), headers={"Range": "bytes=0-99"})
    assert r.status_code == 401
    assert b"RIFF" not in r.content


def test_logged_out_post_refused(client_as, call_ids):
    r = client_as(None).post(f"/calls/{call_ids[0]}/topics", data={"topic": "land", "action": "add"})
    assert r.status_code == 401


def test_login_page_is_public_and_sets_csrf_cookie(client_as):
    r = client_as(None).get("/login")
    assert r.status_code == 200
    assert "hotline_login_csrf" in r.cookies
    assert "Đăng nhập" in r.text


def test_login_without_csrf_refused(client_as):
    client = client_as(None)
    r = client.post("/login", data={"username": "lan", "password": "mat-khau-qa-1", "csrf_token": "forged"},
                    follow_redirects=False)
    assert r.status_code == 403
    assert "hotline_session" not in r.cookies


def test_wrong_password_refused(client_as):
    r = log_in(client_as(None), "lan", "sai-mat-khau")
    assert r.status_code == 401
    assert "hotline_session" not in r.cookies


def test_lockout_after_repeated_failures_even_with_right_password(client_as):
    client = client_as(None)
    for _ in range(4):
        assert log_in(client, "lan", "sai-mat-khau").status_code == 401
    # The fifth failure locks the account, and says so.
    assert log_in(client, "lan", "sai-mat-khau").status_code == 429
    r = log_in(client, "lan")
    assert r.status_code == 429
    assert "hotline_session" not in r.cookies
    # Other accounts are not affected.
    assert log_in(client_as(None), "minh").status_code == 303


def test_login_next_cannot_redirect_off_site(client_as):
    client = client_as(None)
    page = client.get("/login")
    r = client.post("/login", data={"username": "lan", "password": "mat-khau-qa-1", "csrf_token": csrf_of(page.text),
                                    "next": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/calls?queue=1"  # local: QA's default landing page, the queue


def test_logout_ends_the_session(client_as):
    client = client_as("qa")
    csrf = csrf_of(client.get("/calls").text)
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/api/calls").status_code == 401


@pytest.mark.parametrize("role", ["qa", "manager", "admin"])
def test_every_role_lists_and_opens_calls_and_audio(client_as, call_ids, role):
    client = client_as(role)
    assert client.get("/calls").status_code == 200
    assert client.get("/api/calls").json()["total"] == len(call_ids)
    assert client.get(f"/calls/{call_ids[0]}").status_code == 200
    r = client.get(f"/audio/{call_ids[0]}", headers={"Range": "bytes=0-99"})
    assert r.status_code == 206
    assert r.headers["content-range"].startswith("bytes 0-99/")
    assert r.content[:4] == b"RIFF" and len(r.content) == 100


@pytest.mark.parametrize("role,allowed", [("qa", False), ("manager", True), ("admin", True)])
def test_dashboard_and_exports_by_role(client_as, role, allowed):
    client = client_as(role)
    for path in ("/dashboard", "/export.csv", "/export.xlsx"):
        assert client.get(path).status_code == (200 if allowed else 403), path


@pytest.mark.parametrize("role,raw", [("qa", True), ("manager", False), ("admin", True)])
def test_unredacted_text_only_for_allowed_roles(client_as, call_ids, role, raw):
    phone_call = call_ids_with_phone(client_as("admin"), call_ids)
    client = client_as(role)
    page = client.get(f"/calls/{phone_call}").text
    api = client.get(f"/api/calls/{phone_call}").text
    assert ("0905123456" in page) is raw
    assert ("0905123456" in api) is raw
    if not raw:  # the redacted text stands in its place
        assert "[SĐT]" in page and "[SĐT]" in api


def call_ids_with_phone(admin_client, call_ids) -> str:
    for cid in call_ids:
        if "0905123456" in admin_client.get(f"/api/calls/{cid}").text:
            return cid
    raise AssertionError("fixture has no call with a phone number")


def test_raw_text_roles_is_a_setting(web_db, call_ids, monkeypatch):
    from fastapi.testclient import TestClient

    from pipeline.web.app import WebOptions, create_app
    from tests.support.web_fixtures import FAST_AUTH

    app = create_app(web_db, options=WebOptions(auth=FAST_AUTH, raw_text_roles=()))
    client = TestClient(app)
    log_in(client, "an")
    assert all("0905123456" not in client.get(f"/api/calls/{cid}").text for cid in call_ids[:10])
    monkeypatch.setenv("HOTLINE_RAW_TEXT_ROLES", "manager")
    from pipeline.web.app import web_options_from_env

    assert web_options_from_env().raw_text_roles == ("manager",)


@pytest.mark.parametrize("role,allowed", [("qa", True), ("manager", False), ("admin", True)])
def test_topic_corrections_by_role(client_as, call_ids, role, allowed):
    client = client_as(role)
    cid = call_ids[3]
    csrf = csrf_of(client.get(f"/calls/{cid}").text)
    r = client.post(f"/calls/{cid}/topics", data={"topic": "land", "action": "add", "csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == (303 if allowed else 403)
    topics = {t["topic"] for t in client.get(f"/api/calls/{cid}").json()["topics"]}
    assert ("land" in topics) is allowed
    r = client.post(f"/calls/{cid}/reviewed", data={"reviewed": "1", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == (303 if allowed else 403)


def test_correction_without_csrf_refused(client_as, call_ids):
    client = client_as("qa")
    r = client.post(f"/calls/{call_ids[3]}/topics", data={"topic": "land", "action": "add"})
    assert r.status_code == 403
    r = client.post(f"/calls/{call_ids[3]}/topics", data={"topic": "land", "action": "add", "csrf_token": "x" * 32})
    assert r.status_code == 403
    assert "land" not in {t["topic"] for t in client.get(f"/api/calls/{call_ids[3]}").json()["topics"]}


def test_correction_is_audited_and_overrides_model(client_as, call_ids, web_db):
    import duckdb

    client = client_as("qa")
    cid = call_ids[5]
    model_topics = {t["topic"] for t in client.get(f"/api/calls/{cid}").json()["topics"]}
    removed = sorted(model_topics)[0]
    csrf = csrf_of(client.get(f"/calls/{cid}").text)
    client.post(f"/calls/{cid}/topics", data={"topic": removed, "action": "remove", "csrf_token": csrf})
    client.post(f"/calls/{cid}/topics", data={"topic": "other", "action": "add", "csrf_token": csrf})
    client.post(f"/calls/{cid}/reviewed", data={"reviewed": "1", "csrf_token": csrf})
    detail = client.get(f"/api/calls/{cid}").json()
    assert {t["topic"] for t in detail["topics"]} == model_topics - {removed} | {"other"}
    assert detail["reviewed"] and detail["reviewed_by"] == "lan"
    client.close()
    con = duckdb.connect(str(web_db))
    audit = con.execute("SELECT topic, action, user_name FROM topic_corrections WHERE call_id = ? ORDER BY corrected_at",
                        [cid]).fetchall()
    qa_rows = con.execute("SELECT topic, assigned FROM call_topics WHERE call_id = ? AND source = 'qa' ORDER BY topic",
                          [cid]).fetchall()
    con.close()
    assert audit == [(removed, "remove", "lan"), ("other", "add", "lan")]
    assert qa_rows == sorted([(removed, False), ("other", True)])


def test_unknown_topic_rejected(client_as, call_ids):
    client = client_as("qa")
    csrf = csrf_of(client.get(f"/calls/{call_ids[0]}").text)
    r = client.post(f"/calls/{call_ids[0]}/topics", data={"topic": "'; DROP TABLE calls; --", "action": "add",
                                                           "csrf_token": csrf})
    assert r.status_code == 400


def test_unknown_call_is_404(client_as):
    client = client_as("qa")
    assert client.get("/calls/ffffffffffffffff").status_code == 404
    assert client.get("/audio/ffffffffffffffff").status_code == 404


def test_audio_path_escaping_source_folder_is_404(client_as, call_ids, web_db, tmp_path):
    import duckdb

    secret = web_db.parent / "secret.wav"
    secret.write_bytes(b"RIFF-secret")
    con = duckdb.connect(str(web_db))
    con.execute("UPDATE calls SET source_path = '../secret.wav' WHERE call_id = ?", [call_ids[0]])
    con.execute("UPDATE calls SET source_path = 'missing/none.wav' WHERE call_id = ?", [call_ids[1]])
    con.close()
    client = client_as("admin")
    assert client.get(f"/audio/{call_ids[0]}").status_code == 404
    assert client.get(f"/audio/{call_ids[1]}").status_code == 404


def test_filters_narrow_the_list(client_as, call_ids):
    client = client_as("qa")
    total = client.get("/api/calls").json()["total"]
    urgent = client.get("/api/calls", params={"urgent": "1"}).json()
    assert 0 < urgent["total"] < total and all(c["urgent"] for c in urgent["calls"])
    ward = client.get("/api/calls", params={"place": "Tân Tiến"}).json()
    assert 0 < ward["total"] < total and all("Tân Tiến" in c["places"] for c in ward["calls"])
    topic = client.get("/api/calls", params={"topic": "utilities", "operator": "101"}).json()
    assert all("utilities" in c["topics"] and c["operator_ext"] == "101" for c in topic["calls"])
    week = client.get("/api/calls", params={"from": "2026-10-19", "to": "2026-10-25"}).json()
    assert all("2026-10-19" <= c["started_at"][:10] <= "2026-10-25" for c in week["calls"])
    assert week["total"] < total


def test_search_with_and_without_diacritics(client_as):
    client = client_as("manager")
    with_marks = client.get("/api/calls", params={"q": "đèn đường"}).json()
    without = client.get("/api/calls", params={"q": "den duong"}).json()
    assert with_marks["total"] > 0
    assert {c["call_id"] for c in with_marks["calls"]} == {c["call_id"] for c in without["calls"]}
    assert "Đèn đường" in with_marks["calls"][0]["snippet"]


def test_csv_and_excel_export_follow_filters(client_as):
    from io import BytesIO

    from openpyxl import load_workbook

    client = client_as("manager")
    n = client.get("/api/calls", params={"urgent": "1"}).json()["total"]
    csv_text = client.get("/export.csv", params={"urgent": "1"}).content.decode("utf-8-sig")
    assert len(csv_text.strip().splitlines()) == n + 1
    assert "0905123456" not in csv_text
    wb = load_workbook(BytesIO(client.get("/export.xlsx", params={"urgent": "1"}).content))
    assert wb.active.max_row == n + 1


def test_english_switch(client_as):
    client = client_as("qa")
    page = client.get("/calls").text
    assert "Cuộc gọi" in page and "Log out" not in page
    client.get("/lang/en")
    page = client.get("/calls").text
    assert "Calls" in page and "Log out" in page and "Đăng xuất" not in page
    client.get("/lang/vi")
    page = client.get("/calls").text
    assert "Đăng xuất" in page and "Log out" not in page


def test_database_busy_answers_503(app, client_as, web_db):
    client = client_as("qa")
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(web_db)!r}); "
                               "print('held', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        r = client.get("/api/calls")
        assert r.status_code == 503
        assert "database busy: a pipeline run is loading; try again in a minute" in r.text
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.2)
    assert client.get("/api/calls").status_code == 200


def test_review_queue_lists_urgent_first_then_least_confident(client_as):
    client = client_as("qa")
    calls = client.get("/api/calls", params={"queue": "1"}).json()["calls"]
    assert calls and all(c["urgent"] or c["needs_review"] for c in calls)
    keys = [(not c["urgent"], c["confidence"]) for c in calls]
    assert keys == sorted(keys)


def test_concurrent_requests_share_the_file_safely(client_as, call_ids):
    from concurrent.futures import ThreadPoolExecutor

    client = client_as("qa")
    paths = [f"/api/calls/{cid}" for cid in call_ids[:6]] + ["/api/calls", "/api/calls?q=rac"] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda p: client.get(p).status_code, paths))
    assert codes == [200] * len(paths)


def test_a_very_long_user_name_is_refused_without_a_row(client_as, web_db):
    import duckdb

    from tests.support.web_fixtures import log_in

    client = client_as(None)
    assert log_in(client, "x" * 5000, "whatever-password").status_code == 401
    con = duckdb.connect(str(web_db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM login_attempts WHERE length(user_name) > 64").fetchone()[0] == 0
    finally:
        con.close()


def test_old_log_in_attempts_are_pruned(web_db):
    from pipeline.warehouse import db
    from pipeline.web import auth

    con = db.connect(web_db)
    try:
        con.execute("INSERT INTO login_attempts VALUES ('lan', now() - INTERVAL 90 DAY, FALSE)")
        auth.record_attempt(con, "lan", True)
        assert con.execute("SELECT count(*) FROM login_attempts WHERE attempted_at < now() - INTERVAL 30 DAY"
                           ).fetchone()[0] == 0
    finally:
        con.close()
