"""Finding 7, reruns skip access: a user removed from a team could still rerun (page and
API) a generation that used that team's profile and images.

A rerun goes through generation_create, which checks every profile and picture against
the user's teams *now*; a picture's copy remembers the team it came from, so deleting
the board image afterwards doesn't lift the check.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from generation import services as generation_services
from generation.models import Generation
from moodboards import services


@pytest.fixture
def bobs_run(bob, team, profile, image):
    """Bob, an editor of alice's team, ran its profile on its image in his own space."""
    return generation_services.generation_create(
        user=bob,
        team=services.personal_team_for(bob),
        ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        contents=[image],
        count=1,
    )


def _remove(team, user):
    services.membership_remove(membership=team.memberships.get(user=user))


def test_a_removed_member_cannot_rerun_from_the_page(client, bob, team, bobs_run):
    _remove(team, bob)
    client.force_login(bob)
    response = client.post(reverse("generation_rerun", args=[bobs_run.pk]))
    assert response.status_code == 403
    assert Generation.objects.count() == 1


def test_a_removed_member_cannot_rerun_through_the_api(bob, team, bobs_run):
    _remove(team, bob)
    api = APIClient()
    api.force_authenticate(bob)
    response = api.post(f"/api/generations/{bobs_run.pk}/rerun/")
    assert response.status_code == 403
    assert "can no longer see" in response.json()["error"]["message"]
    assert Generation.objects.count() == 1


def test_deleting_the_board_image_does_not_lift_the_check(bob, team, image):
    # An upscale of the team's image in bob's own space: no profile to check, only the picture.
    run = generation_services.generation_create(
        user=bob, team=services.personal_team_for(bob), ingredients=[], backend="upscale",
        contents=[image],
    )  # fmt: skip
    services.image_delete(image=image)  # the run keeps its copy, without a board image
    _remove(team, bob)
    api = APIClient()
    api.force_authenticate(bob)
    response = api.post(f"/api/generations/{run.pk}/rerun/")
    assert response.status_code == 403  # was 202: the copy had forgotten where it came from
    assert Generation.objects.count() == 1


def test_a_member_still_in_the_team_can_rerun(client, bob, bobs_run):
    client.force_login(bob)
    response = client.post(reverse("generation_rerun", args=[bobs_run.pk]))
    assert response.status_code == 302
    assert Generation.objects.count() == 2
