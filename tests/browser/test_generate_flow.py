"""Generate in a real browser: live preview on the sliders, then a batch on the worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from generation.models import Generation
from taste import services as taste_services

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_live_preview_follows_the_slider_and_the_batch_lands(
    page, live_server, bob, board, fill_board, celery_worker_process, wait_until_ready
):
    images = fill_board(board, bob, looks=("mono_contrast", "warm_film"), per_look=4)
    wait_until_ready([i.pk for i in images])
    analysis = taste_services.analysis_start(board=board, user=bob)
    profile = taste_services.analysis_run(analysis_id=analysis.pk).profile

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/generate/?profile={profile.pk}")

    page.locator("[name=content_ids]").first.check()
    page.wait_for_function("document.getElementById('preview').dataset.updated")
    first = page.get_attribute("#preview", "src")
    stamp = page.get_attribute("#preview", "data-updated")
    page.eval_on_selector(
        "#strength", "el => { el.value = 0.1; el.dispatchEvent(new Event('input')); }"
    )
    page.wait_for_function(f"document.getElementById('preview').dataset.updated !== '{stamp}'")
    assert page.get_attribute("#preview", "src") != first
    assert "Preview in" in page.inner_text("#preview-note")

    # Two outputs of one photograph: a diverse batch (a cohesive grade of one picture is
    # one image, never two identical copies).
    page.eval_on_selector("[name=count]", "el => { el.value = 2; }")
    page.eval_on_selector("[name=cohesion]", "el => { el.value = 0; }")
    page.click("#generate")
    page.wait_for_url("**/generations/*/")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.output img')).filter(i => i.complete && i.naturalWidth > 0).length === 2",
        timeout=120_000,
    )
    assert "Style fidelity" in page.inner_text("#batch")
    generation = Generation.objects.get()
    assert generation.status == "done" and generation.strength == pytest.approx(0.1)
    out = Path(settings.VAR_DIR) / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "generation.png"), full_page=True)
