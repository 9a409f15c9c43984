"""Issue 29 in a real browser, as each role sees it: search keeps an unmarked syllable exact and finds the routed
unit; a closed case's form selects nothing and a reopen needs confirmation, then says what changed; a unit sees
why a "Mới" case has no action and reads the call's summary; the evaluation scorecard and its drill-down from
the dashboard; admins manage accounts; a second QA reviewer sees who is reviewing a call. Every page is shot at
1366 and 390 px (``HOTLINE_SCREENSHOTS``)."""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb
import pytest

from pipeline.casework import cases
from pipeline.warehouse import qa_workspace as ws
from pipeline.warehouse.eval_data import insert_rows
from pipeline.web.auth import add_user
from tests.support.browser import SHOTS, SIZES, no_sideways_scroll
from tests.support.web_fixtures import FAST_AUTH, PASSWORDS, UNIT_USERS, prepare_cases

STORIES = {
    "police": "Có người lạ đột nhập nhà, nhờ công an phường đến ngay.",
    "food": "Quán ăn gần công viên bán đồ ăn ôi thiu, cả nhà bị đau bụng.",
}


@pytest.fixture
def web_db(_template_db, tmp_path):
    path = tmp_path / "hotline.duckdb"
    shutil.copyfile(_template_db[0], path)
    prepare_cases(path)
    con = duckdb.connect(str(path))
    try:
        calls, segs = [], []
        for key, text in STORIES.items():
            cid = f"zz{key}00000000"
            calls.append({"call_id": cid, "recording_sha256": cid * 4, "status": "done", "duration_s": 5.0,
                          "started_at": datetime(2026, 11, 20, 10), "transcript": text, "operator_ext": "101"})
            segs.append({"call_id": cid, "seq": 0, "start_s": 0.0, "end_s": 5.0, "role": "citizen", "text": text,
                         "confidence": 0.9})
        insert_rows(con, "calls", calls)
        insert_rows(con, "segments", segs)
        insert_rows(con, "call_routes", [{"call_id": "zzfood00000000", "seq": 0, "agency": "food",
                                          "agency_vi": "Chi cục Vệ sinh thực phẩm tỉnh Đắk Lắk", "reason": "t"}])
        # The summary of one Tân Tiến call: what its case's unit reads as "Nội dung".
        cid, call_id = con.execute("SELECT k.case_id, cc.call_id FROM cases k JOIN case_calls cc USING (case_id) "
                                   "WHERE k.unit = 'UBND phường Tân Tiến' AND k.status = 'new' "
                                   "ORDER BY k.case_id LIMIT 1").fetchone()
        con.execute("UPDATE calls SET summary = 'Phản ánh rác thải tại phường Tân Tiến.' WHERE call_id = ?", [call_id])
        con.execute("DELETE FROM case_events WHERE case_id = ?", [cid])
        con.execute("DELETE FROM case_merge_proposals WHERE case_id = ? OR into_case_id = ?", [cid, cid])
        con.execute("DELETE FROM case_calls WHERE case_id = ?", [cid])
        con.execute("DELETE FROM cases WHERE case_id = ?", [cid])
        cases.build_cases(con, [call_id])
        con.execute("UPDATE cases SET unit = 'UBND phường Tân Tiến' WHERE case_id = ?", [cid])
        # Evaluations of two operators' calls.
        rows = con.execute("SELECT call_id, operator_ext FROM stg_calls WHERE call_id NOT LIKE 'zz%' "
                           "ORDER BY started_at LIMIT 6").fetchall()
        at = datetime(2026, 11, 28, 9)
        ws.insert_evaluation_rows(con, [(c, item, "not_met" if i % 3 == 0 and item == "greeting" else "met", None,
                                         "lan", at) for i, (c, _) in enumerate(rows)
                                        for item in ("greeting", "next_step", "courtesy")])
        add_user(con, "hoa", "qa", "mat-khau-qa-2", FAST_AUTH)
    finally:
        con.close()
    return path


