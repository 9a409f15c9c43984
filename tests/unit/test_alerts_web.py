"""Issue 30 #2: the bell, the alert list, acknowledging (audited, CSRF) and subscriptions in the web app;
a unit sees only its own unit's overdue alerts, by page, API and acknowledgement."""

from __future__ import annotations

import re
import pytest

from pipeline.casework import alerts
from pipeline.warehouse import alerts as alert_store
from pipeline.warehouse import db
from tests.support.alert_fixtures import add_sample_alerts
from tests.support.web_fixtures import csrf_of


@pytest.fixture
def web_db(cases_db):
    add_sample_alerts(cases_db)
    return cases_db


def _bell(html: str) -> int | None:
    m = re.search(r'id="bell"[^>]*>.*?(?:<span class="count" id="bell-count">(\d+)</span>)?</a>', html, re.S)
    return None if m is None else int(m.group(1) or 0)


def _overdue_ids(path) -> dict[str, str]:
    con = db.connect(path, read_only=True)
    try:
        return {a["unit"]: a["alert_id"] for a in alert_store.visible_alerts(con, kinds=["overdue"], unit=None, user="-")}
    finally:
        con.close()


def test_bell_counts_unread_and_the_list_marks_them_read(client_named, web_db):
    c = client_named("minh")
    n = len(_overdue_ids(web_db)) + 2
    assert _bell(c.get("/cases").text) == n
    assert c.get("/api/alerts").json()["unread"] == n
    page = c.get("/alerts").text
    assert page.count('class="alert-row unread') == n and "Tăng đột biến" in page and "p = 1e-09" in page
    assert _bell(c.get("/cases").text) == 0  # seen
    assert _bell(client_named("an").get("/cases").text) == n  # read is per user


def test_acknowledging_is_audited_and_needs_the_csrf_token(client_named, web_db):
    c = client_named("lan")
    page = c.get("/alerts").text
    urgent = next(a for a in c.get("/api/alerts").json()["alerts"] if a["kind"] == "urgent")["alert_id"]
    assert c.post(f"/alerts/{urgent}/ack", data={"csrf_token": "wrong"}, follow_redirects=False).status_code == 403
    r = c.post(f"/alerts/{urgent}/ack", data={"csrf_token": csrf_of(page), "note": "đã gọi PCCC"},
               follow_redirects=False)
    assert r.status_code == 303
    con = db.connect(web_db, read_only=True)
    [event] = alert_store.alert_events(con, urgent)
    row = alert_store.alert_row(con, urgent)
    con.close()
    assert (event["user_name"], event["action"], event["note"]) == ("lan", "acknowledged", "đã gọi PCCC")
    assert row["acknowledged_by"] == "lan" and row["acknowledged_at"] is not None
    assert "Đã xác nhận: lan" in client_named("minh").get("/alerts").text
    assert c.post("/alerts/AL-nothing/ack", data={"csrf_token": csrf_of(page)}).status_code == 404


def test_a_unit_sees_only_its_own_overdue_alert(client_named, web_db):
    ids = _overdue_ids(web_db)
    own, foreign = ids["UBND phường Tân Tiến"], ids["UBND phường Tân Lập"]
    c = client_named("tantien")
    api = c.get("/api/alerts").json()
    assert [a["alert_id"] for a in api["alerts"]] == [own] and api["unread"] == 1
    page = c.get("/alerts").text
    assert own in page and foreign not in page and "Khẩn cấp: cháy" not in page and "Tăng đột biến" not in page
    assert 'href="/calls/' not in page
    token = csrf_of(page)
    assert c.post(f"/alerts/{foreign}/ack", data={"csrf_token": token}).status_code == 404
    urgent = next(k for k in _all_ids(web_db) if k.startswith("AL-"))
    assert c.post(f"/alerts/{urgent}/ack", data={"csrf_token": token}).status_code == 404
    assert c.post(f"/alerts/{own}/ack", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    # a unit may subscribe only to what it sees
    r = c.post("/alerts/subscription", data={"csrf_token": token, "email": "pttien@1022.example",
                                             "kind": ["urgent", "spike", "overdue"], "quiet_from": "22:00",
                                             "quiet_to": "06:30"}, follow_redirects=False)
    assert r.status_code == 303
    con = db.connect(web_db, read_only=True)
    sub = alerts.subscription_of(con, "tantien")
    con.close()
    assert sub.kinds == ("overdue",) and sub.email == "pttien@1022.example" and sub.quiet_from.hour == 22


def _all_ids(path) -> list[str]:
    con = db.connect(path, read_only=True)
    try:
        return [a["alert_id"] for a in alert_store.visible_alerts(con, kinds=alerts.KINDS, unit=None, user="-")]
    finally:
        con.close()


def test_subscription_form_rejects_a_bad_time_and_needs_csrf(client_named):
    c = client_named("minh")
    token = csrf_of(c.get("/alerts").text)
    assert c.post("/alerts/subscription", data={"csrf_token": "x", "kind": ["urgent"]}).status_code == 403
    r = c.post("/alerts/subscription", data={"csrf_token": token, "kind": ["urgent"], "quiet_from": "25:99"})
    assert r.status_code == 400 and "quiet_from" in r.text
    r = c.post("/alerts/subscription", data={"csrf_token": token, "kind": ["urgent", "spike"], "email": "a@b"},
               follow_redirects=True)
    assert r.status_code == 200 and 'id="subs-saved"' in r.text and 'value="spike" checked' in r.text


def test_not_logged_in_is_sent_to_the_log_in_page(client_as):
    c = client_as(None)
    assert c.get("/alerts", follow_redirects=False).status_code == 303
    assert c.get("/api/alerts").status_code == 401
    assert c.post("/alerts/x/ack", data={"csrf_token": "x"}).status_code == 401
