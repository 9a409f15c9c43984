"""The real thing: uvicorn on a free port, Debian's chromium driven by Playwright, a real recording.

Needs /usr/bin/chromium (CI installs it); Playwright's own browser download is never used.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request

import pytest

from tests.support.web_fixtures import FAST_AUTH, PASSWORDS, serve_app

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def server(web_db):
    from pipeline.web.app import WebOptions, create_app

    with serve_app(create_app(web_db, options=WebOptions(auth=FAST_AUTH))) as url:
        yield url


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"])
        yield b
        b.close()


def _wait_until(page, expression: str, timeout_s: float = 15.0):
    """Poll a JS expression with page.evaluate (DevTools evaluation is not subject to the app's CSP,
    unlike wait_for_function, whose string predicate the CSP's script-src 'self' refuses)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


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
    _wait_until(page, "document.getElementById('player').readyState >= 1")
    seg = page.locator("#transcript .seg").nth(2)
    start = float(seg.get_attribute("data-start"))
    seg.click()
    _wait_until(page, f"document.getElementById('player').currentTime >= {start - 0.05}")
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
