"""Debian's chromium driven by Playwright, headless.

Playwright's own browser download can't work offline; we point it at the system
chromium. Without chromium these tests skip, unless TASTEBASE_REQUIRE_BROWSER=1
(as in CI) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1440, "height": 900}


@pytest.fixture(scope="session", autouse=True)
def vendored_front_end():
    """The pages load PhotoSwipe and SortableJS from static/vendor/ (bin/vendor copies
    them from npm; `make test` runs it). Run it here too, so pytest alone works."""
    stamp = list((ROOT / "static" / "vendor").glob(".lock-*"))
    if not stamp or not AXE.exists():
        if shutil.which("npm") is None:
            pytest.fail("static/vendor/ is missing and npm is not installed: run bin/vendor")
        subprocess.run([str(ROOT / "bin" / "vendor")], check=True, cwd=ROOT)


@pytest.fixture
def new_page(browser):
    """A page at a given viewport; the CSP is bypassed only so axe-core can be injected."""
    contexts = []

    def make(viewport=DESKTOP, **options):
        context = browser.new_context(viewport=viewport, bypass_csp=True, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


def log_in(page, live_server, username: str, password: str = "correct horse battery staple"):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def sideways_scroll(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the viewport)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def serious_axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    return page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
            .filter((v) => ["serious", "critical"].includes(v.impact))
            .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                           nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }))"""
    )


def screenshot(page, name: str) -> Path:
    from django.conf import settings

    out = Path(settings.VAR_DIR) / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class Ui:
    """The page helpers the browser tests share (a fixture: with --import-mode=importlib
    a test module can't import this conftest)."""

    PHONE, DESKTOP = PHONE, DESKTOP
    log_in = staticmethod(log_in)
    sideways_scroll = staticmethod(sideways_scroll)
    serious_axe_violations = staticmethod(serious_axe_violations)
    screenshot = staticmethod(screenshot)


@pytest.fixture
def ui() -> type[Ui]:
    return Ui
