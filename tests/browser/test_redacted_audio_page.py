"""The call page a manager sees in Debian's chromium (1366×768 and 390×844, Vietnamese): the player plays the
redacted audio (the bytes the page's <audio> gets are silent over the number) and the timeline marks the
silenced stretch. Screenshots go to ``var/screenshots/`` (``HOTLINE_SCREENSHOTS`` to change)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipeline.stages import audio_redaction as ar
from pipeline.warehouse import calls
from tests.support.redacted_audio import redacted_call_with_words
from tests.support.web_fixtures import FAST_AUTH, PASSWORDS, serve_app

SIZES = {"laptop": (1366, 768), "phone": (390, 844)}
SHOTS = Path(os.environ.get("HOTLINE_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"))


@pytest.mark.parametrize("size", list(SIZES))
def test_a_manager_plays_the_redacted_audio_and_sees_where(web_db, browser, size):
    from pipeline.web.app import WebOptions, create_app

    call_id = redacted_call_with_words(web_db)
    con = duckdb.connect(str(web_db), read_only=True)
    rows = calls.redaction_rows(con, call_id)
    con.close()
    (a, b), = ar.silence_intervals(ar.call_spans(rows), rows["duration_s"])
    w, h = SIZES[size]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve_app(create_app(web_db, options=WebOptions(auth=FAST_AUTH))) as server:
        page = browser.new_page(viewport={"width": w, "height": h})
        page.goto(f"{server}/login")
        page.fill("input[name=username]", "minh")  # a manager
        page.fill("input[name=password]", PASSWORDS["minh"][1])
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{server}/calls/{call_id}")
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
        mark = page.locator(".timeline .red")
        assert mark.count() == 1 and mark.is_visible()
        assert "Âm thanh đã che" in page.locator(".legend").inner_text()
        assert "khoảng lặng" in page.locator("#audio-redacted").inner_text()
        # what the page's player fetches, seeking to the number: silence there, sound before it
        silent = page.evaluate(
            """async ([url, a, b]) => {
                 const r = await fetch(url, {headers: {Range: 'bytes=0-'}});
                 const buf = new DataView(await r.arrayBuffer());
                 const at = t => 44 + 2 * Math.floor(t * 16000);
                 let inside = 0, before = 0;
                 for (let i = at(a) + 2; i < at(b) - 2; i += 2) inside = Math.max(inside, Math.abs(buf.getInt16(i, true)));
                 for (let i = at(a) - 8000; i < at(a) - 2; i += 2) before = Math.max(before, Math.abs(buf.getInt16(i, true)));
                 return [r.status, inside, before];
               }""", [f"{server}/audio/{call_id}", a, b])
        assert silent[0] == 206 and silent[1] == 0 and silent[2] > 100, silent
        page.evaluate(f"document.getElementById('player').currentTime = {a + 0.05}")
        page.screenshot(path=str(SHOTS / f"call-manager-redacted-{size}.png"), full_page=True)
        page.close()
