"""Generate pages and endpoints across the access matrix, and what they show."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from generation import rendering
from generation.models import Generation

PERSONAS = {"alice": 3, "bob": 2, "carol": 1, "charlie": None, "anonymous": None}


@pytest.fixture(scope="module")
def profile(module_profile):
    """The two-look profile, built once for this module (tests/conftest.py)."""
    return module_profile


@pytest.fixture
def done_generation(make_generation):
    return rendering.generation_run(generation_id=make_generation(count=2).pk)


def _urls(g):
    return [
        (reverse("generation_detail", args=[g.pk]), "get", 1),
        (reverse("generation_status", args=[g.pk]), "get", 1),
        (reverse("output_file", args=[g.pk, 0]), "get", 1),
        (reverse("generation_rerun", args=[g.pk]), "post", 2),
        (reverse("output_upscale", args=[g.pk, 0]), "post", 2),
    ]


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_generation_urls_follow_the_team_roles(client, persona, done_generation, request):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    for url, method, need in _urls(done_generation):
        response = getattr(client, method)(url)
        rank = PERSONAS[persona]
        if persona == "anonymous":
            assert response.status_code == 302 and "/login/" in response["Location"], url
        elif rank is None:
            assert response.status_code == 404, url
        elif rank < need:
            assert response.status_code == 403, url
        else:
            assert response.status_code in (200, 302), url


def _recipe(profile, content, **extra):
    data = {
        "profile_0": profile.pk, "cluster_0": "all", "weight_0": "1",
        "strength": "0.8", "count": "2", "cohesion": "0.9", "seed": "5", "backend": "stylize",
        "content_ids": [content.pk],
    }  # fmt: skip
    data.update(extra)
    return data


def test_editor_generates_from_the_form(client, bob, profile, content):
    client.force_login(bob)
    page = client.get(reverse("generation_new") + f"?profile={profile.pk}").content.decode()
    assert f'value="{profile.pk}" selected' in page
    response = client.post(reverse("generation_new"), _recipe(profile, content))
    generation = Generation.objects.get()
    assert response["Location"] == generation.get_absolute_url()
    assert (generation.count, generation.seed, generation.created_by) == (2, 5, bob)
    assert generation.ingredients.get().profile == profile
    assert generation.contents.get().board_image == content


def test_viewer_cannot_generate(client, carol, profile, content):
    client.force_login(carol)
    response = client.post(reverse("generation_new"), _recipe(profile, content))
    assert response.status_code == 403
    assert not Generation.objects.exists()


def test_outsider_cannot_use_someone_elses_profile_or_image(client, charlie, profile, content):
    client.force_login(charlie)
    assert client.post(reverse("generation_new"), _recipe(profile, content)).status_code == 404
    assert client.get(reverse("generation_new") + f"?profile={profile.pk}").status_code == 404
    assert not Generation.objects.exists()


def test_bad_recipe_shows_the_reason(client, bob, profile, content):
    client.force_login(bob)
    response = client.post(
        reverse("generation_new"), _recipe(profile, content, count="40"), follow=True
    )
    assert "1 to 16" in response.content.decode()
    assert not Generation.objects.exists()


def test_detail_shows_outputs_with_fidelity(client, carol, done_generation):
    client.force_login(carol)
    page = client.get(done_generation.get_absolute_url()).content.decode()
    for output in done_generation.outputs.all():
        assert reverse("output_file", args=[done_generation.pk, output.index]) in page
        assert f"{output.fidelity:.2f}" in page
    assert "Style fidelity" in page
    assert "Run again" not in page  # carol is a viewer


def test_status_lists_outputs(client, bob, done_generation):
    client.force_login(bob)
    status = client.get(reverse("generation_status", args=[done_generation.pk])).json()
    assert status["status"] == "done" and status["percent"] == 100
    assert [o["index"] for o in status["outputs"]] == [0, 1]


def test_output_download(client, carol, done_generation):
    client.force_login(carol)
    response = client.get(reverse("output_file", args=[done_generation.pk, 0]) + "?download=1")
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_rerun_makes_a_new_generation_with_the_same_recipe(client, bob, done_generation):
    client.force_login(bob)
    client.post(reverse("generation_rerun", args=[done_generation.pk]))
    again = Generation.objects.exclude(pk=done_generation.pk).get()
    assert (again.seed, again.strength, again.count) == (
        done_generation.seed,
        done_generation.strength,
        2,
    )


def test_tweak_prefills_the_form(client, bob, done_generation):
    client.force_login(bob)
    page = client.get(reverse("generation_new") + f"?from={done_generation.pk}").content.decode()
    assert f'name="seed" min="0" value="{done_generation.seed}"' in page


def test_preview_returns_a_small_jpeg(client, bob, profile, content):
    client.force_login(bob)
    body = {
        "content": content.pk,
        "strength": 0.7,
        "ingredients": [{"profile": profile.pk, "cluster": "all", "weight": 1}],
    }
    response = client.post(
        reverse("generation_preview"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    from io import BytesIO

    from PIL import Image

    assert max(Image.open(BytesIO(response.content)).size) <= 384


def test_preview_checks_access(client, charlie, profile, content):
    client.force_login(charlie)
    body = {
        "content": content.pk,
        "strength": 0.7,
        "ingredients": [{"profile": profile.pk, "weight": 1}],
    }
    response = client.post(
        reverse("generation_preview"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 404


def test_preview_of_an_image_too_small_to_stylize_says_so(
    client, bob, board, profile, django_capture_on_commit_callbacks
):
    from moodboards import services as board_services
    from moodboards.samples import encode, sample_image

    with django_capture_on_commit_callbacks(execute=True):
        tiny = board_services.board_add_image(
            board=board, user=bob, name="icon.png", data=encode(sample_image("coffee").resize((24, 16)), "PNG")
        )  # fmt: skip
    client.force_login(bob)
    body = {"content": tiny.image_id, "strength": 0.7, "backend": "stylize",
            "ingredients": [{"profile": profile.pk, "cluster": "all", "weight": 1}]}  # fmt: skip
    response = client.post(
        reverse("generation_preview"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert "too small to stylize" in response.json()["error"]


def test_preview_with_garbage_is_400(client, bob):
    client.force_login(bob)
    response = client.post(reverse("generation_preview"), b"{nope", content_type="application/json")
    assert response.status_code == 400


def test_form_says_what_is_installed_and_leaves_instructions_to_the_status_page(
    client, bob, profile, make_user
):
    client.force_login(bob)
    page = client.get(reverse("generation_new")).content.decode()
    # A designer is told what is not set up here, but not how an operator installs it.
    assert "Not set up on this server: Diffusion" in page
    assert "TASTEBASE_DIFFUSION_MODEL_DIR" not in page and "register_weights" not in page
    assert 'name="prompt"' in page and 'id="prompt-section" hidden' in page
    assert client.get(reverse("server_status")).status_code == 403

    admin = make_user("admin")
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client.force_login(admin)
    status = client.get(reverse("server_status")).content.decode()
    assert "TASTEBASE_DIFFUSION_MODEL_DIR" in status or "register_weights" in status
    assert "OpenCLIP" in status and "Magenta style" in status


@pytest.mark.parametrize(("persona", "expected"), [("bob", 302), ("carol", 403), ("charlie", 404)])
def test_upscale_a_board_image(client, board, image, persona, expected, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.post(reverse("board_image_upscale", args=[board.pk, image.pk]))
    assert response.status_code == expected
    if expected == 302:
        job = Generation.objects.get()
        assert job.backend == "upscale" and job.contents.get().board_image == image
        assert response["Location"] == job.get_absolute_url()
    else:
        assert not Generation.objects.exists()


def test_a_board_whose_profile_a_generation_used_is_kept_with_the_reason(
    client, alice, profile, done_generation
):
    from moodboards.models import Board

    client.force_login(alice)
    response = client.post(reverse("board_delete", args=[profile.board_id]), follow=True)
    assert "1 generation uses one of its taste profiles" in response.content.decode()
    assert Board.objects.filter(pk=profile.board_id).exists()
    assert profile.board.profiles.exists() and Generation.objects.filter(pk=done_generation.pk)
    # The API says the same, as a 400.
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    answer = api.delete(f"/api/boards/{profile.board_id}/")
    assert answer.status_code == 400
    assert "archive the board" in answer.json()["error"]["message"]
