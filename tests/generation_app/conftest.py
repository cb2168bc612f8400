from __future__ import annotations

import pytest

from generation import services


@pytest.fixture
def content(board, alice, profile, add_image):
    """A plain colour photo (added after the analysis) to apply the taste to."""
    return add_image(board, alice, "coffee")


@pytest.fixture
def make_generation(profile, content, alice):
    def make(**recipe):
        with content.display.open("rb") as fh:
            data = fh.read()
        # Stylize, nearly cohesive: a fully cohesive batch on one picture is one image
        # (more would be identical copies); the grade backend has its own tests.
        defaults = {"strength": 1.0, "count": 2, "cohesion": 0.9, "seed": 3, "backend": "stylize"}
        defaults.update(recipe)
        return services.generation_create(
            team=profile.board.team,
            user=alice,
            ingredients=defaults.pop("ingredients", [services.IngredientSpec(profile, None, 1.0)]),
            contents=defaults.pop("contents", [services.ContentSpec("photo.jpg", data, content)]),
            **defaults,
        )

    return make
