"""The thumbnail pipeline through a real broker and a real worker process."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from moodboards import services
from moodboards.models import BoardImage, ImageStatus
from moodboards.samples import sample_jpeg

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_uploaded_images_get_thumbnails_from_the_worker(
    client, bob, board, celery_worker_process, wait_until_ready
):
    client.force_login(bob)
    files = [
        SimpleUploadedFile(f"{n}.jpg", sample_jpeg(n)) for n in ("rocket", "astronaut", "coffee")
    ]
    results = client.post(reverse("board_upload", args=[board.pk]), {"files": files}).json()[
        "results"
    ]
    ids = [r["image_id"] for r in results]
    assert [r["status"] for r in results] == ["added"] * 3
    wait_until_ready(ids)
    for image in BoardImage.objects.filter(pk__in=ids):
        assert image.status == ImageStatus.READY, image.error
        assert (
            client.get(reverse("image_file", args=[board.pk, image.pk, "thumb"])).status_code == 200
        )


def test_work_a_killed_worker_left_behind_is_finished_on_restart(
    board, alice, settings, wait_for, request
):
    # An image whose task message was lost (the worker died holding it): only the
    # database knows it is unfinished. A new worker must pick it up.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from config.celery import app

    app.conf.task_always_eager = False
    lost = BoardImage.objects.create(
        board=board,
        original=SimpleUploadedFile("x.jpg", sample_jpeg("chelsea-the-cat")),
        original_name="chelsea.jpg",
        content_type="image/jpeg",
        byte_size=1,
        width=451,
        height=300,
        sha256="0" * 64,
        phash="0" * 16,
    )
    request.getfixturevalue("celery_worker_process")
    wait_for(
        lambda: BoardImage.objects.get(pk=lost.pk).status == ImageStatus.READY,
        timeout=60,
        what="the restarted worker to finish the lost image",
    )


def test_processing_twice_is_harmless(board, alice, django_capture_on_commit_callbacks):
    result = services.board_add_image(
        board=board, user=alice, name="r.jpg", data=sample_jpeg("rocket")
    )
    first = services.image_process(image_id=result.image_id)
    BoardImage.objects.filter(pk=first.pk).update(status=ImageStatus.PROCESSING)
    second = services.image_process(image_id=result.image_id)
    assert second.status == ImageStatus.READY
    assert second.thumbnail.storage.exists(second.thumbnail.name)
    # The first attempt's files were replaced, not left behind as orphans.
    if first.thumbnail.name != second.thumbnail.name:
        assert not first.thumbnail.storage.exists(first.thumbnail.name)
