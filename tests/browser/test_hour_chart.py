"""The dashboard's calls-by-hour chart in a real browser: clicking a bar, or focusing it with the keyboard
and pressing Enter, opens the call list of that hour with the bar's count; the hour chip removes the filter."""

from __future__ import annotations

import re

from tests.browser.test_dashboard_drilldown import _listed, _log_in


def test_click_and_keyboard_on_an_hour_bar(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _log_in(page, server)
    page.goto(f"{server}/dashboard?from=2026-10-12&to=2026-11-22")
    bars = page.locator("#hours svg a.bar-link")
    assert bars.count() > 3
    # Chromium's accessibility tree (what a screen reader reads) has each bar as a link with its name.
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    names = [n.get("name", {}).get("value", "") for n in tree if n.get("role", {}).get("value") == "link"]
    assert len([x for x in names if re.match(r"\d\d:00–\d\d:59: \d+ cuộc gọi", x)]) == bars.count()

    bar = bars.nth(1)
    name = bar.get_attribute("aria-label")
    hour, n = re.match(r"(\d\d):00–\d\d:59: (\d+) cuộc gọi", name).groups()
    bar.click()
    page.wait_for_url(f"**/calls?**hour={int(hour)}")
    assert _listed(page) == int(n) == page.locator("tr.call-row").count()
    times = page.locator("tr.call-row td:first-child").all_inner_texts()
    assert times and all(re.search(rf" {hour}:\d\d$", cell.strip()) for cell in times)
    assert f"{hour}:00–{hour}:59" in page.locator("#chip-hour").inner_text()

    # The chip's × drops the hour and keeps the period.
    page.locator("#chip-hour a.chip-remove").click()
    page.wait_for_url("**/calls?from=2026-10-12&to=2026-11-22")
    assert page.locator("#chip-hour").count() == 0 and _listed(page) > int(n)

    # Keyboard: the bar takes focus and Enter follows it.
    page.goto(f"{server}/dashboard?from=2026-10-12&to=2026-11-22")
    last = page.locator("#hours svg a.bar-link").last
    hour, n = re.match(r"(\d\d):00–\d\d:59: (\d+)", last.get_attribute("aria-label")).groups()
    last.focus()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == last.get_attribute("aria-label")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/calls?**hour={int(hour)}")
    assert _listed(page) == int(n)
    page.close()
