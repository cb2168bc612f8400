"""The Generate page as each role sees it, titles that say what was made from what, and
progress that moves."""

from __future__ import annotations

import base64
import io
import json

from django.urls import reverse

from generation import progress, services
from generation.models import Generation
from moodboards.samples import sample_image


def test_the_form_starts_with_one_taste_row_and_no_prompt(client, bob, profile, content):
    client.force_login(bob)
    page = client.get(reverse("generation_new")).content.decode()
    assert page.count('class="ingredient"') == 4
    assert page.count('class="ingredient" data-row') == 4
    assert page.count("hidden>") >= 3  # rows 2-4 wait behind "Add another taste"
    assert 'id="add-row"' in page
    assert 'id="prompt-section" hidden' in page  # diffusion is not installed here
    assert 'id="grade-sliders"' in page and 'name="colour"' in page
    # Images are grouped by board, with a search box.
    assert 'class="pick-board"' in page and 'id="picker-search"' in page
    assert profile.board.title in page


def test_a_viewer_gets_an_explanation_instead_of_the_form(client, carol, profile):
    client.force_login(carol)
    page = client.get(reverse("generation_new")).content.decode()
    assert 'id="recipe"' not in page and 'id="generate"' not in page
    assert "You can look, not generate" in page


def test_a_refused_recipe_keeps_the_form_filled(client, bob, profile, content):
    client.force_login(bob)
    data = {
        "profile_0": profile.pk, "cluster_0": "all", "weight_0": "0.35", "strength": "0.4",
        "count": "40", "cohesion": "0.5", "seed": "1234", "backend": "stylize",
        "content_ids": [content.pk],
    }  # fmt: skip
    response = client.post(reverse("generation_new"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "1 to 16" in page
    assert f'value="{profile.pk}" selected' in page
    assert 'name="seed" min="0" value="1234"' in page and 'value="0.35"' in page
    assert f'value="{content.pk}" checked' in page
    assert not Generation.objects.exists()


def test_preview_of_an_uploaded_picture(client, bob, profile):
    client.force_login(bob)
    out = io.BytesIO()
    sample_image("chelsea-the-cat").save(out, "JPEG")
    body = {
        "content_data": "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode(),
        "strength": 0.6,
        "ingredients": [{"profile": profile.pk, "cluster": "all", "weight": 1}],
    }
    url = reverse("generation_preview")
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    body["content_data"] = "data:image/jpeg;base64," + base64.b64encode(b"not a jpeg").decode()
    bad = client.post(url, json.dumps(body), content_type="application/json")
    assert bad.status_code == 400 and "image" in bad.json()["error"].lower()


def test_titles_say_what_was_made_from_what(
    client, carol, alice, profile, content, make_generation
):
    stylized = make_generation(count=1)
    upscale = services.generation_upscale(user=alice, source=content)
    client.force_login(carol)
    listing = client.get(reverse("generation_list")).content.decode()
    assert f"{profile.board.title} v{profile.version} on photo.jpg" in listing
    assert "Upscale ×4 of coffee.jpg" in listing
    assert "Stylize (style transfer onto your images, CPU)</strong>" not in listing
    detail = client.get(upscale.get_absolute_url()).content.decode()
    assert "Upscale ×4 of coffee.jpg" in detail
    assert "seed" not in detail.lower().split("<main", 1)[1].split('id="batch"')[0]
    assert "strength" not in detail.lower().split("<main", 1)[1].split('id="batch"')[0]
    assert f"seed {stylized.seed}" in client.get(stylized.get_absolute_url()).content.decode()


def test_an_upscale_reports_its_tiles(client, bob, alice, content):
    job = services.generation_upscale(user=alice, source=content)
    Generation.objects.filter(pk=job.pk).update(status="running")
    client.force_login(bob)
    url = reverse("generation_status", args=[job.pk])
    assert client.get(url).json()["percent"] == 0
    progress.report(job.pk, 0, 12, 48)  # what the worker's upscale reports, tile by tile
    status = client.get(url).json()
    assert status["percent"] == 25 and status["step"] == "tile 12 of 48"
    assert status["status_label"] == "Running"
