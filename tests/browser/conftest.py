"""Browser tests: uvicorn on a free port, Debian's chromium driven by playwright-core, a real recording.

Needs /usr/bin/chromium (CI installs it); Playwright's own browser download is never used. Chromium
starts once per test module and stops after it: Playwright's sync API marks an event loop as running
in the main thread while it is open, and Prefect's sync calls (``Secret.load``, ``deployment.apply``)
then return coroutines in every later test. Each test gets its own browser contexts, closed after it.
"""

from __future__ import annotations

import shutil

import pytest

from tests.support.web_fixtures import FAST_AUTH, serve_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def _chromium():
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"])
        yield b
        b.close()


@pytest.fixture
def browser(_chromium):
    """The module's chromium; every context (``new_page`` opens one) a test opens is closed after it."""
    before = set(_chromium.contexts)
    yield _chromium
    for context in set(_chromium.contexts) - before:
        context.close()


@pytest.fixture
def server(web_db):
    """The web app on the fixture warehouse, served by uvicorn on a free port."""
    from pipeline.web.app import WebOptions, create_app

    with serve_app(create_app(web_db, options=WebOptions(auth=FAST_AUTH))) as url:
        yield url
