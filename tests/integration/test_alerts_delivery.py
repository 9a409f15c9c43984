"""Issue 30 #2: spikes, overdue cases per unit and subscribers' e-mails through a real SMTP server
(aiosmtpd on 127.0.0.1): quiet hours hold all but urgent alerts and release them as one digest, a
flood becomes one digest, a unit hears only of its own overdue cases, no e-mail carries personal data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from pipeline.casework import alerts, categories
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.warehouse import alerts as alert_store
from pipeline.warehouse import db
from tests.support.smtp import smtp_server

pytest.importorskip("aiosmtpd.controller")

NOW = datetime(2026, 12, 7, 23, 10)  # a Monday night: quiet hours for whoever set 22:00-06:30
MORNING = datetime(2026, 12, 8, 7, 0)
FIRE = "Tôi là Nguyễn Văn Hùng, số [SĐT], nhà bên cạnh ở hẻm 12 đang bị cháy."


@pytest.fixture
def env(cases_db, monkeypatch):
    with smtp_server() as (inbox, port):
        monkeypatch.setenv("HOTLINE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("HOTLINE_SMTP_PORT", str(port))
        monkeypatch.setenv("HOTLINE_ALERT_FROM", "hotline@1022.example")
        monkeypatch.setenv("HOTLINE_ALERT_TO", "")
        monkeypatch.setenv("HOTLINE_PUBLIC_URL", "https://1022.example")
        yield inbox, cases_db


def _plant_spike(con) -> tuple[str, str]:
    """Move five calls of the commonest topic x ward into the six hours before NOW (the fixture's end in November)."""
    counts = alert_store.topic_ward_counts(con, datetime(2000, 1, 1), datetime(2100, 1, 1))
    (topic, ward), n = max(counts.items(), key=lambda kv: kv[1])
    assert n >= 5
    ids = [r[0] for r in con.execute(
        "SELECT t.call_id FROM call_topics t JOIN call_places p USING (call_id) WHERE t.topic = ? AND t.assigned "
        "AND p.name = ? ORDER BY t.call_id", [topic, ward]).fetchall()]
    for i, cid in enumerate(ids[:5]):
        con.execute("UPDATE calls SET started_at = ? WHERE call_id = ?", [NOW - timedelta(hours=6, minutes=-10 * i), cid])
    return topic, ward


def _texts(inbox) -> list[str]:
    return [m["Subject"] + "\n" + m.get_body(("plain",)).get_content() + m.get_body(("html",)).get_content()
            for m in inbox.parsed()]


def test_spike_and_overdue_alerts_quiet_hours_digest_and_units(env, capsys):
    inbox, path = env
    con = db.connect(path)
    topic, ward = _plant_spike(con)
    assert alerts.raise_spikes(con, now=NOW) == 1
    assert alerts.raise_spikes(con, now=NOW + timedelta(minutes=5)) == 0  # once per cell and day
    [spike] = [a for a in alert_store.visible_alerts(con, kinds=["spike"], unit=None, user="minh")]
    trigger = json.loads(spike["trigger"])
    assert (spike["topic"], spike["ward"]) == (topic, ward) and trigger["calls"] >= 5
    assert trigger["p_value"] < trigger["alpha"] and trigger["expected"] < 1

    n_overdue = alerts.raise_overdue(con, now=NOW)
    by_unit = {r["unit"]: r for r in alert_store.overdue_by_unit(con, NOW.date())}
    assert n_overdue == len(by_unit) >= 2 and "UBND phường Tân Tiến" in by_unit
    assert alerts.raise_overdue(con, now=NOW + timedelta(minutes=30)) == 0  # once a day
    assert alerts.raise_overdue(con, now=datetime(2026, 12, 12, 9)) == 0  # a Saturday: no overdue list

    alerts.save_subscription(con, "minh", email="minh@1022.example", kinds=["urgent", "spike", "overdue"],
                             quiet_from="22:00", quiet_to="06:30", now=NOW - timedelta(days=1))
    alerts.save_subscription(con, "tantien", email="tantien@1022.example", kinds=["urgent", "overdue", "spike"],
                             now=NOW - timedelta(days=1))
    # an urgent call in the night
    fire = con.execute("SELECT min(call_id) FROM call_topics WHERE topic = 'environment' AND assigned").fetchone()[0]
    con.execute("UPDATE segments SET text = ? WHERE call_id = ? AND role = 'citizen'", [FIRE, fire])
    caller_hash = con.execute("SELECT caller_hash FROM calls WHERE call_id = ?", [fire]).fetchone()[0]
    assert categories.apply_rules(con, [fire], now=NOW).n_new_alerts == 1
    alerts.raise_for_calls(con, [fire], now=NOW)
    urgent = alert_store.alert_row(con, f"AL-{fire}-khan-cap-tu-khoa")
    assert urgent["kind"] == "urgent" and json.loads(urgent["trigger"])["rule"] == "khan-cap-tu-khoa"

    night = alerts.dispatch(con, load_settings(), now=NOW + timedelta(minutes=1))
    # the manager: the urgent alert now, the spike and every unit's overdue list held; the unit: its own list only
    assert night.alone == 2 and night.digests == 0 and night.held == 1 + n_overdue
    [to_minh] = inbox.parsed("minh@1022.example")
    assert "khẩn" in to_minh["Subject"] and f"https://1022.example/calls/{fire}" in to_minh.get_body(("plain",)).get_content()
    [to_unit] = inbox.parsed("tantien@1022.example")
    assert "quá hạn" in to_unit["Subject"] and "Tân Tiến" in to_unit["Subject"]
    assert f"{by_unit['UBND phường Tân Tiến']['n_overdue']} phiếu quá hạn" in to_unit["Subject"]
    # nothing new: nothing sent again
    again = alerts.dispatch(con, load_settings(), now=NOW + timedelta(minutes=2))
    assert (again.alone, again.digests) == (0, 0) and len(inbox.messages) == 2

    morning = alerts.dispatch(con, load_settings(), now=MORNING)
    assert morning.digests == 1 and morning.alone == 0 and morning.held == 0
    [digest] = [m for m in inbox.parsed("minh@1022.example") if m is not None][1:]
    body = digest.get_body(("plain",)).get_content()
    assert f"{1 + n_overdue} cảnh báo" in digest["Subject"] and "tăng đột biến" in body and ward in body
    assert "https://1022.example/alerts" in body and "https://1022.example/cases?overdue=1" in body
    states = {(d["alert_id"], d["user_name"]): d["state"] for d in alert_store.deliveries(con)}
    assert states[(spike["alert_id"], "minh")] == "digest" and states[(urgent["alert_id"], "minh")] == "sent"
    assert not any(u == "tantien" and a == spike["alert_id"] for a, u in states)  # a unit never gets spikes

    for text in _texts(inbox):
        for secret in ("Nguyễn", "Hùng", "hẻm 12", "[SĐT]", caller_hash, "bên cạnh", "đang bị", "0905123456"):
            assert secret not in text, secret
    con.close()


def test_a_flood_of_urgent_alerts_becomes_one_digest(env):
    inbox, path = env
    con = db.connect(path)
    alerts.save_subscription(con, "lan", email="lan@1022.example", kinds=["urgent"], now=NOW - timedelta(days=1))
    ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY call_id LIMIT 9").fetchall()]
    rows = [{"alert_id": f"AL-{cid}-khan-cap-tu-khoa", "kind": "urgent", "call_id": cid, "rule_name": "khan-cap-tu-khoa",
             "rule_version": 1, "reason": "Khẩn cấp", "created_at": NOW} for cid in ids]
    assert alert_store.insert_alerts(con, rows[:3]) == 3
    first = alerts.dispatch(con, load_settings(), now=NOW)
    assert (first.alone, first.digests) == (3, 0)
    assert alert_store.insert_alerts(con, rows[3:]) == 6
    flood = alerts.dispatch(con, load_settings(), now=NOW + timedelta(minutes=2))  # 3 sent + 6 more > 5
    assert (flood.alone, flood.digests) == (0, 1)
    assert "6 cảnh báo (6 khẩn)" in inbox.parsed("lan@1022.example")[-1]["Subject"]
    assert len(inbox.messages) == 4
    con.close()


def test_alerts_commands(env, capsys):
    inbox, path = env
    assert main(["alerts", "subscribe", "minh", "--kinds", "urgent,overdue", "--email", "minh@1022.example",
                 "--quiet", "22:00-06:30", "--db", str(path)]) == 0
    assert "urgent,overdue by e-mail, quiet 22:00-06:30" in capsys.readouterr().out
    assert main(["alerts", "subscribe", "minh", "--kinds", "urgent,everything", "--db", str(path)]) != 0
    assert "everything" in capsys.readouterr().err
    assert main(["alerts", "subscribe", "minh", "--kinds", "urgent", "--quiet", "late", "--db", str(path)]) != 0
    assert main(["alerts", "check", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "new overdue alert(s)" in out


def test_the_run_e_mails_a_stored_calls_urgent_alert_at_once(env, monkeypatch):
    from pipeline.runs.book import send_alerts, tag_call

    inbox, path = env
    monkeypatch.setenv("HOTLINE_ALERT_TO", "truc-ban@1022.example")
    con = db.connect(path)
    fire = con.execute("SELECT min(call_id) FROM call_topics WHERE topic = 'environment' AND assigned").fetchone()[0]
    con.execute("UPDATE segments SET text = ? WHERE call_id = ? AND role = 'citizen'", [FIRE, fire])
    tag_call(con, fire)
    send_alerts(con, load_settings())
    [msg] = inbox.parsed("truc-ban@1022.example")
    assert f"https://1022.example/calls/{fire}" in msg.get_body(("plain",)).get_content()
    trigger = json.loads(alert_store.alert_row(con, f"AL-{fire}-khan-cap-tu-khoa")["trigger"])
    assert trigger["rule"] == "khan-cap-tu-khoa" and trigger["moment_s"] >= 0
    send_alerts(con, load_settings())  # sent once
    monkeypatch.setenv("HOTLINE_SMTP_HOST", "")
    send_alerts(con, load_settings())  # no relay: nothing, no error
    con.close()
    assert len(inbox.messages) == 1


def test_a_relay_that_is_down_is_tried_once_per_send_not_once_per_alert(env, monkeypatch):
    from tests.support.smtp import free_port

    _, path = env
    monkeypatch.setenv("HOTLINE_SMTP_PORT", str(free_port()))  # nobody listens there
    con = db.connect(path)
    ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY call_id LIMIT 3").fetchall()]
    alert_store.insert_alerts(con, [{"alert_id": f"AL-{cid}-khan-cap-tu-khoa", "kind": "urgent", "call_id": cid,
                                     "rule_name": "khan-cap-tu-khoa", "rule_version": 1, "reason": "Khẩn cấp",
                                     "created_at": NOW} for cid in ids])
    assert alerts.send_pending(con, load_settings(), to=["truc-ban@1022.example"]) == []
    errors = [r[0] for r in con.execute("SELECT send_error FROM alerts ORDER BY created_at, alert_id").fetchall()]
    con.close()
    assert len(errors) == 3 and sum(e is not None for e in errors) == 1
    assert "did not take the message" in next(e for e in errors if e)
