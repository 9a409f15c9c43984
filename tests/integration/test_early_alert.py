"""Issue 30 #3: the watcher's early urgent pass e-mails an urgent call's alert before the full run, once.

The watch loop (:func:`pipeline.runs.watch.watch`) over a local folder with two real recordings,
a real SMTP server (aiosmtpd) receiving, the early pass (:func:`pipeline.runs.early.early_pass`)
with the real Whisper base recogniser. The urgent rule is made from a word the recogniser heard
in one recording and not in the other (so nothing here depends on what exactly it hears on this
CPU). The full run is the real run book storing each call (load, tag by the rules, dispatch); its
stages are replaced by the text the early pass heard, so the full run matches the rule too and
only the dedupe stands between it and a second alert.
"""

from __future__ import annotations

import json
import shutil
from email import message_from_bytes
from email.policy import default as email_policy

import pytest

from pipeline.analysis.rules import Rule
from pipeline.casework import categories
from pipeline.config import load_settings
from pipeline.intake import ingest, sources
from pipeline.records import SAMPLE_RATE
from pipeline.runs import watch as loop
from pipeline.runs.book import CallOutcome, RunBook
from pipeline.runs.early import early_pass
from pipeline.salt import caller_salt
from pipeline.stages.audio import decode_audio
from pipeline.stages.early import listen_early
from pipeline.textnorm import normalize_text
from pipeline.warehouse import db
from tests.helpers import REPO
from tests.support.call_results import call_result
from tests.support.smtp import smtp_server

pytest.importorskip("aiosmtpd.controller")

URGENT, CALM = "urgent.wav", "calm.wav"
SOURCES = {URGENT: REPO / "tests" / "data" / "short_vi.wav", CALM: REPO / "tests" / "data" / "short_stereo.wav"}


def _heard(asr, path) -> str:
    audio = decode_audio(path)
    *_, last = listen_early(audio, asr)
    return " ".join(text for _, _, _, text in last.turns)


@pytest.fixture
def watched(tmp_path, asr, model_cache):
    heard = {name: _heard(asr, path) for name, path in SOURCES.items()}
    calm_words = set(normalize_text(heard[CALM]).split())
    words = [w for w in normalize_text(heard[URGENT]).split() if len(w) > 1 and w not in calm_words]
    assert words, f"the recogniser heard no word of its own in {URGENT}: {heard!r}"
    folder = tmp_path / "pbx"
    folder.mkdir()
    for name, path in SOURCES.items():
        shutil.copyfile(path, folder / name)
    return folder, heard, max(words, key=len)


def test_an_urgent_call_is_e_mailed_once_by_the_early_pass_and_a_calm_one_not_at_all(watched, asr, tmp_path):
    folder, heard, word = watched
    with smtp_server() as (inbox, port):
        settings = load_settings(home=tmp_path / "home", db_path=tmp_path / "home" / "hotline.duckdb",
                                 smtp_host="127.0.0.1", smtp_port=port, alert_to=("truc-ban@1022.example",),
                                 alert_from="hotline@1022.example", public_url="https://1022.example")
        con = db.connect(settings.database)
        categories.save_rule(con, Rule("khan-cap-thu", "Khẩn cấp (thử)", {"said": {"by": "citizen", "phrases": [word]}},
                                       urgent=True), "test")
        con.close()
        key = caller_salt(settings)
        outcomes, mails_before_full_run = [], []

        def early(root, keys):
            outcomes.extend(early_pass(root, keys, key=key, settings=settings, asr=asr))

        def run(root, keys, call_log):  # the full run: the real run book, the calls as the early pass heard them
            mails_before_full_run.append(len(inbox.messages))
            with RunBook(settings, create=True) as book:
                todo = book.plan(root, ingest.scan_source(root, salt=key, only_keys=keys))
                book.process(todo, lambda rec: CallOutcome(rec, result=call_result(
                    rec.sha256, heard[rec.relpath], topic="security_order", start_s=1.0)))
            return book.summary

        processed = loop.watch(lambda: sources.open_source(folder, settings), sources.staging_dir(folder, settings),
                               key=key, run=run, interval_s=0.05, max_polls=3, settings=settings, early=early)

    assert processed == 2
    by_file = {o.call_id: o for o in outcomes}
    urgent_id = ingest.hash_file(folder / URGENT)[:16]
    calm_id = ingest.hash_file(folder / CALM)[:16]
    assert by_file[urgent_id].new_alerts == 1 and by_file[calm_id].new_alerts == 0
    assert 0 < by_file[urgent_id].heard_s <= len(decode_audio(folder / URGENT).samples[0]) / SAMPLE_RATE + 0.01
    assert mails_before_full_run == [1]  # the alert left before the full run started
    con = db.connect(settings.database, read_only=True)
    alerts = con.execute("SELECT call_id, rule_name, trigger, sent_at, topic FROM alerts").fetchall()
    hits = con.execute("SELECT call_id FROM rule_hits WHERE rule_name = 'khan-cap-thu'").fetchall()
    con.close()
    assert hits == [(urgent_id,)]  # the full run matched the rule as well ...
    [(call_id, rule, trigger, sent_at, topic)] = alerts  # ... and stored no second alert
    assert (call_id, rule) == (urgent_id, "khan-cap-thu") and sent_at is not None
    assert json.loads(trigger)["pass"] == "early" and topic == "security_order"  # the full run filled the topic
    [(to, raw)] = inbox.messages  # one e-mail, none for the calm call
    assert to == ["truc-ban@1022.example"]
    msg = message_from_bytes(raw, policy=email_policy)
    text = msg["Subject"] + "\n" + msg.get_body(("plain",)).get_content()
    assert f"https://1022.example/calls/{urgent_id}" in text
    assert normalize_text(heard[URGENT]) not in normalize_text(text)  # what was said never goes into the e-mail
