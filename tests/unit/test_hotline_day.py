"""Issue 29 (a day at the hotline), what is not about how a page looks: start times of calls without a call log
(estimated from the recording, stored with their source, marked on the pages, warned about at the end of a run);
a QA topic correction's preview, its re-derived routing and summary, its Vietnamese audit line and the notice to
the unit that lost the case; Vietnamese 404s, bad dates refused; a reviewed call's reasons; one term; m:ss."""

from __future__ import annotations

import os
import re
from datetime import datetime

import duckdb
import numpy as np
import pytest
import soundfile as sf

from pipeline.intake import start_time
from pipeline.intake.ingest import scan_source
from tests.support.web_fixtures import add_turn_moods, csrf_of


def _wav(path, date_tag: str | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(800, dtype=np.float32), 8000)
    if date_tag is not None:
        with sf.SoundFile(path, "r+") as f:
            f.date = date_tag
    return path


def test_start_time_sources_best_first(tmp_path):
    tagged = _wav(tmp_path / "a.wav", "2026-11-30 08:15:00")
    assert start_time.recording_start(tagged, "a.wav") == (datetime(2026, 11, 30, 8, 15), "metadata")
    name = "in-1022-0905123456-20261129-141005-1764400205.33.wav"
    named = _wav(tmp_path / name)
    assert start_time.recording_start(named, name) == (datetime(2026, 11, 29, 14, 10, 5), "file_name")
    bare = _wav(tmp_path / "b.wav", "1904-01-01")  # a recorder's unset clock is no start time
    os.utime(bare, (1764500000, 1764500000))
    assert start_time.recording_start(bare, "b.wav") == (datetime.fromtimestamp(1764500000), "file_time")
    assert start_time.parse_tag_date("20261130") == datetime(2026, 11, 30)
    assert start_time.parse_tag_date("not a date") is None


def test_scan_without_call_log_estimates_and_the_load_stores_the_source(tmp_path):
    from pipeline.warehouse import load

    _wav(tmp_path / "src" / "2026/11/29/in-1022-0905123456-20261129-141005-1764400205.33.wav")
    scan = scan_source(tmp_path / "src", salt="s")
    (rec,) = scan.recordings
    assert rec.log is None and rec.estimated_start == datetime(2026, 11, 29, 14, 10, 5) and rec.start_source == "file_name"
    row = load._recording_columns(rec)
    assert row["started_at"] == datetime(2026, 11, 29, 14, 10, 5) and row["started_at_source"] == "file_name"


def test_end_of_run_warns_loudly_about_calls_without_a_log_row(web_db, call_ids, capsys):
    from pipeline.commands.run import warn_no_call_log
    from pipeline.warehouse.calls import without_call_log

    con = duckdb.connect(str(web_db))
    con.execute("UPDATE calls SET pbx_call_id = NULL, caller_hash = NULL, started_at_source = 'file_time' "
                "WHERE call_id IN (SELECT unnest(?))", [call_ids[:3]])
    missing = without_call_log(con, call_ids)
    con.close()
    assert sorted(c for c, _ in missing) == sorted(call_ids[:3])
    warn_no_call_log(missing)
    err = capsys.readouterr().err
    assert "WARNING: 3 call(s) had no call-log row" in err and "file_time=3" in err and "ESTIMATED" in err
    warn_no_call_log([])
    assert capsys.readouterr().err == ""


def test_pages_mark_an_estimated_start_time(web_db, call_ids, client_as):
    con = duckdb.connect(str(web_db))
    con.execute("UPDATE calls SET started_at_source = 'file_name' WHERE call_id = ?", [call_ids[-1]])
    con.close()
    qa = client_as("qa")
    page = qa.get(f"/calls/{call_ids[-1]}").text
    assert 'id="start-estimated"' in page and "ước tính" in page and "tên tệp ghi âm" in page
    assert 'id="start-estimated"' not in qa.get(f"/calls/{call_ids[0]}").text  # a call-log time is not an estimate
    listing = qa.get("/calls").text
    assert listing.count('class="estimated"') == 1


