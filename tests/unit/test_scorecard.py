"""Issue 29 item 9: the evaluation scorecard per operator and criterion over a period, its drill-down to the
calls, the link from the dashboard and the period report's section; item 10: QA corrections counted by the
day they were made."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from pipeline.report import reports, scorecard
from pipeline.warehouse import calls as call_rows
from pipeline.warehouse import qa_workspace as ws


def _evaluate(web_db) -> dict[str, str]:
    """Two operators' calls evaluated: the first operator's greeting met on two calls, the second's not met on one."""
    con = duckdb.connect(str(web_db))
    try:
        rows = con.execute("SELECT call_id, operator_ext FROM stg_calls ORDER BY started_at").fetchall()
        by_op: dict[str, list[str]] = {}
        for cid, op in rows:
            by_op.setdefault(op, []).append(cid)
        (op1, c1), (op2, c2) = sorted(by_op.items())[:2]
        at = datetime(2026, 12, 1, 9)
        ws.insert_evaluation_rows(con, [
            (c1[0], "greeting", "met", None, "lan", at), (c1[1], "greeting", "met", None, "lan", at),
            (c1[0], "courtesy", "na", None, "lan", at),
            (c2[0], "greeting", "met", None, "lan", at),
            (c2[0], "greeting", "not_met", None, "lan", datetime(2026, 12, 2, 9)),  # the latest answer counts
        ])
    finally:
        con.close()
    return {"op1": op1, "op2": op2, "bad_call": c2[0], "good_call": c1[0]}


def test_scorecard_per_operator_and_criterion(web_db):
    ids = _evaluate(web_db)
    con = duckdb.connect(str(web_db))
    try:
        rows, totals = scorecard.scorecard(con, date(2026, 1, 1), date(2026, 12, 31))
        html = scorecard.report_section(con, date(2026, 1, 1), date(2026, 12, 31))
        none = scorecard.report_section(con, date(2020, 1, 1), date(2020, 1, 31))
    finally:
        con.close()
    by_op = {r.operator: r for r in rows}
    assert rows[0].operator == ids["op2"]  # weakest first
    assert by_op[ids["op2"]].cells["greeting"] == scorecard.Cell(1, 0, 1, 0)
    assert by_op[ids["op1"]].cells["greeting"].share == 1.0 and by_op[ids["op1"]].cells["courtesy"].share is None
    assert totals["greeting"] == scorecard.Cell(3, 2, 1, 0)
    assert "Bảng điểm đánh giá cuộc gọi" in html and "67% (2/3)" in html
    assert "Chưa có cuộc gọi nào" in none


def test_scorecard_page_drills_down_to_the_calls(client_as, web_db):
    ids = _evaluate(web_db)
    manager = client_as("manager")
    page = manager.get("/scorecard?from=2026-01-01&to=2026-12-31")
    assert page.status_code == 200 and 'id="scorecard"' in page.text
    assert "Chào hỏi đúng mẫu" in page.text and f'data-operator="{ids["op2"]}"' in page.text
    drill = manager.get(f"/scorecard?from=2026-01-01&to=2026-12-31&operator={ids['op2']}&item=greeting&answer=not_met")
    assert f'href="/calls/{ids["bad_call"]}"' in drill.text and ids["good_call"] not in drill.text
    assert "Không đạt" in drill.text
    # Linked from the dashboard; closed to QA-less roles as the dashboard is.
    assert 'id="scorecard-link"' in manager.get("/dashboard").text
    assert client_as("qa").get("/scorecard", follow_redirects=False).status_code == 403
    assert client_as(None).get("/scorecard", follow_redirects=False).status_code in (303, 401)


def test_scorecard_is_closed_to_units(cases_db):
    from fastapi.testclient import TestClient

    from pipeline.web.app import WebOptions, create_app
    from tests.support.web_fixtures import FAST_AUTH, log_in, password_of

    c = TestClient(create_app(cases_db, options=WebOptions(auth=FAST_AUTH, busy_wait_s=0.5)))
    assert log_in(c, "tantien", password_of("tantien")).status_code == 303
    assert c.get("/scorecard", follow_redirects=False).status_code == 403


def test_period_report_has_the_scorecard_section(web_db):
    _evaluate(web_db)
    con = duckdb.connect(str(web_db))
    try:
        html = reports.render_report(con, date(2026, 10, 1), date(2026, 12, 31))
    finally:
        con.close()
    assert 'id="scorecard"' in html and "Mọi tổng đài viên" in html


def test_dashboard_counts_corrections_by_the_day_they_were_made(client_as, web_db, call_ids):
    manager = client_as("manager")

    def count(page: str) -> int:
        return int(page.split('id="corrections-count">')[1].split("<")[0])

    before = count(manager.get("/dashboard").text)
    con = duckdb.connect(str(web_db))
    try:
        # Two corrections made now, on calls of October: the default period ends on the last call's day.
        for topic in ("environment", "traffic"):
            call_rows.write_topic_correction(con, call_ids[0], topic, True, "lan", datetime.now())
    finally:
        con.close()
    assert count(manager.get("/dashboard").text) == before + 2
    # An explicit period that ended before them does not count them.
    assert count(manager.get("/dashboard?from=2026-10-01&to=2026-10-31").text) == 0
