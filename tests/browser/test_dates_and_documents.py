"""Issue 29 in a real browser: date fields read and take dd/mm/yyyy whatever the browser's language, the
documents download as .docx, and the case history reads as words (no "pipeline", "result:", "None →")."""

from __future__ import annotations

from pipeline.casework import cases
from pipeline.warehouse import db
from tests.support.browser import SHOTS, SIZES, log_in, no_sideways_scroll
from tests.support.web_fixtures import prepare_cases

def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_date_fields_are_dd_mm_yyyy_in_an_english_browser(server, browser):
    for size, (w, h) in SIZES.items():
        page = browser.new_page(viewport={"width": w, "height": h}, locale="en-US")
        log_in(page, server, "minh", next_path="/dashboard")
        page.goto(f"{server}/dashboard?from=2026-10-19&to=2026-11-01")
        start = page.locator("input[name=from]")
        assert start.get_attribute("type") == "text" and start.input_value() == "19/10/2026"
        assert page.locator("input[type=date]").count() == 0
        start.fill("05/10/2026")
        page.locator("input[name=to]").fill("18/10/2026")
        page.locator("input[name=to]").press("Enter")
        page.wait_for_load_state()
        assert "from=05%2F10%2F2026" in page.url and page.locator("input[name=from]").input_value() == "05/10/2026"
        assert page.locator("input[name=to]").input_value() == "18/10/2026"
        # A month-first or ISO date is not a dd/mm/yyyy date: the browser refuses to send the form.
        page.locator("input[name=from]").fill("2026-10-05")
        assert page.evaluate("document.querySelector('input[name=from]').checkValidity()") is False
        page.locator("input[name=from]").fill("05/10/2026")
        assert page.locator("#report-docx").is_visible()
        no_sideways_scroll(page)
        _shot(page, f"dashboard-{size}")
        page.close()


def test_case_report_downloads_as_docx_and_history_reads_as_words(server, browser, web_db):
    prepare_cases(web_db)
    con = db.connect(web_db)
    try:
        admin = cases.Actor("an", "admin")
        c = next(r for r in cases.list_cases(con, admin, status="all") if r["kind"] == "complaint" and r["unit"])
        for to in ("forwarded", "in_progress"):
            cases.transition(con, c["case_id"], to, admin)
        cases.transition(con, c["case_id"], "resolved", admin, result="Đã thu gom rác")
    finally:
        con.close()
    for size, (w, h) in SIZES.items():
        page = browser.new_page(viewport={"width": w, "height": h}, locale="en-US", accept_downloads=True)
        log_in(page, server, "minh", next_path="/cases/report")
        page.goto(f"{server}/cases/report")
        with page.expect_download() as dl:
            page.locator("#case-report-docx").click()
        assert dl.value.suggested_filename.endswith(".docx")
        assert page.locator("input[name=week]").get_attribute("placeholder") == "dd/mm/yyyy"
        _shot(page, f"case-report-{size}")
        page.goto(f"{server}/cases/{c['case_id']}")
        history = page.locator("#case-history").inner_text()
        assert "Hệ thống" in history and "kết quả: Đã thu gom rác" in history and "từ cuộc gọi" in history
        assert "pipeline" not in history and "result:" not in history and "None" not in history
        _shot(page, f"case-{size}")
        page.close()
