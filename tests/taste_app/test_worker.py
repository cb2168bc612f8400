"""Analyze Board through a real worker, including a worker killed mid-analysis."""

from __future__ import annotations

import signal

import pytest
from django.urls import reverse

from taste.models import Analysis, ImageEmbedding, TasteProfile

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_analyze_board_through_the_worker(
    client, bob, board, fill_board, celery_worker_process, wait_for, wait_until_ready
):
    wait_until_ready([i.pk for i in fill_board(board, bob, per_look=4)])
    client.force_login(bob)
    client.post(reverse("analysis_start", args=[board.pk]))
    analysis = Analysis.objects.get()
    wait_for(
        lambda: Analysis.objects.get(pk=analysis.pk).status == "done",
        timeout=120,
        what="the analysis",
    )
    assert TasteProfile.objects.get().image_count == 8


def test_a_worker_killed_mid_analysis_leaves_nothing_half_written(
    bob, board, fill_board, start_worker, wait_for, wait_until_ready
):
    from taste import services

    images = fill_board(
        board, bob, looks=("mono_contrast", "warm_film", "teal_orange", "pastel"), per_look=16
    )
    worker = start_worker(name="doomed")
    wait_until_ready([i.pk for i in images], timeout=120)
    analysis = services.analysis_start(board=board, user=bob)

    def mid_embedding() -> bool:
        a = Analysis.objects.get(pk=analysis.pk)
        return a.stage == "embedding" and 0 < a.done < a.total

    wait_for(
        mid_embedding, timeout=120, what="the analysis to be half-way through embedding", poll=0.01
    )
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    state = Analysis.objects.get(pk=analysis.pk)
    assert state.status == "running"
    assert not TasteProfile.objects.exists()
    cached = ImageEmbedding.objects.count()
    assert 0 < cached < len(images)

    start_worker(name="rescuer")
    wait_for(
        lambda: Analysis.objects.get(pk=analysis.pk).status == "done",
        timeout=180,
        what="the redelivered analysis",
    )
    assert TasteProfile.objects.count() == 1
    assert TasteProfile.objects.get().image_count == len(images)
    assert ImageEmbedding.objects.count() == len(images)
