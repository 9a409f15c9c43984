"""Issue 13, low web findings: hostile cookies and tokens, XLSX control characters, password
rule, Host allowlist, HSTS. Each failed before its fix."""

from __future__ import annotations

import pytest

from tests.support import tally
from tests.support.web_fixtures import FAST_AUTH


@pytest.mark.parametrize("path", ["/api/calls", "/calls"])
def test_a_non_ascii_session_cookie_is_not_logged_in(app, path):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    # Starlette reads cookies as latin-1: "é" arrives as a non-ASCII str.
    r = client.get(path, headers={"cookie": b"hotline_session=caf\xc3\xa9"}, follow_redirects=False)
    tally.record("bad_request", "non-ASCII cookie", survived=int(r.status_code in (303, 401)))
    assert r.status_code in (303, 401)


def test_a_non_ascii_csrf_token_is_refused_with_403(client_as, call_ids):
    client = client_as("qa")
    r = client.post(f"/calls/{call_ids[0]}/reviewed", data={"csrf_token": "tök\u1ebfn"}, follow_redirects=False)
    login = client.post("/login", data={"username": "lan", "password": "x", "csrf_token": "đ"},
                        headers={"cookie": "hotline_login_csrf=abc"}, follow_redirects=False)
    ok = r.status_code == 403 and login.status_code == 403
    tally.record("bad_request", "non-ASCII CSRF token", tried=2, survived=2 * int(ok))
    assert ok, (r.status_code, login.status_code)


def test_xlsx_export_survives_control_characters_from_the_call_log(web_db, client_as):
    import duckdb

    con = duckdb.connect(str(web_db))
    con.execute("UPDATE calls SET operator_ext = 'ext\x07101\x1b[2J'")
    con.close()
    r = client_as("manager").get("/export.xlsx")
    tally.record("bad_row", "control character to XLSX", survived=int(r.status_code == 200))
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_the_password_rule_refuses_spaces_and_one_repeated_character():
    from pipeline.web.auth import password_problem

    assert password_problem(" " * 8) and password_problem(" a b c d e f g ") and password_problem("aaaaaaaaaa")
    assert password_problem("mat-khau-qa-1") is None


def test_hosts_outside_the_allowlist_get_400_and_hsts_is_sent_behind_tls(web_db):
    from fastapi.testclient import TestClient

    from pipeline.web.app import WebOptions, create_app

    app = create_app(web_db, options=WebOptions(auth=FAST_AUTH, allowed_hosts=("hotline.example.vn",),
                                                secure_cookies=True))
    good = TestClient(app, base_url="https://hotline.example.vn").get("/login")
    bad = TestClient(app, base_url="https://evil.example").get("/login")
    assert good.status_code == 200 and bad.status_code == 400
    assert good.headers["strict-transport-security"].startswith("max-age=")
    plain = TestClient(create_app(web_db, options=WebOptions(auth=FAST_AUTH))).get("/login")
    assert "strict-transport-security" not in plain.headers
