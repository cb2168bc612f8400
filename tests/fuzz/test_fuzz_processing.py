"""The worker's task on fuzzed images that passed inspection at upload.

Property: processing leaves the image READY (with a served copy and a thumbnail that
decode) or FAILED with a message for the user; never PROCESSING, never an exception
out of the task (which would leave the tile spinning until the task's retries ran out).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given

from moodboards import services
from moodboards.models import BoardImage, ImageStatus
from tests.fuzz import strategies as fz


@fz.fuzz_settings(120)
@given(data=fz.image_inputs())
def test_the_task_finishes_every_image_that_passed_inspection(team, alice, data):
    # A fresh board per example: mutated copies of one photo are near-duplicates.
    board = services.board_create(team=team, user=alice, title="Fuzz")
    result = services.board_add_image(board=board, user=alice, name="fuzzed", data=data)
    # Only images that passed inspection reach the worker (the rest is the upload
    # properties' job). assume() makes every counted example one that did, and Hypothesis
    # fails as Unsatisfiable if none ever does, so this can't pass vacuously.
    assume(result.status == "added")
    with fz.hang_guard():
        fz.check_processing(result.image_id)


def _accepted_fuzz(count: int, seed: int) -> list[bytes]:
    """Fuzzed images that pass inspection, from a fixed seed (the same files every run)."""
    from django.conf import settings

    from moodboards import imaging

    chooser = fz.RandomChooser(random.Random(seed))
    found: list[bytes] = [fz.seeds()["tiff-16bit-be"], fz.seeds()["avif"]]
    for _ in range(2000):
        if len(found) >= count:
            break
        data = fz.image_input(chooser)
        try:
            imaging.inspect_image(data, max_pixels=settings.TASTEBASE_MAX_IMAGE_PIXELS)
        except imaging.ImageRejected:
            continue
        found.append(data)
    return found


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_finishes_every_fuzzed_image(start_worker, team, alice, wait_until_ready):
    start_worker("default")
    ids = []
    for index, data in enumerate(_accepted_fuzz(14, seed=20261122)):
        # One board each: the point is the worker, not duplicate detection.
        board = services.board_create(team=team, user=alice, title=f"Fuzz {index}")
        result = services.board_add_image(board=board, user=alice, name=f"f{index}", data=data)
        assert result.status == "added", result
        ids.append(result.image_id)
    wait_until_ready(ids, timeout=180)
    images = list(BoardImage.objects.filter(pk__in=ids))
    assert {i.status for i in images} <= {ImageStatus.READY, ImageStatus.FAILED}
    for image in images:
        if image.status == ImageStatus.FAILED:
            assert image.error.strip(), image
        else:
            assert image.display and image.thumbnail, image
    assert sum(i.status == ImageStatus.READY for i in images) >= len(ids) // 2
