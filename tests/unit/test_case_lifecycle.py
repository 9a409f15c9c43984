"""Case lifecycle rules, roles, reopen, answered questions, and idempotent loads."""

import pytest

from pipeline.casework import cases
from pipeline.casework.cases import Actor, CaseError, NotAllowed
from pipeline.runs.book import store_call
from pipeline.warehouse import db
from tests.support.call_results import one_turn_result as _result

QA = Actor("lan", "qa")
UNIT = Actor("dv", "unit", unit="UBND phường Tân Tiến")
OTHER_UNIT = Actor("dv2", "unit", unit="UBND phường Tân Lập")
MANAGER = Actor("minh", "manager")


@pytest.fixture
def con(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    store_call(con, _result(), "run1")  # the run book opens the case as it stores the call
    yield con
    con.close()


def _case(con):
    return con.execute("SELECT case_id FROM cases").fetchone()[0]


def test_loading_a_call_opens_one_case_routed_to_its_ward(con):
    row = con.execute("SELECT kind, status, topic, place, unit, due_date IS NOT NULL FROM cases").fetchall()
    # No route stored with this call: the case asks routing.csv (environment + a ward → its People's Committee).
    assert row == [("complaint", "new", "environment", "phường Tân Tiến", "UBND phường Tân Tiến", True)]
    assert con.execute("SELECT count(*) FROM case_calls").fetchone()[0] == 1
    assert con.execute("SELECT action, user_name FROM case_events").fetchall() == [("opened", "pipeline")]


def _route(con):
    con.execute("UPDATE cases SET unit = 'UBND phường Tân Tiến'")


def test_full_path_and_no_skipping(con):
    _route(con)
    cid = _case(con)
    for to in ("closed", "resolved", "in_progress", "informed"):
        with pytest.raises(NotAllowed):
            cases.transition(con, cid, to, QA)
    cases.transition(con, cid, "forwarded", QA, note="chuyển phường")
    with pytest.raises(NotAllowed):
        cases.transition(con, cid, "resolved", UNIT, result="xong")  # in_progress first
    cases.transition(con, cid, "in_progress", UNIT)
    with pytest.raises(CaseError, match="result"):
        cases.transition(con, cid, "resolved", UNIT)
    cases.transition(con, cid, "resolved", UNIT, result="Đã thu gom")
    with pytest.raises(NotAllowed):
        cases.transition(con, cid, "closed", QA)  # the citizen must be told first
    cases.transition(con, cid, "informed", QA)
    cases.transition(con, cid, "closed", QA)
    events = con.execute("SELECT user_name, from_status, to_status FROM case_events WHERE action = 'status' "
                         "ORDER BY acted_at").fetchall()
    assert events == [("lan", "new", "forwarded"), ("dv", "forwarded", "in_progress"), ("dv", "in_progress", "resolved"),
                      ("lan", "resolved", "informed"), ("lan", "informed", "closed")]
    row = con.execute("SELECT status, result, resolved_at IS NOT NULL, closed_at IS NOT NULL FROM cases").fetchone()
    assert row == ("closed", "Đã thu gom", True, True)


def test_roles_and_units(con):
    _route(con)
    cid = _case(con)
    with pytest.raises(NotAllowed):
        cases.transition(con, cid, "forwarded", UNIT)  # units do not forward
    with pytest.raises(NotAllowed):
        cases.transition(con, cid, "forwarded", MANAGER)  # managers read only
    cases.transition(con, cid, "forwarded", QA)
    with pytest.raises(CaseError, match="no case"):
        cases.transition(con, cid, "in_progress", OTHER_UNIT)  # another unit's case does not exist for it
    assert cases.get_case(con, cid, OTHER_UNIT) is None
    assert cases.list_cases(con, OTHER_UNIT, status="all") == []
    assert [r["case_id"] for r in cases.list_cases(con, UNIT, status="all")] == [cid]
    assert cases.get_case(con, cid, UNIT)["caller_hash"] is None


def test_forwarding_needs_a_unit(con):
    con.execute("UPDATE cases SET unit = NULL")
    with pytest.raises(CaseError, match="unit"):
        cases.transition(con, _case(con), "forwarded", QA)


def test_reopen_counts_and_goes_back_to_the_unit(con):
    _route(con)
    cid = _case(con)
    for to, who, kw in (("forwarded", QA, {}), ("in_progress", UNIT, {}), ("resolved", UNIT, {"result": "ok"}),
                        ("informed", QA, {}), ("closed", QA, {})):
        cases.transition(con, cid, to, who, **kw)
    with pytest.raises(NotAllowed):
        cases.transition(con, cid, "in_progress", UNIT)  # a unit cannot reopen on its own
    cases.transition(con, cid, "in_progress", QA, note="người dân báo rác vẫn còn")
    row = con.execute("SELECT status, n_reopened, closed_at FROM cases").fetchone()
    assert row == ("in_progress", 1, None)
    assert con.execute("SELECT count(*) FROM case_events WHERE action = 'reopen'").fetchone()[0] == 1
    assert con.execute("SELECT reopened_share FROM mart_cases_by_unit").fetchone()[0] == 1.0


def test_a_question_answered_on_the_line_is_closed_at_once_and_can_become_a_complaint(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    store_call(con, _result(sha="cd" * 32, text="hỏi thủ tục làm căn cước", topic="administrative_procedures"), "r")
    cid = _case(con)
    assert con.execute("SELECT kind, status, closed_at IS NOT NULL FROM cases").fetchone() == ("inquiry", "answered", True)
    cases.transition(con, cid, "new", QA, note="người dân phản ánh thái độ cán bộ")
    assert con.execute("SELECT kind, status, n_reopened, due_date IS NOT NULL FROM cases").fetchone() == (
        "complaint", "new", 1, True)


def test_reloading_never_duplicates_nor_reopens(con):
    _route(con)
    cid = _case(con)
    for to, who, kw in (("forwarded", QA, {}), ("in_progress", UNIT, {}), ("resolved", UNIT, {"result": "ok"})):
        cases.transition(con, cid, to, who, **kw)
    n_events = con.execute("SELECT count(*) FROM case_events").fetchone()[0]
    store_call(con, _result(), "run2")
    store_call(con, _result(topic="utilities"), "run3")
    assert cases.build_cases(con) == {"opened": 0, "answered": 0, "proposed": 0}
    assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM case_calls").fetchone()[0] == 1
    assert con.execute("SELECT status, result FROM cases").fetchone() == ("resolved", "ok")
    assert con.execute("SELECT count(*) FROM case_events").fetchone()[0] == n_events


def test_a_reload_reroutes_a_new_case_audited(con):
    cid = _case(con)
    store_call(con, _result(topic="security_order"), "run2")
    row = con.execute("SELECT topic, unit, status FROM cases").fetchone()
    assert row == ("security_order", "Công an phường Tân Tiến", "new")
    ev = con.execute("SELECT user_name, note FROM case_events WHERE action = 'rerouted'").fetchall()
    assert len(ev) == 1 and ev[0][0] == "pipeline" and "environment → security_order" in ev[0][1]
    assert cid == _case(con)


def test_unit_change_by_a_person_sticks_and_place_correction_reroutes(con):
    cid = _case(con)
    cases.set_place(con, cid, "phường Tân Lập", QA)
    assert con.execute("SELECT place, unit FROM cases").fetchone() == ("phường Tân Lập", "UBND phường Tân Lập")
    cases.set_unit(con, cid, "Đơn vị vệ sinh môi trường đô thị", QA)
    cases.set_place(con, cid, "phường Tân Tiến", QA)
    assert con.execute("SELECT unit, unit_locked FROM cases").fetchone() == ("Đơn vị vệ sinh môi trường đô thị", True)
    with pytest.raises(NotAllowed):
        cases.set_unit(con, cid, "X", UNIT)
    actions = [r[0] for r in con.execute("SELECT action FROM case_events ORDER BY acted_at").fetchall()]
    assert actions.count("place") == 2 and "unit" in actions and "rerouted" in actions


def test_overdue_flag(con):
    con.execute("UPDATE cases SET due_date = DATE '2020-01-02'")
    assert con.execute("SELECT is_overdue FROM stg_cases").fetchone() == (True,)
    assert cases.get_case(con, _case(con), QA)["is_overdue"] is True


def test_retention_purge_blanks_the_cases_copy_of_personal_data(con):
    from pipeline.warehouse.purge import purge

    con.execute("UPDATE calls SET caller_hash = 'h1', started_at = TIMESTAMP '2020-01-01 08:00'")
    con.execute("UPDATE cases SET caller_hash = 'h1'")
    purge(con, 365)
    assert con.execute("SELECT caller_hash, summary, status FROM cases").fetchone() == (None, None, "new")


def test_every_status_step_and_reason_has_both_labels():
    from pipeline.i18n import LANGS, MESSAGES

    keys = {f"case_status_{s}" for s in cases.STATUSES} | {f"case_go_{to}" for _, to in cases.TRANSITIONS}
    keys |= {f"case_reason_{r}" for r in ("same_caller", "same_place_topic")} | {"case_kind_complaint", "case_kind_inquiry"}
    assert [k for k in sorted(keys) if set(MESSAGES.get(k, {})) != set(LANGS)] == []
