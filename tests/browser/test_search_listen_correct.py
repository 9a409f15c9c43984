"""The real thing: uvicorn on a free port, Debian's chromium driven by Playwright, a real recording.

Needs /usr/bin/chromium (CI installs it); Playwright's own browser download is never used.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from tests.support.browser import wait_until
from tests.support.web_fixtures import PASSWORDS

def _status(url: str) -> int:
    # No cookies, no redirects followed: what an outsider gets.
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        return urllib.request.build_opener(NoRedirect).open(url, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_logged_out_requests_refused(server, call_ids):
    assert _status(f"{server}/calls") == 303
    assert _status(f"{server}/api/calls") == 401
    assert _status(f"{server}/audio/{call_ids[0]}") == 401
    assert _status(f"{server}/login") == 200


def test_qa_searches_listens_and_corrects(server, browser, call_ids):
    page = browser.new_page()
    page.goto(f"{server}/calls")
    assert "/login" in page.url  # logged out: sent to the log-in page
    page.fill("input[name=username]", "lan")
    page.fill("input[name=password]", PASSWORDS["lan"][1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/calls?queue=1")  # QA lands on the review queue

    # Search without diacritics finds text written with them.
    page.fill("input[name=q]", "den duong")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**q=den+duong**")
    assert "Đèn đường" in page.locator("tr.call-row").first.inner_text()

    # Open the best hit; click the third segment and watch the player move there.
    page.locator("tr.call-row a").first.click()
    page.wait_for_selector("#transcript .seg")
    wait_until(page, "document.getElementById('player').readyState >= 1")
    seg = page.locator("#transcript .seg").nth(2)
    start = float(seg.get_attribute("data-start"))
    seg.click()
    wait_until(page, f"document.getElementById('player').currentTime >= {start - 0.05}")
    minutes, seconds = page.locator("#position").inner_text().split(":")  # m:ss
    assert 60 * int(minutes) + int(seconds) >= int(start - 0.1)
    page.wait_for_selector("#transcript .seg.current", timeout=15000)

    # Correct a topic: add "land"; after a reload it is still there, marked as a QA correction.
    call_url = page.url
    page.select_option("#add-topic select[name=topic]", "land")
    page.click("#add-topic button[type=submit]")
    page.wait_for_selector("#topics li[data-topic=land]")  # saved in place, no reload
    assert page.url == call_url
    page.reload()
    item = page.locator("#topics li[data-topic=land]")
    assert item.count() == 1
    assert "QA" in item.inner_text()
    assert "lan" in page.locator("#history").inner_text()
    page.close()
