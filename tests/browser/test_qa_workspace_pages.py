"""The QA workspace in Debian's chromium at a laptop size (1366×768) and a phone size (390×844):
no sideways scrolling on any page, the word highlight follows playback, a correction saved in
place leaves the player where it was, search highlights the words and counts what it exports.
Screenshots of every page go to ``var/screenshots/`` (``HOTLINE_SCREENSHOTS`` to change).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.support.browser import SHOTS, SIZES, log_in, no_sideways_scroll, wait_until


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_and_is_photographed(server, browser, call_ids, size):
    w, h = SIZES[size]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": w, "height": h})
    errors = []
    page.on("response", lambda r: errors.append(r.url) if r.status == 404 and "favicon" in r.url else None)
    page.goto(f"{server}/login")
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"login-{size}.png"), full_page=True)
    log_in(page, server, "an")  # admin: sees every page
    pages = {"queue": "/calls?queue=1", "calls": "/calls", "search": "/calls?q=den+duong",
             "call": f"/calls/{call_ids[0]}?q=den+duong", "dashboard": "/dashboard", "error": "/calls/nope"}
    for name, path in pages.items():
        page.goto(server + path)
        page.wait_for_load_state()
        no_sideways_scroll(page)
        if name == "call":
            # The player is usable: not collapsed to a dot.
            box = page.locator("#player").bounding_box()
            assert box["width"] >= min(300, w - 40), box
            # One column on a phone: the transcript is as wide as the page (minus padding).
            tw = page.locator("#transcript").bounding_box()["width"]
            assert tw >= (w - 60 if size == "phone" else w * 0.45), tw
        if name == "error":
            assert page.locator("header nav a").count() >= 2  # the navigation stays
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_word_highlight_follows_playback_and_in_place_correction_keeps_position(server, browser, call_ids):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    log_in(page, server, "lan")
    assert page.url.endswith("/calls?queue=1")  # QA lands on the queue
    page.goto(f"{server}/calls/{call_ids[0]}")
    wait_until(page, "document.getElementById('player').readyState >= 1")
    page.evaluate("window.__same_page = 1")
    page.evaluate("document.getElementById('player').play()")
    first = wait_until(page, "(document.querySelector('#transcript .w.now') || {}).dataset?.s")
    wait_until(page, f"parseFloat((document.querySelector('#transcript .w.now') || {{dataset: {{s: 0}}}}).dataset.s) > {float(first) + 0.5}")
    wait_until(page, "document.querySelector('#timeline .ph').style.left !== ''")
    page.evaluate("document.getElementById('player').pause()")
    at = page.evaluate("document.getElementById('player').currentTime")
    assert at > 0.5

    # Add a topic in place: no reload, the player keeps its position, a confirmation shows.
    page.select_option("#add-topic select[name=topic]", "other")
    page.click("#add-topic button[type=submit]")
    page.wait_for_selector("#topics li[data-topic=other]")
    wait_until(page, "!document.getElementById('toast').hidden")
    assert page.evaluate("window.__same_page") == 1
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(at, abs=1e-6)
    assert "lan" in page.locator("#history").inner_text()

    # Keyboard: ← 5 s back, ↓ / ↑ next / previous sentence.
    page.locator("h1").click()
    page.keyboard.press("ArrowLeft")
    wait_until(page, "document.getElementById('player').currentTime < 0.01")
    second = float(page.locator("#transcript .seg").nth(1).get_attribute("data-start"))
    page.keyboard.press("ArrowDown")  # next sentence
    wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {second}) < 0.05")
    page.keyboard.press("ArrowUp")  # back to the one before
    wait_until(page, "document.getElementById('player').currentTime < 0.05")
    page.locator("h1").click()

    # Correct a sentence's text in place.
    seg = page.locator("#transcript .seg").nth(1)
    seg.locator(".edit").click()
    seg.locator("textarea").fill("Cây đổ chắn đường Hùng Vương")
    seg.locator(".editor button").first.click()
    wait_until(page, "document.querySelectorAll('#transcript .seg')[1].querySelector('.text').textContent.includes('Hùng Vương')")
    assert page.evaluate("window.__same_page") == 1
    page.reload()
    assert "Hùng Vương" in page.locator("#transcript .seg").nth(1).inner_text()
    assert page.locator("#transcript .seg .edited").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "call-corrected-laptop.png"), full_page=True)
    page.close()


def test_search_highlights_and_count_equals_export(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    log_in(page, server, "an")
    page.goto(f"{server}/calls")
    page.fill("input[name=q]", "đèn đường")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**q=**")
    marks = [m.lower() for m in page.locator(".snippet mark").all_inner_texts()]
    assert marks and set(marks) <= {"đèn", "đường"} and "đèn" in marks
    n = int(re.search(r"\d+", page.locator("#n-results").inner_text()).group())
    assert page.locator("tr.call-row").count() == n
    href = page.locator("a", has_text="CSV").get_attribute("href")
    body = page.request.get(server + href).body().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(body)))) - 1 == n == 5
    page.close()


def test_stereo_call_plays_one_side(server, browser, web_db, call_ids):
    import duckdb
    import numpy as np
    import soundfile as sf

    con = duckdb.connect(str(web_db))
    source_dir = Path(con.execute("SELECT source_dir FROM runs").fetchone()[0])
    t = np.arange(16000 * 4) / 16000
    sf.write(source_dir / "stereo.wav", np.stack([np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], axis=1) * 0.3, 16000)
    con.execute("UPDATE calls SET channels = 2, source_path = 'stereo.wav' WHERE call_id = ?", [call_ids[5]])
    con.close()
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, server, "lan")
    page.goto(f"{server}/calls/{call_ids[5]}")
    wait_until(page, "document.getElementById('player').readyState >= 1")
    page.select_option("#side", "0")
    assert page.evaluate("document.getElementById('player').dataset.side") == "0:1,0"  # left on, right muted
    page.evaluate("document.getElementById('player').play()")
    wait_until(page, "document.getElementById('player').currentTime > 0.5")
    page.select_option("#side", "1")
    assert page.evaluate("document.getElementById('player').dataset.side") == "1:0,1"
    wait_until(page, "document.getElementById('player').currentTime > 1.0")
    assert not errors, errors
    page.close()
