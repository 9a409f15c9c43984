"""The QA workspace over HTTP: call page pieces, in-place corrections (JSON, CSRF, audit), the
evaluation form, save and next, search that counts the same in the list and the export."""

from __future__ import annotations

import csv
import io
import re

import duckdb
import pytest

from pipeline.web import qa


def _token(client, call_id: str) -> str:
    return re.search(r'id="csrf" value="([^"]+)"', client.get(f"/calls/{call_id}").text).group(1)


def _post(client, call_id: str, what: str, fields: dict, token: str):
    return client.post(f"/api/calls/{call_id}/{what}", data=fields, headers={"X-CSRF-Token": token})


def _count(db_path, sql: str, params=()) -> int:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


def test_call_page_shows_timeline_figures_reasons_in_vietnamese(client_as, call_ids, web_db):
    from pipeline.i18n import MESSAGES

    qa_client = client_as("qa")
    # A call in the review queue (low confidence) shows why: each stored reason, in Vietnamese,
    # in the paragraph of its kind.
    queue = qa_client.get("/api/calls?queue=1").json()["calls"]
    cid = queue[0]["call_id"]
    html = qa_client.get(f"/calls/{cid}").text
    assert 'class="timeline"' in html and "lane-operator" in html and "lane-citizen" in html
    con = duckdb.connect(str(web_db), read_only=True)
    review, urgency = con.execute("SELECT review_reasons, urgency_reasons FROM calls WHERE call_id = ?", [cid]).fetchone()
    con.close()
    assert review or urgency, "a queued call has a reason"
    for reasons, para, heading in ((review, "review-reasons", "why_review"), (urgency, "urgency-reasons", "why_urgent")):
        shown = re.search(rf'<p class="reasons[^"]*" id="{para}">(.*?)</p>', html)
        if not reasons:
            assert shown is None, f"{para} shown for a call without one"
            continue
        assert shown and MESSAGES[heading]["vi"] in shown.group(1)
        for r in reasons.split(","):
            assert MESSAGES.get(f"reason_{r}", {}).get("vi", r) in shown.group(1), (r, shown.group(1))
    assert 'class="talkbar"' in html and "Tổng đài viên 48%" in html  # 2.0 s of 4.2 s talk
    assert "<details class=\"acoustic\">" in html
    assert re.search(r'<span class="at">0:0\d</span>', html)  # m:ss, not 0:00.0
    assert html.count('class="w') > 10  # timed words for the highlight
    assert "(ward)" not in html and "(phường" in html
    assert "(qa)" not in html and "lan (QA)" in html
    # The hotline's own centre is not listed as a routing target.
    assert "Trung tâm Giám sát điều hành" not in html


def test_search_terms_highlighted_on_call_page_and_list(client_as):
    c = client_as("qa")
    page = c.get("/calls", params={"q": "den duong"}).text
    assert "<mark>Đèn</mark> <mark>đường</mark>" in page
    link = re.search(r'href="(/calls/[0-9a-f]+\?q=den\+duong)"', page).group(1)
    call = c.get(link).text
    assert re.search(r'class="w hit"[^>]*>Đèn<', call) and 'class="hit"' in call and 'id="next-hit"' in call


def test_topic_correction_in_place_and_no_duplicate_audit(client_as, web_db, call_ids):
    c = client_as("qa")
    cid = call_ids[0]
    token = _token(c, cid)
    assert _post(c, cid, "topics", {"topic": "other", "action": "add"}, "wrong").status_code == 403
    r = _post(c, cid, "topics", {"topic": "other", "action": "add"}, token)
    assert r.status_code == 200 and r.json()["ok"] and 'data-topic="other"' in r.json()["facts_html"]
    r2 = _post(c, cid, "topics", {"topic": "other", "action": "add"}, token)
    assert r2.json()["changed"] is False
    assert _count(web_db, "SELECT count(*) FROM topic_corrections WHERE call_id = ?", [cid]) == 1
    # Removing the model's own topic keeps it visible, struck through, with a restore button.
    model_topic = _count(web_db, "SELECT count(*) FROM call_topics WHERE call_id = ? AND source='model' AND assigned", [cid])
    assert model_topic == 1
    con = duckdb.connect(str(web_db), read_only=True)
    topic = con.execute("SELECT topic FROM call_topics WHERE call_id = ? AND source='model' AND assigned", [cid]).fetchone()[0]
    con.close()
    html = _post(c, cid, "topics", {"topic": topic, "action": "remove"}, token).json()["facts_html"]
    assert re.search(rf'<li data-topic="{topic}" class="overridden"><s>', html)
    assert "thêm chủ đề" in html and "bỏ chủ đề" in html  # history in Vietnamese


