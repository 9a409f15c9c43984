"""Issue 29: the case status form never pre-selects an action, reopening needs a confirmation, every
change ends on a success message; a unit sees why a "Mới" case has no action; a case's content is
the call's summary."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipeline.casework import cases
from tests.support.web_fixtures import csrf_of


@pytest.fixture
def web_db(cases_db):
    return cases_db


def _closed_case(web_db) -> str:
    con = duckdb.connect(str(web_db))
    try:
        cid = con.execute("SELECT case_id FROM cases WHERE kind = 'complaint' AND unit = 'UBND phường Tân Tiến' "
                          "ORDER BY case_id LIMIT 1").fetchone()[0]
        qa, unit = cases.Actor("lan", "qa"), cases.Actor("tantien", "unit", unit="UBND phường Tân Tiến")
        cases.transition(con, cid, "forwarded", qa)
        cases.transition(con, cid, "in_progress", unit)
        cases.transition(con, cid, "resolved", unit, result="Đã thu gom rác")
        cases.transition(con, cid, "informed", qa)
        cases.transition(con, cid, "closed", qa)
    finally:
        con.close()
    return cid


def _status(client, cid):
    return client.get(f"/api/cases/{cid}").json()["status"]


def test_closed_case_form_selects_nothing_and_reopen_needs_confirmation(client_named, web_db):
    cid = _closed_case(web_db)
    qa = client_named("lan")
    page = qa.get(f"/cases/{cid}").text
    form = page[page.index('id="case-action"'):]
    form = form[:form.index("</form>")]
    # The only selected option is the empty placeholder; the reopen is labelled as one.
    assert re.findall(r'<option value="([^"]*)" selected', form) == [""]
    assert "Mở lại phiếu" in form and 'name="confirm_reopen"' in form
    token = csrf_of(page)
    # Submitting the untouched form does nothing.
    r = qa.post(f"/cases/{cid}/status", data={"to": "", "csrf_token": token}, follow_redirects=True)
    assert _status(qa, cid) == "closed" and "Hãy chọn một thao tác" in r.text
    # Choosing reopen without ticking the box does nothing either.
    r = qa.post(f"/cases/{cid}/status", data={"to": "in_progress", "csrf_token": token}, follow_redirects=True)
    assert _status(qa, cid) == "closed" and "cần xác nhận" in r.text
    # Confirmed: reopened, and the page says so.
    r = qa.post(f"/cases/{cid}/status", data={"to": "in_progress", "confirm_reopen": "1", "csrf_token": token},
                follow_redirects=True)
    assert _status(qa, cid) == "in_progress"
    assert "Đã cập nhật: phiếu chuyển từ «Đã đóng» sang «Đang xử lý»." in r.text


def test_every_status_change_ends_on_a_success_message(client_named, web_db):
    con = duckdb.connect(str(web_db))
    cid = con.execute("SELECT case_id FROM cases WHERE status = 'new' AND unit = 'UBND phường Tân Tiến' "
                      "AND kind = 'complaint' ORDER BY case_id LIMIT 1").fetchone()[0]
    con.close()
    qa = client_named("lan")
    r = qa.post(f"/cases/{cid}/status", data={"to": "forwarded", "csrf_token": csrf_of(qa.get(f"/cases/{cid}").text)},
                follow_redirects=True)
    assert 'id="case-ok"' in r.text and "sang «Đã chuyển đơn vị»" in r.text
    unit = client_named("tantien")
    r = unit.post(f"/cases/{cid}/status", data={"to": "in_progress",
                                                "csrf_token": csrf_of(unit.get(f"/cases/{cid}").text)},
                  follow_redirects=True)
    assert "sang «Đang xử lý»" in r.text
    # A forged ?ok= with an unknown status shows nothing.
    assert 'id="case-ok"' not in unit.get(f"/cases/{cid}?ok=status&from=x&to=<b>").text


def test_unit_sees_why_a_new_case_has_no_action(client_named, web_db):
    con = duckdb.connect(str(web_db))
    cid = con.execute("SELECT case_id FROM cases WHERE status = 'new' AND unit = 'UBND phường Tân Tiến' "
                      "ORDER BY case_id LIMIT 1").fetchone()[0]
    con.close()
    unit = client_named("tantien")
    page = unit.get(f"/cases/{cid}").text
    assert 'id="case-action"' not in page
    assert 'id="case-unit-wait"' in page and "tổng đài chưa chuyển phiếu này" in page
    assert "chưa chuyển cho đơn vị" in unit.get("/cases?status=all").text


def test_case_content_is_the_calls_summary(web_db):
    con = duckdb.connect(str(web_db))
    try:
        cid, call_id = con.execute("SELECT case_id, call_id FROM case_calls ORDER BY call_id LIMIT 1").fetchone()
        con.execute("DELETE FROM case_calls; DELETE FROM cases; DELETE FROM case_events; DELETE FROM case_merge_proposals")
        con.execute("UPDATE calls SET summary = 'Phản ánh rác thải tại phường Tân Tiến.' WHERE call_id = ?", [call_id])
        cases.build_cases(con)
        summary = con.execute("SELECT k.summary FROM cases k JOIN case_calls cc USING (case_id) WHERE cc.call_id = ?",
                              [call_id]).fetchone()[0]
    finally:
        con.close()
    assert summary == "Phản ánh rác thải tại phường Tân Tiến."