PASS = {**{k: v[1] for k, v in PASSWORDS.items()}, **{k: v[1] for k, v in UNIT_USERS.items()}, "hoa": "mat-khau-qa-2"}


def _page(browser, server, name, size="laptop"):
    w, h = SIZES[size]
    page = browser.new_context(viewport={"width": w, "height": h}, locale="vi-VN").new_page()
    page.set_default_timeout(120_000)  # the first call page loads its models; a shared 2-core machine is slow
    page.goto(f"{server}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASS[name])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.screenshot(path=str(SHOTS / f"{name}-{w}.png"), full_page=True)
    page.set_viewport_size({"width": SIZES["laptop"][0], "height": SIZES["laptop"][1]})


def test_search_keeps_unmarked_syllables_exact_and_finds_routed_unit(server, browser):
    page = _page(browser, server, "lan")
    page.goto(f"{server}/calls?q=công+an")
    rows = page.locator("tr.call-row")
    texts = " ".join(rows.all_inner_texts())
    assert "công an phường" in texts and "Quán ăn" not in texts  # "an" is not "ăn"
    _shoot(page, "search-cong-an")
    page.goto(f"{server}/calls?q=cong+an")  # typed without marks: any accents
    assert "Quán ăn" in " ".join(page.locator("tr.call-row").all_inner_texts())
    page.goto(f"{server}/calls?q=Chi+cục+thực+phẩm")  # the routed unit's name
    assert page.locator("tr.call-row").count() == 1
    # The match is in the routed unit, not the transcript: the row shows the unit, marked.
    assert page.locator("tr.call-row mark").count() >= 3
    assert "Chi cục Vệ sinh thực phẩm" in page.locator("tr.call-row").inner_text()
    _shoot(page, "search-routed-unit")


def _closed_case(server_db) -> str:
    con = duckdb.connect(str(server_db))
    try:
        cid = con.execute("SELECT case_id FROM cases WHERE kind = 'complaint' AND unit = 'UBND phường Tân Lập' "
                          "ORDER BY case_id LIMIT 1").fetchone()[0]
        qa, unit = cases.Actor("lan", "qa"), cases.Actor("tanlap", "unit", unit="UBND phường Tân Lập")
        for to, who, kw in (("forwarded", qa, {}), ("in_progress", unit, {}),
                            ("resolved", unit, {"result": "Đã xử lý xong"}), ("informed", qa, {}), ("closed", qa, {})):
            cases.transition(con, cid, to, who, **kw)
    finally:
        con.close()
    return cid


def test_closed_case_needs_a_confirmed_reopen_and_says_what_changed(server, browser, web_db):
    cid = _closed_case(web_db)
    page = _page(browser, server, "lan")
    page.goto(f"{server}/cases/{cid}")
    select = page.locator("#case-action select[name=to]")
    assert select.input_value() == ""  # nothing pre-selected: one click does not reopen
    assert "Mở lại phiếu" in select.inner_text()
    _shoot(page, "case-closed-form")
    page.click("#case-action button[type=submit]")  # the browser refuses the empty required choice
    assert page.locator("#case-status").get_attribute("data-status") == "closed"
    select.select_option("in_progress")
    page.click("#case-action button[type=submit]")
    page.wait_for_selector("p.error")
    assert page.locator("#case-status").get_attribute("data-status") == "closed"
    assert "cần xác nhận" in page.locator("p.error").inner_text()
    _shoot(page, "case-reopen-needs-confirmation")
    page.locator("#case-action select[name=to]").select_option("in_progress")
    page.check("#case-confirm-reopen input")
    page.click("#case-action button[type=submit]")
    page.wait_for_selector("#case-ok")
    assert page.locator("#case-status").get_attribute("data-status") == "in_progress"
    assert "từ «Đã đóng» sang «Đang xử lý»" in page.locator("#case-ok").inner_text()
    _shoot(page, "case-reopened-message")


def test_unit_sees_why_a_new_case_waits_and_reads_the_summary(server, browser):
    page = _page(browser, server, "tantien")
    page.goto(f"{server}/cases?status=all")
    assert "chưa chuyển cho đơn vị" in page.locator("#cases").inner_text()
    _shoot(page, "unit-case-list")
    page.goto(f"{server}/cases?status=all")
    row = page.locator("tr.case-row", has_text="Phản ánh rác thải tại phường Tân Tiến.").first
    row.locator("a").first.click()
    page.wait_for_selector("#case-summary")
    assert page.locator("#case-summary").inner_text() == "Phản ánh rác thải tại phường Tân Tiến."
    assert page.locator("#case-action").count() == 0
    assert "tổng đài chưa chuyển phiếu này" in page.locator("#case-unit-wait").inner_text()
    _shoot(page, "unit-new-case")
    for size in ("laptop", "phone"):
        page.set_viewport_size({"width": SIZES[size][0], "height": SIZES[size][1]})
        no_sideways_scroll(page)


def test_scorecard_from_the_dashboard_with_drill_down(server, browser):
    page = _page(browser, server, "minh")
    page.goto(f"{server}/dashboard")
    assert page.locator("#corrections-count").count() == 1
    _shoot(page, "dashboard-scorecard-link")
    page.click("#scorecard-link")
    page.wait_for_selector("#scorecard")
    assert "Chào hỏi đúng mẫu" in page.locator("#scorecard thead").inner_text()
    _shoot(page, "scorecard")
    page.locator("#scorecard a.sc-bad").first.click()
    page.wait_for_selector("#scorecard-calls")
    answers = page.locator("#scorecard-calls tbody tr").all_inner_texts()
    assert answers and all("Không đạt" in a for a in answers)
    _shoot(page, "scorecard-drill-down")


def test_admin_manages_accounts(server, browser):
    page = _page(browser, server, "an")
    page.click("nav a[href='/admin/users']")
    page.wait_for_selector("#accounts")
    assert "UBND phường Tân Tiến" in page.locator("tr[data-user=tantien]").inner_text()
    _shoot(page, "accounts")
    page.fill("#acc-create input[name=name]", "tanlap2")
    page.select_option("#acc-create select[name=role]", "unit")
    page.fill("#acc-create input[name=unit]", "UBND phuong Tan Lap")
    page.fill("#acc-create input[name=password]", "mat-khau-tl-22")
    page.click("#acc-create button[type=submit]")
    page.wait_for_selector("#acc-error")
    assert "UBND phường Tân Lập" in page.locator("#acc-error").inner_text()
    _shoot(page, "accounts-unknown-unit")
    page.fill("#acc-create input[name=name]", "tanlap2")
    page.select_option("#acc-create select[name=role]", "unit")
    page.fill("#acc-create input[name=unit]", "UBND phường Tân Lập")
    page.fill("#acc-create input[name=password]", "mat-khau-tl-22")
    page.click("#acc-create button[type=submit]")
    page.wait_for_selector("#acc-ok")
    assert "Đã tạo tài khoản tanlap2." in page.locator("#acc-ok").inner_text()
    assert "tạo tài khoản" in page.locator("#acc-history").inner_text()
    page.locator("tr[data-user=tanlap2] summary").click()
    _shoot(page, "accounts-created")


def test_second_reviewer_sees_who_is_reviewing(server, browser, web_db):
    con = duckdb.connect(str(web_db))
    try:
        call_id = con.execute("SELECT call_id FROM mart_review_queue ORDER BY priority LIMIT 1").fetchone()[0]
    finally:
        con.close()
    lan = _page(browser, server, "lan")
    lan.goto(f"{server}/calls/{call_id}")
    assert lan.locator("#claimed-by").count() == 0
    hoa = _page(browser, server, "hoa")
    hoa.goto(f"{server}/calls?queue=1")
    assert "khẩn cấp trước" in hoa.locator("#queue-order").inner_text()
    assert hoa.locator("[data-claimed-by=lan]").count() == 1
    _shoot(hoa, "queue-claimed")
    hoa.goto(f"{server}/calls/{call_id}")
    assert "đang được lan xem" in hoa.locator("#claimed-by").inner_text()
    _shoot(hoa, "call-claimed")
