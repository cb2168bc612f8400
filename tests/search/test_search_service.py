"""Taste search services: similar images, rank by fit with why, more like a sub-style,
off-taste flags; and that nothing crosses from one user's library to another's."""

from __future__ import annotations

import warnings

import pytest

from taste import search
from taste.search import SearchError

pytestmark = pytest.mark.django_db


def test_similar_finds_the_same_medium_first(library, alice):
    query = library.pixel[0]
    hits = search.similar_to_image(user=alice, image=query, limit=5)
    assert hits and all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert query.pk not in {h.image.pk for h in hits}
    pixel_ids = {i.pk for i in library.pixel}
    top = [h.image.pk for h in hits[:3]]
    assert sum(pk in pixel_ids for pk in top) >= 2, top


def test_similar_threshold_drops_weak_matches(library, alice):
    every = search.similar_to_image(user=alice, image=library.pixel[0], limit=50)
    cut = every[len(every) // 2].score
    strict = search.similar_to_image(user=alice, image=library.pixel[0], limit=50, min_score=cut)
    assert strict and len(strict) < len(every)
    assert all(h.score >= cut for h in strict)


def test_search_never_returns_another_users_image(library, alice, bob, charlie):
    theirs = {i.pk for i in library.paintings}
    for user in (alice, bob):
        for hits in (
            search.similar_to_image(user=user, image=library.pixel[0], limit=200),
            search.more_like_sub_style(user=user, profile=library.profile, cluster=0, limit=200),
        ):
            assert not theirs & {h.image.pk for h in hits}
    # ...while charlie finds his own paintings from them.
    mine = search.similar_to_image(user=charlie, image=library.paintings[0], limit=200)
    assert {h.image.pk for h in mine} <= theirs
    assert mine


def test_rank_puts_the_profiles_medium_first_and_says_why(library):
    candidates = library.line_art + library.pixel
    ranked = search.rank_images(profile=library.profile, images=candidates)
    assert len(ranked) == len(candidates)
    assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)
    assert all(h.agree or h.disagree for h in ranked)
    best_half = {h.image.pk for h in ranked[: len(library.pixel)]}
    assert len(best_half & {i.pk for i in library.pixel}) >= 4


def test_rank_by_one_sub_style(library):
    doc = library.profile.document
    assert len(doc.clusters) >= 1
    ranked = search.rank_images(profile=library.profile, images=library.pixel, cluster=0)
    assert {h.sub_style for h in ranked} == {0}
    with pytest.raises(SearchError):
        search.rank_images(profile=library.profile, images=library.pixel, cluster=99)


def test_more_like_a_sub_style_leaves_out_the_profiles_own_images(library, alice):
    hits = search.more_like_sub_style(user=alice, profile=library.profile, cluster=0, limit=20)
    own = {i.pk for i in library.pixel + library.photos}
    assert hits and not own & {h.image.pk for h in hits}


def test_off_taste_flags_a_stranger_on_the_board(
    library, alice, django_capture_on_commit_callbacks
):
    from moodboards import services

    from .conftest import REAL

    path = sorted((REAL / "line_art").iterdir())[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.board_add_image(
            board=library.board, user=alice, name=path.name, data=path.read_bytes()
        )
    flagged = search.off_taste(profile=library.profile, board=library.board)
    assert path.name in [h.image.original_name for h in flagged]
    assert len(flagged) < 6


def test_bad_limits_are_refused(library, alice):
    with pytest.raises(SearchError):
        search.similar_to_image(user=alice, image=library.pixel[0], limit=0)
    with pytest.raises(SearchError):
        search.similar_to_image(user=alice, image=library.pixel[0], min_score=2)


def test_an_unreadable_image_is_left_out_and_not_retried(
    library, alice, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from moodboards import services

    from .conftest import REAL

    path = sorted((REAL / "flat_vector").iterdir())[0]
    with django_capture_on_commit_callbacks(execute=True):
        result = services.board_add_image(
            board=library.lines, user=alice, name=path.name, data=path.read_bytes()
        )
    image = search.BoardImage.objects.get(pk=result.image_id)
    image.original.storage.delete(image.original.name)
    image.display.storage.delete(image.display.name)
    hits = search.similar_to_image(user=alice, image=library.pixel[0], limit=50)
    assert image.pk not in {h.image.pk for h in hits}
    assert cache.get(f"tb-unreadable:{image.sha256}") == 1
    assert search.unindexed(alice).filter(pk=image.pk).exists()


def test_a_boards_own_images_are_not_their_own_neighbours(library):
    # Ranked against its own profile, each image is compared with the others: the scores
    # spread out instead of every member scoring near 1.
    ranked = search.rank_images(profile=library.profile, images=library.pixel + library.photos)
    assert min(h.score for h in ranked) < 0.9
    assert len({round(h.score, 2) for h in ranked}) > 3


def _mean_nearest_by_definition(vectors, members, k):
    """The fit's rule written out on the full difference array (fine at test sizes)."""
    import numpy as np

    d = np.linalg.norm(vectors[:, None, :] - members[None, :, :], axis=2)
    self_match = d < 1e-6
    alone = self_match.all(axis=1)
    d = np.where(self_match, np.inf, d)
    nearest = np.sort(d, axis=1)[:, : min(k, max(len(members) - 1, 1))]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows with no neighbour
        mean = np.nanmean(np.where(np.isinf(nearest), np.nan, nearest), axis=1)
    return np.where(alone | np.isnan(mean), 0.0, mean)


@pytest.mark.parametrize("n_members", [1, 2, 5, 300])
def test_fit_is_chunked_and_equals_its_definition(monkeypatch, n_members):
    """Ranking a 10,000-image board against a big sub-style compares it in chunks (the
    whole difference array took 23 GB and the server was killed); the answer must be
    the rule's: mean distance to the nearest members, the image itself left out."""
    import numpy as np

    rng = np.random.default_rng(n_members)
    members = rng.normal(0, 1, (n_members, 20)).astype(np.float32)
    vectors = np.vstack([members[:50], rng.normal(0, 1, (70, 20)).astype(np.float32)])
    monkeypatch.setattr(search, "FIT_CHUNK", 16)
    got = search._mean_nearest(vectors, members)
    want = _mean_nearest_by_definition(vectors, members, search.FIT_NEIGHBOURS)
    assert np.allclose(got, want, atol=1e-5)
    if n_members == 1:
        assert got[0] == 0.0  # a one-image sub-style fits its image
