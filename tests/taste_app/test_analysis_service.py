"""Analyze Board as a service: versions, cache, idempotency and the edge cases."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from moodboards import services as board_services
from moodboards.models import BoardImage
from taste import services
from taste.encoders import MagentaDescriptorEncoder
from taste.models import Analysis, ImageEmbedding, TasteProfile


def _analyze(board, user):
    analysis = services.analysis_start(board=board, user=user)
    return services.analysis_run(analysis_id=analysis.pk)


def test_a_mixed_board_becomes_a_profile_with_a_sub_style_per_look(board, alice, fill_board):
    images = fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=8)
    analysis = _analyze(board, alice)
    assert analysis.status == "done", analysis.error
    profile = analysis.profile
    assert (profile.version, profile.image_count) == (1, len(images))
    clusters = profile.data["clusters"]
    assert len(clusters) == 2
    # Every sub-style holds one look, whatever the subjects.
    look_of = {str(i.pk): i.original_name.split("-")[0] for i in images}
    for cluster in clusters:
        assert len({look_of[k] for k in cluster["members"]}) == 1
    mono = next(c for c in clusters if look_of[c["members"][0]] == "mono_contrast")
    assert {"monochrome", "black and white"} & {k["term"] for k in mono["keywords"]}


def test_a_monochrome_board_says_so_and_avoids_saturated_colour(board, alice, fill_board):
    fill_board(board, alice, looks=("mono_contrast",), per_look=8)
    data = _analyze(board, alice).profile.data
    terms = {k["term"] for k in data["keywords"]}
    assert {"monochrome", "black and white"} & terms
    avoids = " ".join(a["term"] for a in data["avoids"])
    assert any(word in avoids for word in ("saturated", "vivid", "colourful", "neon", "rainbow"))
    assert len(data["clusters"]) == 1


def test_same_board_twice_gives_one_version(board, alice, fill_board):
    fill_board(board, alice, per_look=4)
    first = _analyze(board, alice)
    second = _analyze(board, alice)
    assert first.profile_id == second.profile_id
    assert TasteProfile.objects.filter(board=board).count() == 1


def test_reanalysis_embeds_only_new_images(board, alice, fill_board, monkeypatch):
    fill_board(board, alice, looks=("warm_film",), per_look=10, seed=1)
    _analyze(board, alice)
    calls: list[int] = []
    original = MagentaDescriptorEncoder.embed_parts

    def counting(self, images):
        calls.append(len(images))
        return original(self, images)

    monkeypatch.setattr(MagentaDescriptorEncoder, "embed_parts", counting)
    fill_board(board, alice, looks=("teal_orange",), per_look=5, seed=2)
    analysis = _analyze(board, alice)
    assert sum(calls) == 5
    assert analysis.profile.version == 2
    changes = analysis.profile.changes
    assert len(changes["added"]) == 5 and changes["removed"] == []
    assert ImageEmbedding.objects.count() == 15


def test_versions_are_immutable_and_numbered(board, alice, fill_board):
    images = fill_board(board, alice, per_look=4)
    v1 = _analyze(board, alice).profile
    snapshot = dict(v1.data)
    board_services.image_delete(image=images[0])
    v2 = _analyze(board, alice).profile
    v1.refresh_from_db()
    assert (v1.version, v2.version) == (1, 2)
    assert v1.data == snapshot
    assert v2.changes["removed"] == [images[0].original_name]


def test_empty_board_is_refused_with_a_message(board, alice):
    with pytest.raises(ValidationError, match="empty"):
        services.analysis_start(board=board, user=alice)
    assert not Analysis.objects.exists()


def test_one_image_gives_a_one_cluster_profile(board, alice, add_image):
    add_image(board, alice, "coffee")
    analysis = _analyze(board, alice)
    assert analysis.status == "done", analysis.error
    assert len(analysis.profile.data["clusters"]) == 1
    assert analysis.profile.data["summary"]


def test_missing_file_is_left_out_with_a_warning(board, alice, fill_board):
    images = fill_board(board, alice, per_look=3)
    gone = images[1]
    gone.display.storage.delete(gone.display.name)
    analysis = _analyze(board, alice)
    assert analysis.status == "done"
    assert analysis.profile.image_count == len(images) - 1
    assert any(gone.original_name in w and "missing" in w for w in analysis.warnings)
    assert analysis.profile.changes["skipped"]


def test_all_files_missing_fails_clearly_and_writes_no_profile(board, alice, fill_board):
    for image in fill_board(board, alice, per_look=2):
        image.display.storage.delete(image.display.name)
    analysis = _analyze(board, alice)
    assert analysis.status == "failed"
    assert "could be read" in analysis.error
    assert not TasteProfile.objects.exists()


def test_two_clicks_share_one_run(board, alice, fill_board):
    fill_board(board, alice, per_look=2)
    first = services.analysis_start(board=board, user=alice)
    second = services.analysis_start(board=board, user=alice)
    assert first.pk == second.pk


def test_finished_run_is_not_run_again(board, alice, fill_board, monkeypatch):
    fill_board(board, alice, per_look=2)
    analysis = _analyze(board, alice)
    monkeypatch.setattr(services, "build_profile", lambda *a, **k: pytest.fail("ran twice"))
    again = services.analysis_run(analysis_id=analysis.pk)
    assert again.status == "done" and again.profile_id == analysis.profile_id


def test_a_crash_mid_build_leaves_no_profile_and_a_retry_completes(
    board, alice, fill_board, monkeypatch
):
    fill_board(board, alice, per_look=3)
    analysis = services.analysis_start(board=board, user=alice)
    real = services.build_profile

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")  # not an Exception: like a SIGKILL, nothing catches it

    monkeypatch.setattr(services, "build_profile", crash)
    with pytest.raises(SystemExit):
        services.analysis_run(analysis_id=analysis.pk)
    assert not TasteProfile.objects.exists()
    assert Analysis.objects.get(pk=analysis.pk).status == "running"
    monkeypatch.setattr(services, "build_profile", real)
    done = services.analysis_run(analysis_id=analysis.pk)  # the redelivered task
    assert done.status == "done"
    assert TasteProfile.objects.count() == 1


def test_images_still_processing_are_not_analysed(board, alice):
    from moodboards.samples import sample_jpeg

    board_services.board_add_image(
        board=board, user=alice, name="a.jpg", data=sample_jpeg("rocket")
    )
    assert BoardImage.objects.get().status == "processing"
    with pytest.raises(ValidationError, match="still being processed"):
        services.analysis_start(board=board, user=alice)


def test_progress_names_every_stage_and_stays_below_done_until_saved(
    board, alice, fill_board, monkeypatch
):
    from taste.models import Analysis

    fill_board(board, alice, looks=("warm_film",), per_look=4)
    seen: list[tuple[str, int, int, int]] = []
    original = services._progress

    def record(analysis_id, stage, done, total):
        original(analysis_id, stage, done, total)
        seen.append((stage, done, total, Analysis.objects.get(pk=analysis_id).percent))

    monkeypatch.setattr(services, "_progress", record)
    analysis = _analyze(board, alice)
    assert analysis.status == "done"
    stages = [s for s, *_ in seen]
    assert stages[0] == "embedding" and stages[-1] == "grade"
    assert {"clustering", "summary"} <= set(stages) and "done" not in stages
    assert max(p for *_, p in seen) < 100
    assert [p for *_, p in seen] == sorted(p for *_, p in seen)  # never goes back
