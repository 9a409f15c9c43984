"""Issue 29 (Low): a call opened by one QA reviewer shows "đang được … xem" to another, in the queue and on the
call page, and the claim expires; the queue page explains its order."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from pipeline.web import claims
from pipeline.web.auth import add_user
from tests.support.web_fixtures import FAST_AUTH, log_in


def _second_qa(web_db, app):
    from fastapi.testclient import TestClient

    con = duckdb.connect(str(web_db))
    try:
        add_user(con, "hoa", "qa", "mat-khau-qa-2", FAST_AUTH)
    finally:
        con.close()
    app.state.web.account_names.forget()  # the account was added behind the app's back
    c = TestClient(app)
    assert log_in(c, "hoa", "mat-khau-qa-2").status_code == 303
    return c


def _first_in_queue(con_path) -> str:
    con = duckdb.connect(str(con_path))
    try:
        return con.execute("SELECT call_id FROM mart_review_queue ORDER BY priority LIMIT 1").fetchone()[0]
    finally:
        con.close()


def test_second_reviewer_sees_who_is_reviewing(client_as, app, web_db):
    call_id = _first_in_queue(web_db)
    lan = client_as("qa")
    assert 'id="claimed-by"' not in lan.get(f"/calls/{call_id}").text  # lan claims it
    hoa = _second_qa(web_db, app)
    page = hoa.get(f"/calls/{call_id}").text
    assert 'id="claimed-by"' in page and "đang được lan xem" in page
    queue = hoa.get("/calls?queue=1").text
    assert 'data-claimed-by="lan"' in queue and "đang được lan xem" in queue
    assert 'id="queue-order"' in queue and "khẩn cấp trước" in queue
    # lan's own queue does not warn lan about lan.
    assert 'data-claimed-by="lan"' not in lan.get("/calls?queue=1").text
    # A manager reading the call claims nothing.
    client_as("manager").get(f"/calls/{call_id}")
    con = duckdb.connect(str(web_db))
    try:
        assert claims.live_claims(con) == {call_id: "lan"}
    finally:
        con.close()


def test_claims_expire(web_db):
    con = duckdb.connect(str(web_db))
    try:
        t0 = datetime(2026, 12, 7, 9)
        assert claims.claim(con, "c1", "lan", now=t0) is None
        held = claims.claim(con, "c1", "hoa", now=t0 + timedelta(minutes=5))
        assert held is not None and held.user_name == "lan"
        assert claims.claim(con, "c1", "lan", now=t0 + timedelta(minutes=10)) is None  # renewed
        later = t0 + timedelta(minutes=10 + claims.CLAIM_MINUTES + 1)
        assert claims.live_claims(con, now=later) == {}
        assert claims.claim(con, "c1", "hoa", now=later) is None  # expired: hoa takes it
        claims.release(con, "c1", "hoa")
        assert claims.live_claims(con, now=later) == {}
    finally:
        con.close()
