"""Issue 30 #2: alert e-mails through a real SMTP server (aiosmtpd on 127.0.0.1).

``hotline alerts test`` exits 0 only when the server accepted the message; an urgent hit's
alert reaches the server with the reason, topic, ward and a link, and no transcript text,
caller number or name.
"""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as email_policy

import pytest

from pipeline.casework import alerts, categories
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.warehouse import db
from pipeline.warehouse import rules as store
from tests.support.fixture_db import build_fixture_db
from tests.support.smtp import free_port as _free_port
from tests.support.smtp import smtp_server

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

FIRE = "Tôi là Nguyễn Văn Hùng, số [SĐT], nhà bên cạnh ở hẻm 12 đang bị cháy."


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def env(smtp, tmp_path, monkeypatch):
    inbox, port = smtp
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOTLINE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HOTLINE_SMTP_PORT", str(port))
    monkeypatch.setenv("HOTLINE_ALERT_FROM", "hotline@1022.example")
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", "https://1022.example")
    ids = build_fixture_db(tmp_path / "hotline.duckdb", tmp_path / "rec")
    return inbox, port, tmp_path / "hotline.duckdb", ids


def test_alerts_test_exits_0_only_when_the_server_accepted(env, capsys, monkeypatch):
    inbox, port, path, _ = env
    assert main(["alerts", "test", "--to", "truc-ban@1022.example", "--db", str(path)]) == 0
    [(to, raw)] = inbox.messages
    assert to == ["truc-ban@1022.example"]
    msg = message_from_bytes(raw, policy=email_policy)
    assert msg["From"] == "hotline@1022.example" and "thử" in msg["Subject"]
    capsys.readouterr()
    assert main(["alerts", "test", "--to", "ai@refused.example", "--db", str(path)]) != 0
    err = capsys.readouterr().err
    assert "refused" in err and "ai@refused.example" not in err
    assert len(inbox.messages) == 1
    monkeypatch.setenv("HOTLINE_SMTP_PORT", str(_free_port()))     # nobody listens there
    assert main(["alerts", "test", "--to", "truc-ban@1022.example", "--db", str(path)]) != 0
    assert "did not take the message" in capsys.readouterr().err
    monkeypatch.setenv("HOTLINE_SMTP_HOST", "")
    assert main(["alerts", "test", "--to", "truc-ban@1022.example", "--db", str(path)]) != 0
    assert "HOTLINE_SMTP_HOST" in capsys.readouterr().err


def test_an_urgent_hit_is_stored_and_e_mailed_without_personal_data(env, capsys):
    inbox, port, path, ids = env
    con = db.connect(path)
    fire = con.execute("SELECT min(call_id) FROM call_topics WHERE topic = 'environment' AND assigned").fetchone()[0]
    con.execute("UPDATE segments SET text = ? WHERE call_id = ? AND role = 'citizen'", [FIRE, fire])
    caller_hash = con.execute("SELECT caller_hash FROM calls WHERE call_id = ?", [fire]).fetchone()[0]
    assert categories.apply_rules(con).n_new_alerts == 1
    con.close()
    assert main(["alerts", "send", "--to", "truc-ban@1022.example", "--db", str(path)]) == 0
    assert "1 alert(s) sent" in capsys.readouterr().out
    [(to, raw)] = inbox.messages
    msg = message_from_bytes(raw, policy=email_policy)
    body = msg.get_content()
    text = msg["Subject"] + "\n" + body
    assert f"https://1022.example/calls/{fire}" in body
    assert "khan-cap-tu-khoa" in body and "Tân Tiến" in text
    assert "Chủ đề: Môi trường, vệ sinh" in body and "environment" not in body  # the topic's label, not its key
    for secret in ("Nguyễn", "Hùng", "hẻm 12", "[SĐT]", caller_hash, "bên cạnh", "đang bị"):
        assert secret not in text, secret
    con = db.connect(path)
    [alert] = store.alerts(con)
    assert alert["sent_to"] == "truc-ban@1022.example" and alert["sent_at"] is not None
    # sent once: a second send and a second apply send nothing more
    assert alerts.send_pending(con, load_settings()) == []
    assert categories.apply_rules(con).n_new_alerts == 0
    con.close()
    assert len(inbox.messages) == 1