def test_transcript_correction_audited_redacted_and_searchable(client_as, web_db, call_ids):
    c = client_as("qa")
    cid = call_ids[3]
    token = _token(c, cid)
    r = _post(c, cid, "segments/1", {"text": "Cây đổ chắn đường Hùng Vương, gọi 0905123456"}, token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"].endswith("0905123456")  # QA reads raw text; the redacted copy is what search sees
    assert [w["w"] for w in body["words"]][:3] == ["Cây", "đổ", "chắn"]
    con = duckdb.connect(str(web_db), read_only=True)
    # QA typed the readable text; the normalised text search reads follows it (lower case, numbers in words)
    shown, shown_readable = con.execute("SELECT text, readable FROM segments WHERE call_id = ? AND seq = 1",
                                        [cid]).fetchone()
    assert "không chín không năm" not in shown and "[SĐT]" in shown
    assert "0905123456" not in shown_readable and shown_readable == "Cây đổ chắn đường Hùng Vương, gọi [SĐT]"
    old, new, new_readable = con.execute("SELECT old_value, new_value, new_readable FROM call_edits "
                                         "WHERE call_id = ? AND kind = 'transcript'", [cid]).fetchone()
    raw, raw_readable = con.execute("SELECT text, readable FROM segments_raw WHERE call_id = ? AND seq = 1",
                                    [cid]).fetchone()
    transcript = con.execute("SELECT transcript FROM calls WHERE call_id = ?", [cid]).fetchone()[0]
    con.close()
    assert old and old != new and new == "cây đổ chắn đường hùng vương gọi [SĐT]" and new_readable == shown_readable
    assert raw == "cây đổ chắn đường hùng vương gọi không chín không năm một hai ba bốn năm sáu"
    assert raw_readable == "Cây đổ chắn đường Hùng Vương, gọi 0905123456" and "hùng vương" in transcript
    hits = c.get("/api/calls", params={"q": "hung vuong"}).json()
    assert [h["call_id"] for h in hits["calls"]] == [cid]
    assert "sửa lời câu" in body["facts_html"]
    assert _post(c, cid, "segments/1", {"text": "   "}, token).status_code == 400
    assert _post(c, cid, "segments/99", {"text": "x"}, token).status_code == 400


def test_urgent_roles_places_audited(client_as, web_db, call_ids):
    c = client_as("qa")
    cid = call_ids[1]
    token = _token(c, cid)
    before = _count(web_db, "SELECT count(*) FROM stg_calls WHERE urgent")
    r = _post(c, cid, "urgent", {"urgent": "1"}, token).json()
    was_urgent = r["message"] == "Không có gì thay đổi."
    assert r["urgent"] is True
    assert _count(web_db, "SELECT count(*) FROM stg_calls WHERE urgent") == before + (0 if was_urgent else 1)
    roles = {s: r for s, r in duckdb.connect(str(web_db), read_only=True).execute(
        "SELECT seq, role FROM segments WHERE call_id = ?", [cid]).fetchall()}
    op_talk = _count(web_db, "SELECT value FROM call_metrics WHERE call_id = ? AND scope = 'operator' AND name = 'talk_time_s'", [cid])
    swapped = _post(c, cid, "roles", {}, token).json()["roles"]
    assert all(swapped[str(s)] == {"operator": "citizen", "citizen": "operator"}[r] for s, r in roles.items())
    assert _count(web_db, "SELECT value FROM call_metrics WHERE call_id = ? AND scope = 'citizen' AND name = 'talk_time_s'", [cid]) == op_talk
    assert _post(c, cid, "places", {"action": "add", "name": "Tân Lợi", "kind": "ward"}, token).status_code == 200
    assert _post(c, cid, "places", {"action": "add", "name": "Tân Lợi", "kind": "nowhere"}, token).status_code == 400
    said = duckdb.connect(str(web_db), read_only=True).execute(
        "SELECT name FROM call_places WHERE call_id = ? AND seq = 0", [cid]).fetchone()[0]
    html = _post(c, cid, "places", {"action": "remove", "name": said}, token).json()["facts_html"]
    assert "Tân Lợi" in html and f"{said} <small>" not in html
    kinds = [r[0] for r in duckdb.connect(str(web_db), read_only=True).execute(
        "SELECT kind FROM call_edits WHERE call_id = ? ORDER BY edited_at", [cid]).fetchall()]
    assert kinds[-3:] == ["roles", "place_add", "place_remove"]


def test_evaluation_prefilled_saved_reported(client_as, web_db, call_ids):
    c = client_as("qa")
    cid = call_ids[2]
    html = c.get(f"/calls/{cid}").text
    # "Tổng đài 1022 xin nghe." is a greeting; the fixture's reply names a unit.
    assert re.search(r'name="eval_greeting" value="met" checked', html)
    token = _token(c, cid)
    fields = {"eval_greeting": "met", "eval_courtesy": "not_met", "comment_courtesy": "ngắt lời người dân",
              "eval_next_step": "na"}
    assert _post(c, cid, "evaluation", fields, token).json()["written"] == 3
    assert _post(c, cid, "evaluation", fields, token).json()["written"] == 0  # unchanged: no new rows
    assert _post(c, cid, "evaluation", {"eval_courtesy": "maybe"}, token).status_code == 400
    report = {r["item"]: r for r in c.get("/api/evaluations").json()["items"]}
    assert report["greeting"]["met"] == 1 and report["courtesy"]["not_met"] == 1 and report["next_step"]["na"] == 1
    assert report["courtesy"]["met_share"] == 0.0 and report["address_captured"]["n"] == 0
    assert 'value="ngắt lời người dân"' in c.get(f"/calls/{cid}").text


def test_save_and_next_walks_the_queue_and_qa_lands_on_it(client_as, web_db):
    c = client_as("qa")
    assert c.get("/", follow_redirects=False).headers["location"] == "/calls?queue=1"
    queue = [r["call_id"] for r in c.get("/api/calls?queue=1").json()["calls"]]
    assert len(queue) >= 2
    token = _token(c, queue[0])
    r = _post(c, queue[0], "reviewed", {"reviewed": "1", "next": "1"}, token).json()
    assert r["next_url"] == f"/calls/{queue[1]}" and r["reviewed"] is True
    assert queue[0] not in [x["call_id"] for x in c.get("/api/calls?queue=1").json()["calls"]]


def test_manager_cannot_correct(client_as, call_ids):
    m = client_as("manager")
    html = m.get(f"/calls/{call_ids[0]}").text
    assert 'id="csrf"' not in html and "data-api" not in html
    assert m.post(f"/api/calls/{call_ids[0]}/urgent", data={"urgent": "1"}).status_code == 403


@pytest.mark.parametrize("q", ["đèn đường", "den duong", "rác OR ổ gà", '"đèn đường"', "đường"])
def test_search_count_equals_list_equals_export(client_as, q):
    c = client_as("admin")
    page = c.get("/calls", params={"q": q}).text
    n = int(re.search(r'id="n-results">(\d+)', page).group(1))
    api = c.get("/api/calls", params={"q": q}).json()
    rows = list(csv.reader(io.StringIO(c.get("/export.csv", params={"q": q}).content.decode("utf-8-sig"))))
    assert n == api["total"] == len(rows) - 1 and n > 0
    assert page.count('class="call-row') == min(n, 50)


def test_search_rac_thai_does_not_match_thai(client_as):
    c = client_as("qa")
    assert c.get("/api/calls", params={"q": "rác thải"}).json()["total"] == 0
    assert c.get("/api/calls", params={"q": "đèn đường"}).json()["total"] == 5  # the street-light calls only


def test_favicon_and_error_page_keep_navigation(client_as):
    c = client_as("qa")
    assert c.get("/favicon.ico").status_code == 200
    assert 'rel="icon"' in c.get("/calls").text
    missing = c.get("/calls/doesnotexist")
    assert missing.status_code == 404 and 'href="/calls?queue=1"' in missing.text


def test_helpers():
    assert qa.fmt_num(1234.5, 1, "vi") == "1.234,5" and qa.fmt_num(1234.5, 1, "en") == "1,234.5"
    assert qa.fmt_num(None) == "—"
    words = qa._timed_words("a bb ccc", 1.0, 4.0, [])
    assert [w["w"] for w in words] == ["a", "bb", "ccc"] and words[0]["s"] == 1.0 and abs(words[-1]["e"] - 4.0) < 0.02
    timed = qa._timed_words("một hai", 0.0, 2.0, [(0.1, 0.5, 0.9), (0.6, 1.9, 0.3)])
    assert timed[1] == {"w": "hai", "s": 0.6, "e": 1.9, "p": 0.3}
    tl = qa.timeline([{"seq": 0, "start_s": 0.0, "end_s": 2.0, "role": "operator"},
                      {"seq": 1, "start_s": 1.5, "end_s": 3.0, "role": "citizen"},
                      {"seq": 2, "start_s": 6.0, "end_s": 8.0, "role": "operator"}], 10.0)
    assert [(o["s"], o["e"]) for o in tl["overlaps"]] == [(1.5, 2.0)]
    assert [(s["s"], s["e"]) for s in tl["silences"]] == [(3.0, 6.0), (8.0, 10.0)]


def test_retention_purge_blanks_qa_text(client_as, web_db, call_ids):
    from datetime import datetime

    from pipeline.warehouse import db
    from pipeline.warehouse import purge as retention

    c = client_as("qa")
    cid = call_ids[0]
    token = _token(c, cid)
    assert _post(c, cid, "segments/1", {"text": "Nhà ông Nguyễn Văn Ba ở hẻm 12"}, token).status_code == 200
    assert _post(c, cid, "places", {"action": "add", "name": "Tân Lợi", "kind": "ward"}, token).status_code == 200
    assert _post(c, cid, "evaluation", {"eval_courtesy": "met", "comment_courtesy": "gọi lại cho ông Ba"},
                 token).status_code == 200
    con = db.connect(web_db)
    try:
        retention.purge(con, 0, now=datetime(2030, 1, 1))
        left = con.execute("SELECT count(*) FROM call_edits WHERE coalesce(old_value, new_value, "
                           "CASE WHEN kind LIKE 'place_%' THEN target END) IS NOT NULL").fetchone()[0]
        comments = con.execute("SELECT count(*) FROM call_evaluations WHERE comment IS NOT NULL").fetchone()[0]
        kept = con.execute("SELECT count(*) FROM call_edits WHERE call_id = ?", [cid]).fetchone()[0]
    finally:
        con.close()
    assert left == 0 and comments == 0 and kept == 2  # who changed what, when, stays; the text goes
