"""Taste search and steering in a real browser, at phone size: find similar from the
Search page with a threshold, tag an image, then steer the profile (pin a keyword)
and see the new version say so. Screenshots land in var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from moodboards import services
from taste import services as taste_services
from taste.models import TasteProfile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def test_search_then_steer_on_a_phone(new_page, ui, live_server, team, alice, bob):
    board = services.board_create(team=team, user=alice, title="Line and pixel")
    for folder in ("line_art", "pixel_art"):
        for path in sorted((REAL / folder).iterdir()):
            services.board_add_image(
                board=board, user=alice, name=path.name, data=path.read_bytes()
            )
    profile = taste_services.analysis_run(
        analysis_id=taste_services.analysis_start(board=board, user=alice).pk
    ).profile
    first = board.images.order_by("id").first()

    page = new_page(ui.PHONE)
    ui.log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}{reverse('search')}?similar={first.pk}")
    results = page.locator(".search-results .tile")
    assert results.count() == board.images.count() - 1
    page.fill("input[name=min_score]", "0.5")
    page.click("text=Apply")
    page.wait_for_url("**min_score=0.5**")
    assert page.locator(".search-results .tile").count() < board.images.count() - 1
    page.fill("input[name=term]", "hero shot")
    page.click("button:has-text('Tag')")
    page.wait_for_selector(".chip.manual:has-text('hero shot')")
    assert ui.sideways_scroll(page) == 0
    ui.screenshot(page, "search-similar-phone")

    page.goto(f"{live_server.url}{profile.get_absolute_url()}")
    page.click("#steering summary")
    page.fill("#steering input[name=pin]", "film grain")
    page.click("#steering button:has-text('Pin / ban')")
    page.wait_for_url("**/profiles/2/")
    steered = TasteProfile.objects.get(board=board, version=2)
    assert steered.code in page.inner_text("#steering")
    assert "film grain" in page.inner_text("#steering")
    assert ui.sideways_scroll(page) == 0
    ui.screenshot(page, "profile-steered-phone")
