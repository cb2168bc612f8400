"""Leases on background work (config/leases.py): what a sweep re-sends, and what a
duplicate delivery does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config import leases
from moodboards.models import BoardImage
from moodboards.tasks import process_image


@pytest.fixture
def waiting_image(board, alice):
    """An uploaded image whose processing task was never sent (the broker was down),
    committed a while ago."""
    from moodboards import services
    from moodboards.samples import sample_jpeg

    result = services.board_add_image(
        board=board, user=alice, name="coffee.jpg", data=sample_jpeg("coffee")
    )
    BoardImage.objects.filter(pk=result.image_id).update(
        created=timezone.now() - timedelta(minutes=1), enqueued_at=None
    )
    return BoardImage.objects.get(pk=result.image_id)


def test_a_sweep_sends_work_that_never_reached_the_broker(waiting_image):
    assert leases.sweep()["image"] == 1
    waiting_image.refresh_from_db()
    assert waiting_image.status == "ready"  # the eager task ran on the sweep's send
    assert leases.sweep()["image"] == 0


def test_a_sweep_leaves_fresh_work_alone(waiting_image):
    BoardImage.objects.filter(pk=waiting_image.pk).update(enqueued_at=timezone.now())
    assert leases.sweep()["image"] == 0
    BoardImage.objects.filter(pk=waiting_image.pk).update(
        enqueued_at=timezone.now() - timedelta(minutes=5), heartbeat_at=timezone.now()
    )
    assert leases.sweep()["image"] == 0  # a live worker holds it
    assert BoardImage.objects.get(pk=waiting_image.pk).status == "processing"


def test_a_sweep_resends_work_whose_worker_stopped_renewing(waiting_image, settings):
    stale = timezone.now() - timedelta(seconds=settings.TASTEBASE_LEASE_SECONDS + 1)
    BoardImage.objects.filter(pk=waiting_image.pk).update(
        enqueued_at=stale, heartbeat_at=stale, worker="dead@host"
    )
    assert leases.sweep()["image"] == 1
    waiting_image.refresh_from_db()
    assert waiting_image.status == "ready"
    assert waiting_image.worker not in ("", "dead@host")  # taken over by the new run


def test_a_duplicate_delivery_of_held_work_is_dropped(waiting_image):
    with leases.hold(BoardImage, waiting_image.pk, worker="a@host", renew=False) as held:
        assert held
        process_image.run(waiting_image.pk)  # a second delivery, while a@host works on it
        assert BoardImage.objects.get(pk=waiting_image.pk).status == "processing"
        with leases.hold(BoardImage, waiting_image.pk, worker="b@host", renew=False) as other:
            assert not other
    # Released: the next delivery runs.
    process_image.run(waiting_image.pk)
    assert BoardImage.objects.get(pk=waiting_image.pk).status == "ready"


def test_finished_work_is_never_held_or_resent(image):
    assert image.status == "ready"
    with leases.hold(BoardImage, image.pk, worker="a@host", renew=False) as held:
        assert not held
    BoardImage.objects.filter(pk=image.pk).update(enqueued_at=None, heartbeat_at=None)
    assert leases.sweep()["image"] == 0


@pytest.mark.django_db(transaction=True)
def test_an_upload_survives_the_database_failing_right_after_its_commit(board, alice):
    """The on_commit dispatch can meet a database that went away just after the
    commit. The upload was saved: it must keep its file and say "added", and the
    sweeper sends its task later (enqueued_at stays NULL)."""
    from django.db import OperationalError, connection

    from moodboards import services
    from moodboards.samples import sample_jpeg

    def fail_dispatch_bookkeeping(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and "enqueued_at" in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_dispatch_bookkeeping):
        result = services.board_add_image(
            board=board, user=alice, name="coffee.jpg", data=sample_jpeg("coffee")
        )
    assert result.status == "added"
    image = BoardImage.objects.get(pk=result.image_id)
    assert image.enqueued_at is None and image.status == "processing"
    with image.original.open("rb") as fh:
        assert fh.read() == sample_jpeg("coffee")
