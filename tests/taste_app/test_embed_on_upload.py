"""Uploads are embedded as they are processed, so Analyze Board and search find them
measured (TASTEBASE_EMBED_ON_UPLOAD; on in production, off by default in the tests)."""

from __future__ import annotations

import pytest

from taste import services
from taste.encoders import DEFAULT_ENCODER_ID, MagentaDescriptorEncoder
from taste.models import ImageEmbedding


@pytest.fixture
def embed_on_upload(settings):
    settings.TASTEBASE_EMBED_ON_UPLOAD = True


def test_a_processed_upload_is_embedded_and_the_analysis_embeds_nothing(
    board, alice, fill_board, embed_on_upload, monkeypatch
):
    images = fill_board(board, alice, looks=("warm_film", "mono_contrast"), per_look=3)
    cached = set(
        ImageEmbedding.objects.filter(encoder_id=DEFAULT_ENCODER_ID).values_list(
            "sha256", flat=True
        )
    )
    assert cached == {i.sha256 for i in images}

    calls: list[int] = []
    original = MagentaDescriptorEncoder.embed_parts
    monkeypatch.setattr(
        MagentaDescriptorEncoder,
        "embed_parts",
        lambda self, ims: calls.append(len(ims)) or original(self, ims),
    )
    analysis = services.analysis_start(board=board, user=alice, encoder_id=DEFAULT_ENCODER_ID)
    analysis = services.analysis_run(analysis_id=analysis.pk)
    assert analysis.status == "done" and analysis.profile.image_count == len(images)
    assert calls == []


def test_without_the_setting_uploads_wait_for_the_analysis(board, alice, fill_board):
    fill_board(board, alice, looks=("warm_film",), per_look=2)
    assert not ImageEmbedding.objects.exists()


def test_a_broker_outage_does_not_fail_the_upload(
    board, alice, fill_board, embed_on_upload, monkeypatch
):
    from taste import tasks

    def down(*args, **kwargs):
        raise OSError("broker down")

    monkeypatch.setattr(tasks.embed_image, "delay", down)
    images = fill_board(board, alice, looks=("warm_film",), per_look=2)
    assert len(images) == 2 and all(i.status == "ready" for i in images)
    assert not ImageEmbedding.objects.exists()
    # The analysis embeds what the upload could not.
    analysis = services.analysis_run(
        analysis_id=services.analysis_start(
            board=board, user=alice, encoder_id=DEFAULT_ENCODER_ID
        ).pk
    )
    assert analysis.status == "done" and ImageEmbedding.objects.count() == 2


def test_embedding_a_deleted_or_unprocessed_image_is_a_no_op(board, alice, fill_board):
    assert services.image_embed(image_id=10**9) is False
