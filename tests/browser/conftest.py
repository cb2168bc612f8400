"""Debian's chromium driven by Playwright, headless.

Playwright's own browser download can't work offline; we point it at the system
chromium. Without chromium these tests skip, unless TASTEBASE_REQUIRE_BROWSER=1
(as in CI) makes that a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    path = _chromium()
    if path is None:
        if os.environ.get("TASTEBASE_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (apt-get install chromium) but was not found")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    # Playwright runs an event loop in this thread; Django's ORM calls from the test
    # body are still synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import Page, sync_playwright

    original = Page.wait_for_function
    Page.wait_for_function = _wait_for_function  # see below: the pages' CSP forbids eval
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        Page.wait_for_function = original


def _wait_for_function(self, expression, *, arg=None, timeout=None, polling=None):
    """Page.wait_for_function, polled from here. Playwright's own evaluates the predicate
    with eval() inside the page, which the pages' Content-Security-Policy refuses (no
    'unsafe-eval'); evaluate() goes through the DevTools protocol, which CSP allows. The
    policy stays enforced, so a script the policy blocks still fails these tests."""
    import time

    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    limit = (timeout if timeout is not None else 30_000) / 1000
    deadline = time.monotonic() + limit
    while True:
        try:
            value = self.evaluate(expression, arg)
        except PlaywrightError as exc:  # a navigation under way: ask the next page
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise PlaywrightTimeout(f"Timeout {limit:.0f} s waiting for: {expression[:120]}")
        self.wait_for_timeout(100)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
