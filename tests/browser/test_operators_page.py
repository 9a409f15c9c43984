"""The known-operators page in Debian's chromium at 1366 and 390 px: an admin enrols an operator
from two selected calls (stand-in diarizer), sees the row, removes it; nothing wider than the
screen. Screenshots go to ``var/screenshots/`` (``HOTLINE_SCREENSHOTS`` to change)."""

from __future__ import annotations

import pytest

from tests.support.web_fixtures import FAST_AUTH, PASSWORDS, serve_app
from tests.support.browser import SHOTS, SIZES, no_sideways_scroll
from tests.unit.test_operators_web import TwoVoices


@pytest.fixture
def server(web_db):
    from pipeline.web.app import WebOptions, create_app

    app = create_app(web_db, options=WebOptions(auth=FAST_AUTH))
    app.state.operator_diarizer = TwoVoices()
    with serve_app(app) as url:
        yield url


@pytest.mark.parametrize("size", list(SIZES))
def test_admin_enrols_and_removes_an_operator(server, browser, size):
    w, h = SIZES[size]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": w, "height": h})
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "an")
    page.fill("input[name=password]", PASSWORDS["an"][1])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{server}/calls")
    page.click("header nav a[href='/operators']")  # the admin's navigation leads there
    page.wait_for_selector("#op-prints-none")
    page.fill("#op-filter input[name=ext]", "102")
    page.click("#op-filter button[type=submit]")
    page.wait_for_url("**ext=102**")
    boxes = page.locator("#op-calls input[type=checkbox]")
    assert boxes.count() >= 2
    assert all(c.strip() == "102" for c in page.locator("#op-calls tbody td:nth-child(3)").all_inner_texts())
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"operators-enrol-{size}.png"), full_page=True)
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.fill("#op-enrol input[name=name]", "Trần Văn Minh")
    page.fill("#op-enrol input[name=consent]", "Phiếu đồng ý số 7, ngày 01/12/2026")
    page.click("#op-enrol button[type=submit]")
    page.wait_for_selector("#op-notice")
    row = page.locator("#op-prints tr[data-ext='102']")
    assert "Trần Văn Minh" in row.inner_text() and "Phiếu đồng ý số 7" in row.inner_text()
    assert page.locator("audio").count() == 0  # no audio on this page
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"operators-list-{size}.png"), full_page=True)
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#op-prints-none")
    assert "102" in page.locator("#op-notice").inner_text()
    page.close()
