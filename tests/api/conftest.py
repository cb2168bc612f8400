"""API fixtures: a token per persona, and the objects every endpoint needs.

Personas as in tests/conftest.py: alice owns team "Studio", bob edits, carol views,
charlie is an outsider. "revoked" is alice with a revoked token.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from PIL import Image
from rest_framework.test import APIClient

from api import services as token_services
from generation import rendering as generation_rendering
from generation import services as generation_services
from moodboards import services as board_services
from moodboards.models import Role
from taste import services as taste_services

PERSONAS = ["anonymous", "revoked", "charlie", "carol", "bob", "alice"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Throttle counters live in the (locmem) cache: no test inherits another's budget.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token_for(db):
    def make(user, name: str = "script") -> str:
        return token_services.token_create(user=user, name=name)[1]

    return make


@pytest.fixture
def api_as(request, token_for):
    """An APIClient for a persona: a Bearer token, a revoked token, or nothing."""

    def make(persona: str) -> APIClient:
        client = APIClient()
        if persona == "anonymous":
            return client
        if persona == "revoked":
            user = request.getfixturevalue("alice")
            token, secret = token_services.token_create(user=user, name="old")
            token_services.token_revoke(token=token)
        else:
            secret = token_for(request.getfixturevalue(persona))
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def alice_api(api_as, team):
    return api_as("alice")


@pytest.fixture
def dave(make_user, team):
    """A fourth member (viewer), for member endpoints that change someone."""
    user = make_user("dave")
    board_services.membership_add(team=team, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def small_profile(board, alice, fill_board):
    fill_board(board, alice, looks=("mono_contrast", "warm_film"), per_look=3)
    analysis = taste_services.analysis_start(board=board, user=alice)
    return taste_services.analysis_run(analysis_id=analysis.pk).profile


class QuickRenderer:
    """Stands in for the style network where a test is about access, not pixels."""

    def __init__(self, generation) -> None:
        self.generation = generation

    def render(self, index: int):
        return Image.new("RGB", (32, 24), (200, 120, 40)), {
            "fidelity": 0.7,
            "content_fidelity": 0.4,
        }


@pytest.fixture
def finished_generation(small_profile, image, alice):
    """A one-image stylize run of the team board's profile, rendered by a stub."""
    with image.original.open("rb") as fh:
        data = fh.read()
    generation = generation_services.generation_create(
        team=small_profile.board.team,
        user=alice,
        ingredients=[generation_services.IngredientSpec(small_profile, None, 1.0)],
        contents=[generation_services.ContentSpec("coffee.jpg", data, image)],
        count=1,
    )
    return generation_rendering.generation_run(
        generation_id=generation.pk, renderer_factory=QuickRenderer
    )
