"""Issue 29, the rest (ux29): words, not program text, wherever a person reads them. A call loaded without a
call log names its operator in words on the list, the call page and the exports; routing reasons are Vietnamese
on the panel QA's corrections re-render, not only on the whole page; case history notes of any age read as
Vietnamese; the scorecard writes shares like every other page."""

from __future__ import annotations

import re

from pipeline.warehouse import db
from tests.support.web_fixtures import csrf_of

UNKNOWN = "chưa rõ (không có nhật ký cuộc gọi)"


def _no_log(path, call_id: str) -> None:
    con = db.connect(path)
    try:
        con.execute("UPDATE calls SET operator_ext = NULL WHERE call_id = ?", [call_id])
    finally:
        con.close()


def test_a_call_without_a_call_log_names_its_operator_in_words(web_db, call_ids, client_as):
    from pipeline.report import exports, formats
    from pipeline.web import data

    call_id = call_ids[-1]
    _no_log(web_db, call_id)
    qa = client_as("qa")
    page = qa.get(f"/calls/{call_id}").text
    assert f"Tổng đài viên {UNKNOWN}" in page and "Tổng đài viên ?" not in page
    listing = qa.get("/calls").text
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*{call_id}(?:(?!</tr>).)*</tr>', listing, re.S).group()
    assert UNKNOWN in row and ">?<" not in row
    con = db.connect(web_db, read_only=True)
    try:
        rows, _ = data.list_calls(con, data.CallFilters(), limit=1000)
        csv_text = exports.calls_csv(exports.enrich(con, rows)).decode("utf-8")
    finally:
        con.close()
    line = next(x for x in csv_text.splitlines() if call_id in x)
    assert UNKNOWN in line and ",?," not in line
    assert formats.operator("?", "en") == "unknown (no call log)" and formats.operator(" 101 ") == "101"


def test_the_panel_a_correction_re_renders_keeps_routing_reasons_and_actors_in_vietnamese(web_db, call_ids,
                                                                                           client_as):
    call_id = call_ids[0]
    qa = client_as("qa")
    token = csrf_of(qa.get(f"/calls/{call_id}").text)
    j = qa.post(f"/api/calls/{call_id}/topics", data={"topic": "security_order", "action": "add"},
                headers={"X-CSRF-Token": token}).json()
    facts = re.sub(r"<[^>]+>", " ", j["facts_html"])
    reasons = re.findall(r"Lý do:\s*([^\n]*)", facts)
    assert reasons and all(not re.search(r"\b(topic|keyword|any topic|place)\b", r) for r in reasons), reasons
    assert any("chủ đề" in r for r in reasons)
    assert "security_order" not in facts


def test_case_notes_of_any_age_read_as_vietnamese():
    from pipeline.report.formats import case_note

    old = ("topics utilities,traffic → traffic; unit Công ty Điện lực → UBND cấp xã (forward again); "
           "QA topic correction on call 5acc12345678")
    text = case_note(old)
    assert text == ("chủ đề «Điện, nước, chiếu sáng công cộng», «An toàn giao thông, hạ tầng giao thông» → "
                    "«An toàn giao thông, hạ tầng giao thông»; đơn vị Công ty Điện lực → UBND cấp xã (cần chuyển lại); "
                    "QA sửa chủ đề của cuộc gọi 5acc1234")
    assert case_note("same_caller: may be the incident of PA-1") .endswith("có thể cùng vụ việc với phiếu PA-1")
    assert case_note("Đã gọi lại cho người dân") == "Đã gọi lại cho người dân"  # a person's words stay


def test_scorecard_shares_are_written_like_every_other_figure():
    from pipeline.report import scorecard

    assert scorecard.percent(0.5) == "50%" and scorecard.percent(None) == "—"


def test_date_and_time_fields_read_dd_mm_yyyy_and_24_hours_whatever_the_browser(client_as):
    from pathlib import Path

    from tests.helpers import REPO

    for page in Path(REPO, "pipeline/web/templates").glob("*.html"):
        html = page.read_text("utf-8")
        assert not re.search(r'<input[^>]*type="(date|time|datetime-local)"', html), page.name
    manager = client_as("manager")
    for path in ("/scorecard", "/topics/discover"):
        html = manager.get(f"{path}?from=12/10/2026&to=21/11/2026").text
        fields = re.findall(r'<input[^>]*name="(?:from|to)"[^>]*>', html)
        assert len(fields) == 2 and all('placeholder="dd/mm/yyyy"' in f for f in fields), path
        assert 'value="12/10/2026"' in fields[0] and 'value="21/11/2026"' in fields[1], path
    alerts = client_as("qa").get("/alerts").text
    quiet = re.findall(r'<input[^>]*name="quiet_(?:from|to)"[^>]*>', alerts)
    assert len(quiet) == 2 and all('placeholder="hh:mm"' in f and 'type="text"' in f for f in quiet)


def test_the_app_warms_the_similar_calls_library_at_start_in_the_background(web_db, monkeypatch):
    import threading

    from pipeline.warehouse import similar
    from pipeline.web.app import WebOptions, create_app
    from tests.support.web_fixtures import FAST_AUTH

    ran = threading.Event()
    seen = {}

    def warm():
        seen["thread"] = threading.current_thread()
        ran.set()

    monkeypatch.setattr(similar, "warm", warm)
    create_app(web_db, options=WebOptions(auth=FAST_AUTH))
    assert ran.wait(10) and seen["thread"] is not threading.main_thread() and seen["thread"].daemon
    monkeypatch.undo()
    similar.warm()  # the real one runs without a database
