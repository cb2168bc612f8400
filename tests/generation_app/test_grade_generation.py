"""The grade backend as users meet it: auto picks it for photographic boards and says
why, outputs keep the picture, show what the taste added, and batches vary."""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from generation import rendering
from generation.models import Backend
from taste.models import TasteProfile


@pytest.fixture(scope="module")
def profile(module_profile):
    return module_profile


def _pixels(output) -> np.ndarray:
    with output.file.open("rb") as fh:
        return np.asarray(Image.open(fh).convert("RGB"), dtype=np.float32)


@contextmanager
def _medium(profile, medium: str):
    """The profile as if its board had been measured as ``medium`` (restored after).
    Which medium a board is measured as is the taste engine's job, tested on real images
    (tests/taste); the board here is rendered looks, which it reads as part painting."""
    original = profile.data
    TasteProfile.objects.filter(pk=profile.pk).update(data={**original, "medium": medium})
    profile.refresh_from_db()
    profile.__dict__.pop("document", None)  # the typed document is cached per instance
    try:
        yield
    finally:
        TasteProfile.objects.filter(pk=profile.pk).update(data=original)
        profile.refresh_from_db()
        profile.__dict__.pop("document", None)


def test_auto_grades_a_photographic_board_and_says_why(make_generation, content, profile):
    with _medium(profile, "photograph"):
        generation = make_generation(backend="auto", cohesion=1.0, count=1)
    assert generation.backend == Backend.GRADE
    assert generation.backend_reason.startswith("auto: the profile's medium is photograph")
    done = rendering.generation_run(generation_id=generation.pk)
    output = done.outputs.get()
    assert (output.width, output.height) == (content.width, content.height)
    assert output.delta_e > 3  # the taste visibly changed the colours
    assert output.fidelity > output.content_fidelity  # and toward the profile's grade


def test_auto_stylizes_a_painted_board(make_generation, profile):
    with _medium(profile, "digital painting"):
        generation = make_generation(backend="auto", count=1)
    assert generation.backend == Backend.STYLIZE
    assert "digital painting" in generation.backend_reason


def test_strength_zero_returns_the_picture(make_generation, content):
    done = rendering.generation_run(
        generation_id=make_generation(backend="grade", strength=0.0, count=1).pk
    )
    output = done.outputs.get()
    assert output.delta_e < 1.5


def test_a_diverse_grade_batch_differs_and_the_sliders_are_recorded(make_generation):
    generation = make_generation(
        backend="grade", cohesion=0.0, count=3, colour=0.5, tone=0.75, texture=0.0
    )
    assert (generation.colour, generation.tone, generation.texture) == (0.5, 0.75, 0.0)
    shots = [
        _pixels(o) for o in rendering.generation_run(generation_id=generation.pk).outputs.all()
    ]
    assert len(shots) == 3
    assert min(np.abs(shots[i] - shots[j]).mean() for i in range(3) for j in range(i + 1, 3)) > 1.0


def test_the_page_says_which_backend_ran_and_what_the_taste_added(
    client, carol, make_generation, profile
):
    with _medium(profile, "photograph"):
        generation = make_generation(backend="auto", count=1)
    done = rendering.generation_run(generation_id=generation.pk)
    client.force_login(carol)
    page = client.get(done.get_absolute_url()).content.decode()
    assert "Why Grade: auto: the profile" in page
    assert "The taste changed colours by ΔE" in page


def test_grade_preview_follows_the_sliders(client, bob, profile, content):
    client.force_login(bob)

    def preview(**extra):
        body = {"content": content.pk, "strength": 1.0, "backend": "grade",
                "ingredients": [{"profile": profile.pk, "cluster": "all", "weight": 1}], **extra}  # fmt: skip
        return client.post(
            reverse("generation_preview"), json.dumps(body), content_type="application/json"
        )

    full, none = preview(), preview(colour=0, tone=0)
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    assert full.content != none.content
    bad = preview(colour=3)
    assert bad.status_code == 400 and "Colour" in bad.json()["error"]
