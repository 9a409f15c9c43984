"""Helpers the browser tests share: waiting on the page, log-in, page widths, screenshots."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.support.web_fixtures import PASSWORDS

SIZES = {"laptop": (1366, 768), "phone": (390, 844)}
SHOTS = Path(os.environ.get("HOTLINE_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"))


def wait_until(page, expression: str, timeout_s: float = 15.0):
    """Poll a JS expression with page.evaluate (DevTools evaluation is not subject to the app's CSP,
    unlike wait_for_function, whose string predicate the CSP's script-src 'self' refuses)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def log_in(page, server: str, name: str, *, next_path: str | None = None) -> None:
    """Log in through the real form as the fixture user ``name``."""
    page.goto(f"{server}/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORDS[name][1])
    page.click("button[type=submit]")
    page.wait_for_load_state()


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{page.url}: {width} px wide in a {inner} px window"
