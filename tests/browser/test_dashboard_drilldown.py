"""The manager's dashboard in a real browser: drill-down from a heat cell, a hotspot and a KPI to the
filtered call list, and the page at phone width (390 px) with nothing wider than the screen."""

from __future__ import annotations

import re

import duckdb
from tests.support.web_fixtures import PASSWORDS


def _log_in(page, base):
    page.goto(f"{base}/login?next=/dashboard")
    page.fill("input[name=username]", "minh")
    page.fill("input[name=password]", PASSWORDS["minh"][1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


def _listed(page) -> int:
    return int(re.search(r"(\d+) cuộc gọi", page.locator("main").inner_text()).group(1))


def _count(web_db, sql, params) -> int:
    con = duckdb.connect(str(web_db))  # same configuration as the server's connections in this process
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def test_drill_down_from_cell_hotspot_and_kpi(server, browser, web_db):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in(page, server)
    page.goto(f"{server}/dashboard?from=2026-10-12&to=2026-11-22")

    # A heat-table cell: the topic and that week's days.
    cell = page.locator("#trends table.heat tbody tr").first.locator("td a").first
    count = int(cell.inner_text())
    cell.click()
    page.wait_for_url("**/calls?**topic=**")
    q = dict(p.split("=") for p in page.url.split("?")[1].split("&"))
    expected = _count(web_db, """SELECT count(*) FROM calls c JOIN call_topics t USING (call_id)
        WHERE t.topic = ? AND t.assigned AND CAST(c.started_at AS DATE) BETWEEN ? AND ?""", [q["topic"], q["from"], q["to"]])
    assert _listed(page) == count == expected

    # A hotspot: that ward's calls in the period.
    page.go_back()
    spot = page.locator("#hotspots table.bars tbody tr").first
    n = int(spot.locator("td.num").first.inner_text())
    spot.locator("a").click()
    page.wait_for_url("**place=**")
    assert _listed(page) == n

    # The urgent KPI.
    page.go_back()
    kpi = page.locator("#kpis a[data-kpi=n_urgent]")
    n = int(kpi.locator("b").inner_text())
    kpi.click()
    page.wait_for_url("**urgent=1**")
    assert _listed(page) == n > 0
    assert page.locator("tr.call-row").count() == n
    page.close()


def test_dashboard_fits_a_phone(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    _log_in(page, server)
    page.goto(f"{server}/dashboard?from=2026-10-12&to=2026-11-22")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling of the page
    # KPI cards two to a row, every one on screen; the wide heat table scrolls inside its own box.
    boxes = [page.locator("#kpis a.kpi").nth(i).bounding_box() for i in range(page.locator("#kpis a.kpi").count())]
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[2]["y"] > boxes[0]["y"]
    scroller = page.locator("#trends .scroll").bounding_box()
    assert scroller["x"] + scroller["width"] <= 390
    assert page.locator("#partial-period").count() == 1  # the fixture's data ends before 22/11
    assert "*" in page.locator("#trends thead").inner_text()  # the partial week is marked
    page.close()
