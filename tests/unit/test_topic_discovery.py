"""Issue 31: new topics found in the calls the model could not place, and the managers' page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from models.topic_training import CORPUS_PATH, read_topic_tsv
from pipeline.analysis.topic_discovery import discover, in_pool, rule_condition
from pipeline.warehouse import db
from tests.support.web_fixtures import csrf_of

NEW_FEE = [
    "tổ trưởng đi thu mỗi nhà năm mươi nghìn tiền gắn biển số nhà mã QR",
    "phường bắt gắn biển số nhà mã QR mới mà thu tiền bảy chục nghìn",
    "cái biển số nhà có mã QR bắt buộc hay không mà thu tiền không có biên lai",
    "người ta tới thu tiền làm biển số nhà QR sáu mươi nghìn một cái",
    "tiền biển số nhà mã QR đóng rồi mà chưa thấy ai tới gắn",
    "biển số nhà QR in sai số nhà mà vẫn thu tiền",
]


@dataclass(frozen=True)
class S:
    topic: str
    score: float
    assigned: bool


def test_a_call_joins_the_pool_when_tagged_other_or_unsure():
    assert in_pool([S("other", 0.7, True), S("land", 0.2, False)])
    assert in_pool([S("land", 0.3, True), S("other", 0.1, False)])  # assigned, but weak
    assert not in_pool([S("land", 0.8, True), S("other", 0.1, False)])


def test_a_recurring_new_issue_is_one_cluster_with_its_key_words():
    background = [t for t, labels in read_topic_tsv(CORPUS_PATH) if labels == ("other",)]  # wrong numbers, apps, chat
    texts = background + NEW_FEE
    planted = set(range(len(background), len(texts)))
    clusters = discover(texts)
    best = max(clusters, key=lambda c: len(planted & set(c.members)))
    assert len(planted & set(best.members)) >= 5 and len(planted & set(best.members)) >= 0.8 * best.size
    assert any("biển số" in w or "qr" in w.lower() for w in best.key_words)
    phrases = rule_condition(best)["said"]["phrases"]
    assert phrases and all(p in best.key_words for p in phrases)


def test_too_few_texts_give_no_cluster():
    assert discover(NEW_FEE[:2]) == []


@pytest.fixture
def web_db(cases_db):
    """The cases warehouse plus six recent calls about a new fee that the model tagged "other"."""
    con = db.connect(cases_db, create=False)
    now = datetime.now().replace(microsecond=0)
    for i, text in enumerate(NEW_FEE):
        cid = f"new-fee-{i}"
        con.execute("INSERT INTO calls (call_id, recording_sha256, status, started_at) VALUES (?, ?, 'done', ?)",
                    [cid, f"newfee{i}", now - timedelta(days=1, minutes=i)])
        con.execute("INSERT INTO segments (call_id, seq, start_s, end_s, role, text) VALUES (?, 0, 0, 4, 'citizen', ?)",
                    [cid, text])
        con.execute("INSERT INTO call_topics VALUES (?, 'other', 0.8, 'model', true), (?, 'land', 0.1, 'model', false)",
                    [cid, cid])
    con.close()
    return cases_db


def test_managers_see_the_new_issue_and_make_it_a_rule_units_and_qa_never(client_named, web_db):
    manager = client_named("minh")
    page = manager.get("/topics/discover")
    assert page.status_code == 200
    assert "biển số" in page.text and 'id="td-counts"' in page.text
    assert "/calls/new-fee-" in page.text
    condition = json.dumps({"said": {"by": "citizen", "phrases": ["biển số nhà", "mã qr"]}}, ensure_ascii=False)
    done = manager.post("/topics/discover/rule", data={"name": "moi-bien-so", "title": "Thu tiền biển số nhà QR",
                                                       "condition": condition, "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert done.status_code == 303 and "saved=" in done.headers["location"]
    con = db.connect(web_db, read_only=True)
    assert con.execute("SELECT saved_by FROM rule_versions WHERE name = 'moi-bien-so'").fetchall() == [("minh",)]
    con.close()
    assert client_named("an").get("/topics/discover").status_code == 200  # admin
    assert client_named("lan").get("/topics/discover").status_code == 403  # QA
    unit = client_named("tantien")
    assert unit.get("/topics/discover", follow_redirects=False).status_code in (302, 303, 403)
    assert "biển số" not in unit.get("/topics/discover").text
    refused = unit.post("/topics/discover/rule", data={"name": "x", "title": "x", "condition": condition},
                        follow_redirects=False)
    assert refused.status_code in (302, 303, 403)
