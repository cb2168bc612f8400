"""Analyze Board in a real browser: the button, the progress bar, the profile page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from taste.models import TasteProfile

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_analyze_board_shows_progress_then_the_profile(
    page, live_server, bob, board, fill_board, celery_worker_process, wait_until_ready
):
    images = fill_board(board, bob, looks=("mono_contrast", "saturated_pop"), per_look=6)
    wait_until_ready([i.pk for i in images])
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}{board.get_absolute_url()}")

    page.click("#analyze-board")
    page.wait_for_selector("#analysis-bar")  # the progress page, fed by the task
    page.wait_for_url("**/profiles/1/", timeout=120_000)

    profile = TasteProfile.objects.get(board=board)
    assert page.locator(".cluster").count() == len(profile.data["clusters"]) == 2
    assert profile.data["summary"][:40] in page.inner_text("#summary")
    assert page.locator("#board-map .pt").count() == len(images)
    # The copy button puts the keywords on the clipboard as a prompt fragment.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("text=Copy as prompt")
    assert page.evaluate("navigator.clipboard.readText()") == page.inner_text("#prompt").strip()
    # Hovering a point of the map shows that image.
    page.locator("#board-map .pt").last.dispatch_event("mouseenter")
    assert page.locator("#map-tip img").get_attribute("src").endswith("/thumb/")
    out = Path(settings.VAR_DIR) / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "profile.png"), full_page=True)
