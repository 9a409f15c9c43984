"""Issue 30: back-applying rules from the web app is bounded: each request stops after the chunk that used up
its time budget, says how many calls are left and offers to continue; the hits are the same as in one go."""

from __future__ import annotations

import html

from pipeline.casework import categories
from pipeline.warehouse import db
from tests.support.web_fixtures import csrf_of


def test_a_back_apply_in_steps_ends_where_one_in_one_go_does(web_db):
    con = db.connect(web_db)
    first = categories.apply_rules(con, budget_s=0.0, chunk_size=10)  # budget spent: one chunk per step
    assert (first.n_calls, first.n_left) == (10, 26)
    steps, start = [first], 10
    while steps[-1].n_left:
        steps.append(categories.apply_rules(con, start=start, budget_s=0.0, chunk_size=10))
        start += steps[-1].n_calls
    assert [s.n_calls for s in steps] == [10, 10, 10, 6] and start == 36
    stepped = con.execute("SELECT call_id, rule_name, moment_s FROM rule_hits ORDER BY ALL").fetchall()
    whole = categories.apply_rules(con)
    assert (whole.n_calls, whole.n_left) == (36, 0)
    assert con.execute("SELECT call_id, rule_name, moment_s FROM rule_hits ORDER BY ALL").fetchall() == stepped
    con.close()


def test_the_editor_continues_a_back_apply_and_ignores_a_hostile_start(client_as):
    client = client_as("manager")
    token = csrf_of(client.get("/rules").text)
    cont = client.post("/rules/apply", data={"csrf_token": token, "start": "30", "hits": "7"}, follow_redirects=False)
    assert cont.status_code == 303 and "applied=36" in cont.headers["location"] and "left" not in cont.headers["location"]
    hostile = client.post("/rules/apply", data={"csrf_token": token, "start": "-1; DROP", "hits": "x"},
                          follow_redirects=False)
    assert "applied=36" in hostile.headers["location"]
    page = html.unescape(client.get("/rules?applied=500&hits=3&left=120").text)
    assert "Còn 120 cuộc gọi chưa áp dụng" in page
    assert 'name="start" value="500"' in page and "Áp dụng tiếp" in page
    assert 'name="start"' not in html.unescape(client.get("/rules?applied=36&hits=3").text)
