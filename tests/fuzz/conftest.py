"""Fuzz fixtures: the media folder to audit, and what the API fuzzing needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture
def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def api_ids(team, board, image, alice, make_user, fill_board) -> dict[str, int]:
    """Real ids for the placeholders in fuzzed requests, so they get past the 404s:
    alice's team and private space, a board with a processed image, a viewer's
    membership to change, and a taste profile to generate from."""
    from moodboards import services as board_services
    from moodboards.models import Role
    from taste import services as taste_services

    dave = make_user("dave")
    make_user("erin")  # not in the team yet: an invite can succeed
    membership = board_services.membership_add(team=team, user=dave, role=Role.VIEWER)
    looks = board_services.board_create(team=team, user=alice, title="Looks")
    fill_board(looks, alice, looks=("mono_contrast", "warm_film"), per_look=3)
    analysis = taste_services.analysis_start(board=looks, user=alice)
    profile = taste_services.analysis_run(analysis_id=analysis.pk).profile
    assert dave.pk and profile is not None
    return {
        "team": team.pk,
        "personal": board_services.personal_team_for(alice).pk,
        "board": board.pk,
        "image": image.pk,
        "membership": membership.pk,
        "profile": profile.pk,
        "empty_board": board_services.board_create(team=team, user=alice, title="Empty").pk,
    }


@pytest.fixture
def alice_api(alice, settings):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from api import services as token_services

    # Rate limits have their own test; here they would only cut the fuzzing short.
    settings.TASTEBASE_API_RATES = {"token": "1000000/min", "uploads": "1000000/min"}
    cache.clear()
    client = APIClient()
    secret = token_services.token_create(user=alice, name="fuzz")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    yield client
    cache.clear()
