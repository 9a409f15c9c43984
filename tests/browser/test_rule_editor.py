"""The rule editor in Debian's chromium at 1366 and 390 px (issue 30 #1): a manager builds a rule in
Vietnamese (a phrase without diacritics said by the citizen AND a ward), previews its matches on the
last calls, saves it, and a call loaded after saving is tagged (list filter and call page, with the
moment on the timeline); back-applying tags the older calls too. Nothing wider than the screen.
Screenshots go to ``HOTLINE_SCREENSHOTS`` (default ``var/screenshots/``)."""

from __future__ import annotations

import re

import pytest

from pipeline.runs.book import store_call
from tests.support.browser import SHOTS, SIZES, log_in, no_sideways_scroll
from tests.support.call_results import call_result
from tests.support.web_fixtures import FAST_AUTH, serve_app


@pytest.fixture
def served(web_db):
    from pipeline.web.app import WebOptions, create_app

    app = create_app(web_db, options=WebOptions(auth=FAST_AUTH))
    with serve_app(app) as url:
        yield app, url


@pytest.mark.parametrize("size", list(SIZES))
def test_a_manager_builds_previews_and_saves_a_rule_and_a_new_call_is_tagged(served, browser, size):
    app, server = served
    w, h = SIZES[size]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": w, "height": h})
    log_in(page, server, "minh")
    page.goto(f"{server}/calls")
    if not page.locator("header nav a[href='/rules']").is_visible():  # the narrow header may fold the links
        page.goto(f"{server}/rules")
    else:
        page.click("header nav a[href='/rules']")
    page.wait_for_selector("#rf-form")

    page.fill("#rf-title", "Rác ở Tân Tiến")
    row0, row1 = page.locator("#rf-row-0"), page.locator("#rf-row-1")
    assert row0.locator("select.rf-kind").input_value() == "said"
    assert row0.locator("select[name=by_0]").input_value() == "citizen"
    assert not row0.locator("input[name=number_0]").is_visible()  # only the fields a phrase uses
    row0.locator("textarea[name=words_0]").fill("rac, bốc mùi")  # without diacritics: every accent
    row1.locator("select.rf-kind").select_option("place")
    assert row1.locator("textarea[name=words_1]").is_visible() and not row1.locator("select[name=by_1]").is_visible()
    row1.locator("textarea[name=words_1]").fill("Tân Tiến")
    page.click("#rf-preview")
    page.wait_for_selector("#rf-trial")
    trial = page.locator("#rf-trial").inner_text()
    assert "Quy tắc này khớp 6 trên 36 cuộc gọi gần nhất." in trial
    assert page.locator("#rf-examples a").count() == 6
    assert page.locator("#rf-row-1 select.rf-kind").input_value() == "place"  # the form keeps what was built
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"rules-preview-{size}.png"), full_page=True)

    page.click("#rf-save")
    page.wait_for_selector("#rf-notice")
    assert "phiên bản 1" in page.locator("#rf-notice").inner_text()
    assert "Rác ở Tân Tiến" in page.locator("#rf-list tr[data-rule='rac-o-tan-tien']").inner_text()
    assert "minh" in page.locator("#rf-history").inner_text()

    # A call processed after saving: the run book tags it as it stores it.
    new = call_result(("e1" if size == "laptop" else "e2") * 32, "rác ở đây bốc mùi lắm", start_s=2.0)
    with app.state.web.database() as con:
        store_call(con, new, "run-after-save")
    call_id = new.recording.call_id
    page.goto(f"{server}/calls?category=rac-o-tan-tien")
    assert page.locator(f"a[href^='/calls/{call_id}']").count() == 1
    assert page.locator("#category-filter").input_value() == "rac-o-tan-tien"
    page.goto(f"{server}/calls/{call_id}")
    chip = page.locator("#categories .cat-at[data-rule='rac-o-tan-tien']")
    assert "Rác ở Tân Tiến" in chip.inner_text() and "0:02" in chip.inner_text()
    assert page.locator("#timeline .cat[data-rule='rac-o-tan-tien']").count() == 1

    # Back-apply: the older calls of the rule are tagged too, and a call page shows it with its moment.
    page.goto(f"{server}/rules")
    page.click("#rf-apply button[type=submit]")
    page.wait_for_selector("#rf-notice")
    assert re.search(r"Đã áp dụng lại cho 37 cuộc gọi", page.locator("#rf-notice").inner_text())
    page.goto(f"{server}/calls?q=loai:rac-o-tan-tien")
    assert page.locator("#n-results").inner_text().startswith("7")
    page.locator("table.calls tbody tr a").first.click()  # a call stored before the rule: back-applied
    page.wait_for_selector("#categories")
    assert "/calls/" + call_id not in page.url
    assert "0:01" in page.locator("#categories .cat-at[data-rule='rac-o-tan-tien']").inner_text()
    assert page.locator("#timeline .cat[data-rule='rac-o-tan-tien']").count() == 1
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"rules-call-page-{size}.png"), full_page=True)
    page.close()
