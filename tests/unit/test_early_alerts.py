"""Issue 30 #3: the early urgent pass's rules, facts and dedupe (no model: the text is given).

Which rules the beginning of a call can decide; what the early pass stores; and that the full
pass storing and tagging the same call adds no second alert and no second e-mail.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from pipeline.analysis.rules import DEFAULTS, Rule, early_checkable
from pipeline.casework import alerts
from pipeline.casework.early_alerts import alert_id, check_early, early_facts, raise_early, rules_for_early
from pipeline.config import load_settings
from pipeline.runs.book import send_alerts, store_call
from pipeline.warehouse import db
from tests.support.call_results import call_result

SHA = "ab12" * 16
FIRE = "Alo nhà tôi đang bị cháy, khói bốc lên nhiều lắm."
URGENT_DEFAULT = next(r for r in DEFAULTS if r.urgent)


@pytest.mark.parametrize("condition, checkable", [
    ({"said": {"by": "citizen", "phrases": ["cháy"], "meant": True}}, True),
    ({"said": {"by": "anyone", "phrases": ["cấp cứu"], "first_s": 20}}, True),
    ({"urgent": True}, True),
    ({"any": [{"said": {"by": "citizen", "phrases": ["sập"]}}, {"urgent": True}]}, True),
    ({"said": {"by": "operator", "phrases": ["cháy"]}}, False),  # no roles in a mono call before diarization
    ({"said": {"by": "citizen", "phrases": ["cháy"], "last_s": 30}}, False),  # needs the call's end
    ({"not": {"said": {"by": "citizen", "phrases": ["cháy"]}}}, False),  # more text could undo it
    ({"urgent": False}, False),
    ({"all": [{"said": {"by": "citizen", "phrases": ["cháy"]}}, {"topic": ["environment"]}]}, False),
    ({"silence_over_s": 30}, False),
])
def test_only_conditions_a_call_s_beginning_can_decide_are_checked_early(condition, checkable):
    assert early_checkable(condition) is checkable


def test_the_shipped_urgent_rule_is_checked_early_and_reads_meant_mentions_only():
    assert early_checkable(URGENT_DEFAULT.condition)
    fire = early_facts("c1", 12.0, [(0.0, 2.0, "operator", "Tổng đài 1022 xin nghe"), (2.5, 8.0, "citizen", FIRE)])
    [hit] = check_early([URGENT_DEFAULT], fire)
    assert (hit.rule, hit.moment_s, hit.urgent) == (URGENT_DEFAULT.name, 2.5, True)
    assert fire.urgent and fire.duration_s == 12.0  # the urgency detector read the citizen's words
    calm = early_facts("c2", 12.0, [(2.5, 8.0, "citizen", "Khu tôi không có cháy, chỉ có rác thải bốc mùi.")])
    assert check_early([URGENT_DEFAULT], calm) == [] and not calm.urgent
    said_by_operator = early_facts("c3", 12.0, [(0.0, 3.0, "operator", "Anh báo cháy ở đâu ạ?")])
    assert check_early([URGENT_DEFAULT], said_by_operator) == []
    assert check_early([URGENT_DEFAULT], fire, frozenset({URGENT_DEFAULT.name})) == []  # already alerted


def test_a_rule_on_the_urgency_detector_alerts_early_too():
    rule = Rule("khan-cap-mo-hinh", "Khẩn cấp theo bộ phát hiện", {"urgent": True}, urgent=True, version=1)
    facts = early_facts("c1", 10.0, [(1.0, 6.0, "citizen", "Ngoài đường có tai nạn, có người bị thương.")])
    assert [h.rule for h in check_early([rule], facts)] == ["khan-cap-mo-hinh"]


@pytest.fixture
def warehouse(tmp_path):
    settings = load_settings(home=tmp_path, db_path=tmp_path / "hotline.duckdb", smtp_host="relay.invalid",
                             alert_to=("truc-ban@1022.example",))
    con = db.connect(settings.database)
    yield con, settings
    con.close()


def test_the_full_pass_finds_the_early_alert_and_neither_stores_nor_e_mails_another(warehouse, monkeypatch):
    con, settings = warehouse
    call_id = SHA[:16]
    sent = []
    monkeypatch.setattr(alerts, "send_message", lambda s, to, subject, body, html=None: sent.append(subject) or tuple(to))

    todo = rules_for_early(con, call_id)  # before the call is stored: the shipped urgent rule, nothing done yet
    assert not todo.settled and todo.alerted == frozenset()
    assert [r.name for r in todo.rules] == [URGENT_DEFAULT.name] and todo.rules[0].version == 1
    facts = early_facts(call_id, 20.0, [(1.0, 7.0, "citizen", FIRE)])
    hits = check_early(todo.rules, facts)
    assert raise_early(con, facts, hits, todo.rules, now=datetime(2026, 12, 7, 2, 0)) == 1
    send_alerts(con, settings)  # the early pass e-mails it at once
    assert len(sent) == 1
    assert raise_early(con, facts, hits, todo.rules) == 0  # heard again (a poll retried): kept as it was

    store_call(con, call_result(SHA, FIRE, topic="security_order", ward="Tân Tiến", start_s=1.0), "run-1")
    send_alerts(con, settings)  # the full pass: stored, tagged by the rules, dispatched
    assert len(sent) == 1
    rows = con.execute("SELECT alert_id, kind, trigger, topic, ward, sent_at FROM alerts").fetchall()
    [(aid, kind, trigger, topic, ward, sent_at)] = rows
    assert aid == alert_id(call_id, URGENT_DEFAULT.name) and kind == "urgent" and sent_at is not None
    trig = json.loads(trigger)
    assert trig["pass"] == "early" and trig["heard_s"] == 20.0 and trig["moment_s"] == 1.0
    assert (topic, ward) == ("security_order", "Tân Tiến")  # the full pass filled what the early one lacked
    assert con.execute("SELECT count(*) FROM rule_hits WHERE call_id = ? AND rule_name = ?",
                       [call_id, URGENT_DEFAULT.name]).fetchone()[0] == 1  # the full pass matched it as well

    after = rules_for_early(con, call_id)
    assert after.settled and after.alerted == frozenset({URGENT_DEFAULT.name})


def test_an_alert_the_early_pass_could_not_send_is_sent_by_the_full_pass_once(warehouse, monkeypatch):
    con, settings = warehouse
    call_id = SHA[:16]
    todo = rules_for_early(con, call_id)
    facts = early_facts(call_id, 10.0, [(1.0, 7.0, "citizen", FIRE)])
    raise_early(con, facts, check_early(todo.rules, facts), todo.rules)

    def down(*args, **kwargs):
        raise alerts.RelayDown("SMTP server relay.invalid:25 did not take the message: ConnectionRefusedError")

    monkeypatch.setattr(alerts, "send_message", down)
    send_alerts(con, settings)
    assert con.execute("SELECT send_error IS NOT NULL, sent_at FROM alerts").fetchone() == (True, None)
    sent = []
    monkeypatch.setattr(alerts, "send_message", lambda s, to, subject, body, html=None: sent.append(subject) or tuple(to))
    store_call(con, call_result(SHA, FIRE, start_s=1.0), "run-1")
    send_alerts(con, settings)
    send_alerts(con, settings)
    assert len(sent) == 1


def test_an_alert_e_mail_names_the_topic_in_vietnamese_and_says_when_it_was_found_early():
    settings = load_settings(public_url="https://1022.example")
    alert = {"alert_id": "AL-x-r", "call_id": "x", "rule_name": "r", "reason": "Khẩn cấp", "moment_s": 6.0,
             "topic": "security_order", "ward": None,
             "trigger": json.dumps({"rule": "r", "version": 1, "moment_s": 6.0, "pass": "early", "heard_s": 12.4})}
    subject, body = alerts.compose(alert, settings)
    assert "Chủ đề: An ninh trật tự" in body and "security_order" not in body
    assert "12 giây đầu" in body
    _, full = alerts.compose({**alert, "topic": None, "trigger": json.dumps({"rule": "r"})}, settings)
    assert "Chủ đề: chưa rõ" in full and "giây đầu" not in full
    _, other = alerts.compose_any({**alert, "kind": "category", "topic": "environment"}, settings)
    assert "Chủ đề: Môi trường, vệ sinh" in other
