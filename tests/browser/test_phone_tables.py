"""ux29 (issue 29 QA pass): on a 390 px phone the case list, the case report's tables, the rule list and the
accounts table are one card per row, each value labelled with its column, none cut at the right edge."""

from __future__ import annotations

import pytest

from tests.support.browser import SIZES, log_in, no_sideways_scroll


@pytest.fixture
def web_db(cases_db):
    return cases_db


@pytest.mark.parametrize("user,path,table", [("minh", "/cases", "#cases"), ("minh", "/cases/report", "#by-unit"),
                                              ("minh", "/rules", "#rf-list"), ("an", "/admin/users", "#accounts")])
def test_tables_are_cards_on_a_phone(browser, server, user, path, table):
    page = browser.new_page(viewport={"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
    log_in(page, server, user)
    page.goto(server + path)
    page.wait_for_load_state()
    no_sideways_scroll(page)
    cells = page.locator(f"{table} tbody tr:first-child td")
    assert cells.count() >= 3
    inner = page.evaluate("window.innerWidth")
    for i in range(cells.count()):
        box = cells.nth(i).bounding_box()
        if box is None or box["width"] == 0:  # an empty cell is hidden
            continue
        assert box["x"] >= 0 and box["x"] + box["width"] <= inner + 1, (path, i, box)
    labelled = page.evaluate(f"[...document.querySelectorAll('{table} tbody tr:first-child td')]"
                             ".filter(td => td.textContent.trim()).map(td => td.getAttribute('data-label'))")
    assert labelled and all(labelled[:2]), labelled