def _case_call(client, unit: str | None = None, topic: str | None = None) -> tuple[str, dict]:
    rows = client("lan").get("/api/cases?status=all").json()["cases"]
    case = next(r for r in rows if r["kind"] == "complaint" and (unit is None or r["unit"] == unit)
                and (topic is None or r["topic"] == topic))
    return case["case_id"].removeprefix("PA-"), case


HOA_THANG = "UBND xã Hòa Thắng"  # the unit of the fixture's land case


class TestTopicCorrection:
    @pytest.fixture
    def web_db(self, cases_db):
        """The cases warehouse plus a member of the land case's unit (before the app starts)."""
        from pipeline.casework import cases
        from pipeline.warehouse import db
        from pipeline.web.auth import add_user
        from tests.support.web_fixtures import FAST_AUTH

        con = db.connect(cases_db)
        add_user(con, "hoathang", "unit", "mat-khau-dv-3", FAST_AUTH)
        cases.set_user_unit(con, "hoathang", HOA_THANG)
        con.close()
        return cases_db

    def test_preview_says_where_the_case_goes_and_saves_nothing(self, client_named):
        qa = client_named("lan")
        call_id, case = _case_call(client_named, topic="land")
        token = csrf_of(qa.get(f"/calls/{call_id}").text)
        p = qa.post(f"/api/calls/{call_id}/topics/preview", data={"topic": "security_order", "action": "add"},
                    headers={"X-CSRF-Token": token}).json()
        assert p["moves"] and p["message"] == (f"Phiếu {case['case_id']} sẽ chuyển từ “{case['unit']}” sang "
                                              f"“{p['unit_after']}”.") and p["unit_after"] != case["unit"]
        after = qa.get(f"/api/cases/{case['case_id']}").json()
        assert after["unit"] == case["unit"] and after["topic"] == case["topic"] == "land"  # rolled back
        assert "security_order" not in [t["topic"] for t in qa.get(f"/api/calls/{call_id}").json()["topics"]]
        same = qa.post(f"/api/calls/{call_id}/topics/preview", data={"topic": "land", "action": "add"},
                       headers={"X-CSRF-Token": token}).json()
        assert same == {"moves": False}  # it has that topic already
        assert qa.post(f"/api/calls/{call_id}/topics/preview", data={"topic": "security_order", "action": "add"}
                       ).status_code == 403  # no CSRF token

    def test_saved_correction_updates_routing_summary_and_tells_the_unit(self, client_named, app):
        from fastapi.testclient import TestClient

        from tests.support.web_fixtures import log_in

        qa = client_named("lan")
        call_id, case = _case_call(client_named, topic="land")
        assert case["unit"] == HOA_THANG
        unit = TestClient(app)
        assert log_in(unit, "hoathang", "mat-khau-dv-3").status_code == 303
        assert case["case_id"] in unit.get("/cases").text and 'id="moved-away"' not in unit.get("/cases").text
        token = csrf_of(qa.get(f"/calls/{call_id}").text)
        j = qa.post(f"/api/calls/{call_id}/topics", data={"topic": "security_order", "action": "add"},
                    headers={"X-CSRF-Token": token}).json()
        new_unit = qa.get(f"/api/cases/{case['case_id']}").json()["unit"]
        assert new_unit != case["unit"]
        assert j["message"] == f"Đã lưu. Phiếu {case['case_id']} đã chuyển sang “{new_unit}”."
        assert f"<b>{new_unit}</b>" in j["facts_html"] and "an ninh trật tự" in j["summary"]
        page = qa.get(f"/calls/{call_id}").text
        assert re.search(r'id="call-case-unit">[^\n]*' + re.escape(new_unit), page)
        routes = qa.get(f"/api/calls/{call_id}").json()["routes"]
        assert routes[0]["agency_vi"] == new_unit  # the call's own routing follows the topics QA left
        assert "an ninh trật tự" in re.search(r'id="summary".*', page).group()
        note = [e for e in qa.get(f"/api/cases/{case['case_id']}").json()["events"] if e["action"] == "rerouted"][-1]["note"]
        assert note.startswith("Chủ đề: ") and "An ninh trật tự" in note and "security_order" not in note
        assert "QA topic correction" not in note and "do QA sửa chủ đề cuộc gọi" in note
        unit_page = unit.get("/cases").text
        assert 'id="moved-away"' in unit_page and "Phiếu đã được chuyển sang đơn vị khác" in unit_page
        assert case["case_id"] in unit_page and new_unit not in unit_page
        assert 'id="moved-away"' not in client_named("tanlap").get("/cases").text


