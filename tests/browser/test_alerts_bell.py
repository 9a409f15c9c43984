"""Issue 30 #2 in a browser: the bell in the header shows the unread alerts, opens the list, an alert is
acknowledged and the bell goes to zero; a unit's member sees only its own overdue alert. Screenshots of the
bell and list at 1366 and 390 px and of an alert e-mail (as HTML) go to $HOTLINE_SCREENSHOTS."""

from __future__ import annotations

import json
import pytest

from pipeline.casework import alerts
from pipeline.config import Settings
from tests.support.alert_fixtures import SPIKE_REASON, URGENT_REASON, add_sample_alerts
from tests.support.browser import SHOTS, SIZES, log_in, no_sideways_scroll
from tests.support.web_fixtures import password_of


@pytest.fixture
def web_db(cases_db):
    add_sample_alerts(cases_db)
    return cases_db


def _bell(page) -> str:
    return page.evaluate("(() => { const c = document.querySelector('#bell-count'); return c ? c.textContent : '0'; })()")


def test_bell_list_and_acknowledge(browser, server, web_db):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": SIZES["laptop"][0], "height": SIZES["laptop"][1]})
    log_in(page, server, "minh")
    page.goto(f"{server}/cases")
    n = int(_bell(page))
    assert n >= 4  # urgent + spike + at least two units' overdue lists
    page.screenshot(path=str(SHOTS / "bell-1366.png"))
    page.click("#bell")
    page.wait_for_load_state()
    assert page.url.endswith("/alerts")
    assert page.locator("tr.alert-row").count() == n and page.locator("tr.alert-row.unread").count() == n
    page.screenshot(path=str(SHOTS / "alerts-1366.png"), full_page=True)
    urgent = page.locator("tr.alert-row[data-kind=urgent]")
    urgent.locator("form.ack button").click()
    page.wait_for_load_state()
    assert "Đã xác nhận: minh" in page.locator("tr.alert-row[data-kind=urgent]").inner_text()
    assert _bell(page) == "0"  # seen on the list; the acknowledged one counts for nobody
    page.set_viewport_size({"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
    page.reload()
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "alerts-390.png"), full_page=True)

    phone = browser.new_page(viewport={"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
    log_in(phone, server, "an")
    phone.goto(f"{server}/cases")
    assert int(_bell(phone)) == n - 1  # minh's acknowledgement counts for everyone
    no_sideways_scroll(phone)
    phone.screenshot(path=str(SHOTS / "bell-390.png"))


def test_a_unit_sees_only_its_own_overdue_alert(browser, server):
    page = browser.new_page(viewport={"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "tantien")
    page.fill("input[name=password]", password_of("tantien"))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert _bell(page) == "1"
    page.click("#bell")
    page.wait_for_load_state()
    rows = page.locator("tr.alert-row")
    assert rows.count() == 1 and rows.first.get_attribute("data-kind") == "overdue"
    assert "UBND phường Tân Tiến" in rows.first.inner_text()
    page.screenshot(path=str(SHOTS / "alerts-unit-390.png"), full_page=True)


def test_alert_e_mail_as_html(browser):
    settings = Settings(public_url="https://1022.example")
    urgent = {"kind": "urgent", "reason": URGENT_REASON, "rule_name": "khan-cap-tu-khoa",
              "topic": "environment", "ward": "phường Tân Tiến", "moment_s": 12.0, "call_id": "0007a1b2c3d4e5f6"}
    spike = {"kind": "spike", "reason": SPIKE_REASON, "topic": "traffic",
             "ward": "phường Tân Lập"}
    overdue = {"kind": "overdue", "reason": "7 phiếu quá hạn (1 khẩn)", "unit": "UBND phường Tân Tiến",
               "trigger": json.dumps({"oldest_due": "2026-11-20"})}
    for name, (subject, body), width in (("email-urgent", alerts.compose_any(urgent, settings), 1366),
                                         ("email-digest", alerts.compose_digest([urgent, spike, overdue], settings), 390)):
        page = browser.new_page(viewport={"width": width, "height": 700})
        page.set_content(alerts.as_html(subject, body))
        text = page.inner_text("body")
        assert "https://1022.example/calls/0007a1b2c3d4e5f6" in text and "thông tin cá nhân" in text
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
