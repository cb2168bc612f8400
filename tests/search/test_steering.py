"""Steering makes a new version that records what changed; generation's blend and
prompts follow it; profile codes name a version without bypassing access."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from generation.services import IngredientSpec, blended_taste, recipe_prompts
from taste.access import profile_by_code_for_user, profile_by_ref_for_user
from taste.models import ImageEmbedding, TasteProfile
from taste.steering import profile_steer, steering_of

pytestmark = pytest.mark.django_db


def _style(image) -> np.ndarray:
    row = ImageEmbedding.objects.get(sha256=image.sha256, encoder_id=image_encoder())
    return np.asarray(row.extra["style"])


def image_encoder() -> str:
    from taste.encoders import DEFAULT_ENCODER_ID

    return DEFAULT_ENCODER_ID


def test_excluding_images_makes_a_new_version_that_says_so(library, alice):
    base = library.profile
    out = [str(i.pk) for i in library.photos[:2]]
    steered = profile_steer(profile=base, user=alice, exclude=out)
    assert steered.version == base.version + 1
    assert not set(out) & set(steered.images)
    assert steered.image_count == base.image_count - 2
    assert sorted(steered.changes["excluded"]) == sorted(
        i.original_name for i in library.photos[:2]
    )
    # Same steering again: the same version, not a new one.
    assert profile_steer(profile=base, user=alice, exclude=out).pk == steered.pk
    base.refresh_from_db()
    assert base.version == 1 and set(out) <= set(base.images)  # versions are immutable


def test_a_negative_board_pushes_the_blend_away(library, alice, charlie):
    base = library.profile
    steered = profile_steer(profile=base, user=alice, negative_boards=[library.lines])
    negatives = np.stack([_style(i) for i in library.line_art]).mean(0)
    before = blended_taste([IngredientSpec(profile=base, cluster=None, weight=1.0)])
    after = blended_taste([IngredientSpec(profile=steered, cluster=None, weight=1.0)])
    assert np.linalg.norm(after - negatives) > np.linalg.norm(before - negatives) * 1.1
    assert len(steering_of(steered)["negatives"]) == len(library.line_art)
    assert steered.changes["negative"]


def test_a_negative_weight_turns_an_image_into_a_negative_reference(library, alice):
    base = library.profile
    photo = library.photos[0]
    steered = profile_steer(profile=base, user=alice, weights={str(photo.pk): -2})
    assert str(photo.pk) not in steered.images
    spec = steering_of(steered)
    assert [n["sha256"] for n in spec["negatives"]] == [photo.sha256]
    assert spec["negatives"][0]["weight"] == -2


def test_a_positive_weight_pulls_its_sub_style_toward_the_image(library, alice):
    base = library.profile
    cluster = max(base.document.clusters, key=lambda c: len(c.members))
    key = cluster.members[0]
    steered = profile_steer(profile=base, user=alice, weights={key: 2})
    target = _style(next(i for i in library.pixel + library.photos if str(i.pk) == key))
    again = next(c for c in steered.document.clusters if key in c.members)
    assert np.linalg.norm(np.asarray(again.style_vector) - target) < np.linalg.norm(
        np.asarray(cluster.style_vector) - target
    )
    assert steered.changes["weights"]


def test_pinned_and_banned_keywords_reach_the_prompt(library, alice):
    base = library.profile
    held = base.document.keywords[0].term
    steered = profile_steer(profile=base, user=alice, pin=["film grain"], ban=[held])
    terms, avoids = steered.document.prompt_terms()
    assert "film grain" in terms and held not in terms and held in avoids
    prompt, negative = recipe_prompts(
        [IngredientSpec(profile=steered, cluster=None, weight=1.0)], "", ""
    )
    assert "film grain" in prompt and held in negative
    # Steering is cumulative: unpin later, the ban stays.
    later = profile_steer(profile=steered, user=alice, unpin=["film grain"])
    assert "film grain" not in later.document.prompt_terms()[0]
    assert held in later.document.prompt_terms()[1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weights": {"999999": 1}},
        {"weights": {"KEY": 3}},
        {"weights": {"KEY": float("nan")}},
        {"pin": ["not a word we know"]},
        {"pin": ["film grain"], "ban": ["film grain"]},
        {"exclude": "ALL"},
    ],
)
def test_bad_steering_is_refused_and_saves_nothing(library, alice, kwargs):
    base = library.profile
    key = next(iter(base.images))
    if "weights" in kwargs:
        kwargs = {"weights": {k.replace("KEY", key): w for k, w in kwargs["weights"].items()}}
    if kwargs.get("exclude") == "ALL":
        kwargs = {"exclude": list(base.images)}
    with pytest.raises(ValidationError):
        profile_steer(profile=base, user=alice, **kwargs)
    assert TasteProfile.objects.filter(board=base.board).count() == 1


def test_profile_codes_are_short_and_access_checked(library, alice, carol, charlie):
    code = library.profile.code
    assert code.startswith("tb-") and len(code) == 9
    assert profile_by_code_for_user(carol, code).pk == library.profile.pk  # a viewer
    assert profile_by_ref_for_user(alice, code.upper()).pk == library.profile.pk
    assert profile_by_ref_for_user(alice, library.profile.pk).pk == library.profile.pk
    for ref in (code, library.profile.pk):
        with pytest.raises(Http404):
            profile_by_ref_for_user(charlie, ref)
    for ref in ("tb-zzzzzz", "99999999999999999999999", "-1", "abc"):
        with pytest.raises(Http404):
            profile_by_ref_for_user(alice, ref)


def test_a_steered_version_carries_the_grade_of_its_images(library, alice):
    # A steered version is a new immutable version: its grade is baked too, so the
    # grade backend and the LUT exports keep working on it.
    base = library.profile
    steered = profile_steer(profile=base, user=alice, exclude=[str(library.photos[0].pk)])
    assert base.data["grade"]["board"] and steered.data["grade"]["board"]
    assert steered.data["grade"] != base.data["grade"]  # its own images, its own grade
