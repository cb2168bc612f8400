"""A full media disk: uploads are refused with a clear message, processing waits and
resumes, a generation stops with the reason; no row or file is half-written.

The media folder is a real 3 MB tmpfs, filled to the last byte, so every write meets
the kernel's own ENOSPC.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from generation import services as generation_services
from generation.models import Generation
from generation.tasks import run_generation
from moodboards import services
from moodboards.models import BoardImage
from moodboards.samples import sample_jpeg
from taste import services as taste_services

pytestmark = [pytest.mark.faults]


@pytest.fixture
def small_disk(settings, tmp_path):
    mount = tmp_path / "media"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            raise RuntimeError(f"CI must run the disk-full tests: {done.stderr.decode()}")
        pytest.skip("mounting a small tmpfs needs root")
    settings.MEDIA_ROOT = mount
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path) -> Path:
    filler = mount / "filler"
    with open(filler, "ab") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    # A last few small writes, so not even a page is left.
    with open(filler, "ab", buffering=0) as fh:
        for size in (4096, 512, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError:
                continue
    return filler


def stored_files(mount: Path) -> list[str]:
    return sorted(str(p.relative_to(mount)) for p in mount.rglob("*") if p.is_file())


def upload(client, board, name: str, data: bytes) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("board_upload", args=[board.pk]),
        {"files": [SimpleUploadedFile(name, data, content_type="image/jpeg")]},
    )
    assert response.status_code == 200, response.content
    return response.json()["results"][0]


def test_an_upload_to_a_full_disk_is_refused_and_leaves_nothing(client, alice, board, small_disk):
    client.force_login(alice)
    filler = fill(small_disk)
    result = upload(client, board, "coffee.jpg", sample_jpeg("coffee"))
    assert result["status"] == "rejected"
    assert "storage is full" in result["message"]
    assert not BoardImage.objects.exists()
    assert stored_files(small_disk) == ["filler"]  # no half-written file, visible or not

    filler.unlink()  # the administrator frees space: the same upload works
    assert upload(client, board, "coffee.jpg", sample_jpeg("coffee"))["status"] == "added"


def test_processing_waits_for_space_and_then_finishes(
    client, alice, board, small_disk, django_capture_on_commit_callbacks
):
    image = services.board_add_image(
        board=board, user=alice, name="coffee.jpg", data=sample_jpeg("coffee")
    )
    image = BoardImage.objects.get(pk=image.image_id)
    filler = fill(small_disk)
    before = stored_files(small_disk)

    with pytest.raises(services.StorageFull):
        services.image_process(image_id=image.pk)
    image.refresh_from_db()
    assert image.status == "processing"
    assert "storage" in image.error
    assert stored_files(small_disk) == before
    client.force_login(alice)
    page = client.get(reverse("board_detail", args=[board.pk])).content.decode()
    assert "Waiting for storage space" in page

    filler.unlink()
    services.image_process(image_id=image.pk)
    image.refresh_from_db()
    assert (image.status, image.error) == ("ready", "")


def test_a_batch_stops_with_the_reason_when_the_disk_fills(alice, board, fill_board, small_disk):
    fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=3)
    analysis = taste_services.analysis_start(board=board, user=alice)
    profile = taste_services.analysis_run(analysis_id=analysis.pk).profile
    content = board.images.first()
    with content.display.open("rb") as fh:
        data = fh.read()
    generation = generation_services.generation_create(
        team=board.team, user=alice,
        ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        contents=[generation_services.ContentSpec("photo.jpg", data, content)],
        strength=1.0, count=2, cohesion=1.0, seed=1,
    )  # fmt: skip
    fill(small_disk)
    before = stored_files(small_disk)

    with pytest.raises(OSError):
        run_generation.run(generation.pk)
    generation = Generation.objects.get(pk=generation.pk)
    assert generation.status == "failed"
    assert "storage is full" in generation.error
    assert not generation.outputs.exclude(file="").exists()
    assert stored_files(small_disk) == before


def test_a_new_generation_on_a_full_disk_is_refused_with_nothing_saved(
    alice, board, fill_board, small_disk
):
    from django.core.exceptions import ValidationError

    fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=3)
    analysis = taste_services.analysis_start(board=board, user=alice)
    profile = taste_services.analysis_run(analysis_id=analysis.pk).profile
    fill(small_disk)
    with pytest.raises(ValidationError, match="storage is full"):
        generation_services.generation_create(
            team=board.team, user=alice,
            ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
            contents=[generation_services.ContentSpec("photo.jpg", sample_jpeg("coffee"), None)],
            strength=1.0, count=2, cohesion=1.0, seed=1,
        )  # fmt: skip
    assert not Generation.objects.exists()
