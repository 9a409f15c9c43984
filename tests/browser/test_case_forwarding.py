"""In a real browser: QA forwards a case to a ward; the ward's unit user takes it and resolves it."""

from __future__ import annotations

import shutil

import pytest

from tests.support.web_fixtures import PASSWORDS
from tests.support.web_fixtures import UNIT_USERS, prepare_cases

@pytest.fixture
def web_db(_template_db, tmp_path):
    path = tmp_path / "hotline.duckdb"
    shutil.copyfile(_template_db[0], path)
    prepare_cases(path)
    return path


def _log_in(page, server, name, password):
    page.goto(f"{server}/cases")
    assert "/login" in page.url
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/cases**")


def test_qa_forwards_and_unit_resolves(server, browser):
    qa = browser.new_context().new_page()
    _log_in(qa, server, "lan", PASSWORDS["lan"][1])
    qa.select_option("#case-filters select[name=unit]", "UBND phường Tân Tiến")
    qa.click("#case-filters button[type=submit]")
    qa.wait_for_url("**unit=**")
    row = qa.locator("tr.case-row").first
    case_id = row.get_attribute("data-case")
    row.locator("a").first.click()
    qa.wait_for_selector("#case-status[data-status=new]")
    qa.select_option("#case-action select[name=to]", "forwarded")
    qa.fill("#case-action input[name=note]", "Chuyển UBND phường xử lý")
    qa.click("#case-action button[type=submit]")
    qa.wait_for_selector("#case-status[data-status=forwarded]")
    assert "lan" in qa.locator("#case-history").inner_text()

    unit = browser.new_context().new_page()
    _log_in(unit, server, "tantien", UNIT_USERS["tantien"][1])
    assert "Tân Tiến" in unit.locator("#unit-view").inner_text()
    assert unit.locator("nav a[href='/calls']").count() == 0  # no call list for units
    unit.click(f"tr.case-row[data-case='{case_id}'] a")
    unit.wait_for_selector("#case-status[data-status=forwarded]")
    assert unit.locator("audio").count() == 0
    unit.select_option("#case-action select[name=to]", "in_progress")
    unit.click("#case-action button[type=submit]")
    unit.wait_for_selector("#case-status[data-status=in_progress]")
    unit.select_option("#case-action select[name=to]", "resolved")
    unit.fill("#case-action textarea[name=result]", "Đã cho xe thu gom rác, khu vực sạch sẽ")
    unit.click("#case-action button[type=submit]")
    unit.wait_for_selector("#case-status[data-status=resolved]")
    assert "Đã cho xe thu gom rác" in unit.locator("#case-result").inner_text()
    # The unit cannot open another unit's case by typing its address.
    foreign = qa.context.request.get(f"{server}/api/cases?status=all&unit=UBND phường Tân Lập").json()["cases"][0]
    response = unit.goto(f"{server}/cases/{foreign['case_id']}")
    assert response.status == 404 and foreign["summary"][:30] not in unit.content()

    # Back with QA: the case waits on the callback list.
    qa.goto(f"{server}/cases/callbacks")
    assert case_id[:11] in qa.locator("#callbacks").inner_text()