def test_unknown_urls_and_bad_dates_answer_in_vietnamese(client_as):
    qa = client_as("qa")
    page = qa.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy trang này" in page.text and 'id="back-home"' in page.text
    api = qa.get("/api/no/such")
    assert api.status_code == 404 and api.json() == {"detail": "Không tìm thấy trang này. Địa chỉ có thể đã gõ sai "
                                                                "hoặc trang không còn nữa."}
    bad = qa.get("/calls?from=2026-13-01")
    assert bad.status_code == 400 and "Ngày không hợp lệ ở “Từ ngày”: 2026-13-01" in bad.text
    assert client_as("manager").get("/dashboard?to=2026-02-30").status_code == 400
    assert qa.get("/calls?from=2026-11-01").status_code == 200 and qa.get("/calls?from=").status_code == 200


def test_a_reviewed_call_no_longer_shows_why_it_needed_review(web_db, call_ids, client_as):
    con = duckdb.connect(str(web_db))
    cid = con.execute("SELECT call_id FROM calls WHERE review_reasons IS NOT NULL LIMIT 1").fetchone()[0]
    con.close()
    qa = client_as("qa")
    assert 'id="review-reasons"' in qa.get(f"/calls/{cid}").text
    token = csrf_of(qa.get(f"/calls/{cid}").text)
    assert qa.post(f"/api/calls/{cid}/reviewed", data={"reviewed": "1"}, headers={"X-CSRF-Token": token}).json()["reviewed"]
    assert 'id="review-reasons"' not in qa.get(f"/calls/{cid}").text


def test_sentiment_is_a_labelled_chip_not_words_of_the_transcript(web_db, call_ids, client_as):
    n = add_turn_moods(web_db, call_ids[0])
    page = client_as("qa").get(f"/calls/{call_ids[0]}").text
    chips = re.findall(r'<span class="mood mood-(\w+)" role="img" aria-label="([^"]+)"[^>]*></span>', page)
    assert chips and all(label.startswith("Cảm xúc câu này (máy đánh giá): ") for _, label in chips)
    assert ">bình tĩnh<" not in page and ">giận dữ<" not in page  # never text inside the sentence
    assert page.count('class="mbar mood-') == n > 0 and 'id="mood-trend"' in page


def test_one_term_for_the_operator_in_vietnamese():
    from pipeline.i18n import MESSAGES

    vi = [m["vi"] for m in MESSAGES.values() if "vi" in m]
    assert not [v for v in vi if "điện thoại viên" in v.lower() or re.search(r"\bĐTV\b", v)]
    assert sum("tổng đài viên" in v.lower() for v in vi) > 10


def test_operators_page_writes_durations_as_a_clock(client_as):
    page = client_as("admin").get("/operators").text
    table = re.search(r'<table id="op-calls">.*?</table>', page, re.S).group()
    cells = re.findall(r'<td class="num">([^<]*)</td>', table)
    assert cells and all(re.fullmatch(r"\d+:\d\d|—", c) for c in cells), cells[:5]
    assert not re.search(r"\d s</td>", table)
