"""Uploads as a user meets them: every accepted format, duplicates, and bad input.

Bad input must give a clear per-file message and change nothing else; one bad
file never stops the rest of a batch.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from moodboards.models import BoardImage, ImageStatus
from moodboards.samples import encode, sample_image, sample_jpeg


def _upload(client, board, *files: tuple[str, bytes]):
    payload = {"files": [SimpleUploadedFile(name, data) for name, data in files]}
    response = client.post(reverse("board_upload", args=[board.pk]), payload)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


@pytest.fixture
def editor_client(client, bob, board):
    client.force_login(bob)
    return client


def _zip(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


# --- formats ----------------------------------------------------------------------------


def _heic(image: Image.Image) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(image.convert("RGB"), "HEIF", quality=80)


FORMATS = {
    "photo.jpg": lambda: sample_jpeg("astronaut"),
    "photo.png": lambda: encode(sample_image("chelsea-the-cat"), "PNG"),
    "photo.webp": lambda: encode(sample_image("coffee"), "WEBP", quality=85),
    "photo.tif": lambda: encode(sample_image("rocket"), "TIFF"),
    "photo.heic": lambda: _heic(sample_image("flower")),
    "photo.gif": lambda: encode(sample_image("camera"), "GIF"),
    "logo.png": lambda: encode(sample_image("hubble-deep-field").convert("RGBA"), "PNG"),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_accepted_formats_are_added_and_processed(
    editor_client, board, name, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [result] = _upload(editor_client, board, (name, FORMATS[name]()))
    assert result["status"] == "added", result
    image = BoardImage.objects.get(pk=result["image_id"])
    assert image.status == ImageStatus.READY
    thumb = editor_client.get(reverse("image_file", args=[board.pk, image.pk, "thumb"]))
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as shown:
        assert max(shown.size) <= settings.TASTEBASE_THUMBNAIL_SIZE


def test_animated_gif_keeps_its_first_frame(
    editor_client, board, django_capture_on_commit_callbacks
):
    frames = [sample_image("astronaut").convert("P"), Image.new("P", (512, 512), 0)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    with django_capture_on_commit_callbacks(execute=True):
        [result] = _upload(editor_client, board, ("anim.gif", out.getvalue()))
    image = BoardImage.objects.get(pk=result["image_id"])
    with image.display.open("rb") as fh, Image.open(fh) as shown:
        # The second frame is black; the first is a photo with plenty of light.
        assert np.asarray(shown.convert("L")).mean() > 60


def test_exif_orientation_applied_and_location_stripped(
    editor_client, board, django_capture_on_commit_callbacks
):
    photo = sample_image("coffee")  # 600x400, landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 0.0)  # a location we must not serve
    data = encode(photo, "JPEG", exif=exif, quality=90)
    with django_capture_on_commit_callbacks(execute=True):
        [result] = _upload(editor_client, board, ("phone.jpg", data))
    image = BoardImage.objects.get(pk=result["image_id"])
    assert (image.width, image.height) == (400, 600)
    served = editor_client.get(reverse("image_file", args=[board.pk, image.pk, "display"]))
    body = b"".join(served.streaming_content)
    with Image.open(io.BytesIO(body)) as shown:
        assert shown.size == (400, 600)
        assert 0x8825 not in shown.getexif()
        assert 0x0112 not in shown.getexif()
    # The original is kept untouched, location and all.
    with image.original.open("rb") as fh:
        assert fh.read() == data


def test_zip_of_images_adds_each(editor_client, board):
    data = _zip(
        {
            "refs/a.jpg": sample_jpeg("rocket"),
            "refs/b.png": encode(sample_image("chelsea-the-cat"), "PNG"),
            "__MACOSX/refs/._a.jpg": b"junk",
            "notes.txt": b"hello",
        }
    )
    results = _upload(editor_client, board, ("refs.zip", data))
    by_name = {r["name"]: r["status"] for r in results}
    assert by_name == {
        "refs.zip › refs/a.jpg": "added",
        "refs.zip › refs/b.png": "added",
        "refs.zip › notes.txt": "rejected",
    }
    assert board.images.count() == 2


# --- duplicates --------------------------------------------------------------------------


def test_same_bytes_are_a_duplicate(editor_client, board):
    first, second = _upload(
        editor_client, board, ("a.jpg", sample_jpeg("rocket")), ("b.jpg", sample_jpeg("rocket"))
    )
    assert first["status"] == "added"
    assert second["status"] == "duplicate"
    assert "a.jpg" in second["message"]
    assert board.images.count() == 1


def test_near_identical_picture_is_a_duplicate(editor_client, board):
    original = sample_image("astronaut")
    smaller = original.resize((300, 300), Image.Resampling.LANCZOS)
    first, second = _upload(
        editor_client,
        board,
        ("astronaut.jpg", encode(original, "JPEG", quality=92)),
        ("astronaut-small.webp", encode(smaller, "WEBP", quality=60)),
    )
    assert (first["status"], second["status"]) == ("added", "duplicate")


def test_different_pictures_are_not_duplicates(editor_client, board):
    names = [
        "astronaut",
        "chelsea-the-cat",
        "coffee",
        "rocket",
        "china-temple",
        "flower",
        "camera",
        "moon",
    ]
    results = _upload(editor_client, board, *[(f"{n}.jpg", sample_jpeg(n)) for n in names])
    assert [r["status"] for r in results] == ["added"] * len(names)


def test_the_same_picture_may_sit_on_two_boards(editor_client, board, alice):
    from moodboards import services

    other = services.board_create(team=board.team, user=alice, title="Second")
    assert _upload(editor_client, board, ("a.jpg", sample_jpeg("rocket")))[0]["status"] == "added"
    assert _upload(editor_client, other, ("a.jpg", sample_jpeg("rocket")))[0]["status"] == "added"


# --- bad input -----------------------------------------------------------------------------


def _bomb_png() -> bytes:
    # A tiny file that claims 20000x20000 pixels (400 MP): decoding it would take GBs.
    img = Image.new("1", (20000, 20000))
    return encode(img, "PNG", optimize=True)


def _truncated() -> bytes:
    data = sample_jpeg("astronaut")
    return data[: len(data) // 2]


def _traversal_zip() -> bytes:
    return _zip({"ok.jpg": sample_jpeg("rocket"), "../../etc/evil.jpg": sample_jpeg("coffee")})


def _zip_bomb() -> bytes:
    return _zip({"zeros.jpg": b"\0" * (50 * 1024 * 1024)})


BAD_INPUT = {
    "text renamed .jpg": ("notes.jpg", b"these are my notes, not a picture\n" * 20, "Not an image"),
    "truncated JPEG": ("cut.jpg", _truncated(), "damaged or incomplete"),
    "empty file": ("empty.png", b"", "empty"),
    "SVG": (
        "vector.png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "Not an image",
    ),
    "HTML": ("page.jpg", b"<!doctype html><html><script>alert(1)</script></html>", "Not an image"),
    "decompression bomb": ("huge.png", None, "megapixel limit"),
    "zip with path traversal": ("evil.zip", None, "unsafe paths"),
    "zip bomb": ("bomb.zip", None, "ZIP bomb"),
    "broken zip": ("broken.zip", b"PK\x03\x04" + b"\x00" * 40, "damaged"),
}
LAZY = {
    "decompression bomb": _bomb_png,
    "zip with path traversal": _traversal_zip,
    "zip bomb": _zip_bomb,
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_rejected_clearly_and_the_rest_of_the_batch_lands(
    editor_client, board, image, case
):
    name, data, message = BAD_INPUT[case]
    data = data if data is not None else LAZY[case]()
    before_rows = set(BoardImage.objects.values_list("pk", flat=True))
    before_files = _stored_files()
    results = _upload(editor_client, board, (name, data), ("good.jpg", sample_jpeg("rocket")))
    bad, good = results[0], results[-1]
    assert bad["status"] == "rejected"
    assert message.lower() in bad["message"].lower(), bad
    assert good == {**good, "name": "good.jpg", "status": "added"}
    # Exactly one new row and one new stored original: the good file's.
    new_rows = set(BoardImage.objects.values_list("pk", flat=True)) - before_rows
    assert new_rows == {good["image_id"]}
    new_files = _stored_files() - before_files
    assert len(new_files) == 1 and new_files.pop().startswith("originals/")


def test_oversized_file_is_rejected(editor_client, board, settings):
    settings.TASTEBASE_MAX_UPLOAD_BYTES = 50_000
    big = sample_jpeg("hubble-deep-field", quality=95)
    assert len(big) > 50_000
    [result] = _upload(editor_client, board, ("big.jpg", big))
    assert result["status"] == "rejected"
    assert "limit" in result["message"]
    assert board.images.count() == 0


def test_pixel_limit_is_configurable(editor_client, board, settings):
    settings.TASTEBASE_MAX_IMAGE_PIXELS = 100_000
    [result] = _upload(editor_client, board, ("astronaut.jpg", sample_jpeg("astronaut")))  # 262k px
    assert result["status"] == "rejected" and "megapixel" in result["message"]


def test_upload_without_files_says_so(editor_client, board):
    response = editor_client.post(reverse("board_upload", args=[board.pk]), {})
    assert response.status_code == 400
    assert "No files" in response.json()["error"]


def test_uploaded_file_names_never_become_paths(editor_client, board):
    [result] = _upload(editor_client, board, ("../../../evil.jpg", sample_jpeg("rocket")))
    image = BoardImage.objects.get(pk=result["image_id"])
    assert ".." not in image.original.name
    assert image.original.name.startswith(f"originals/{board.pk}/")


def test_results_are_json_per_file(editor_client, board):
    response = editor_client.post(
        reverse("board_upload", args=[board.pk]),
        {
            "files": [
                SimpleUploadedFile("a.jpg", sample_jpeg("rocket")),
                SimpleUploadedFile("b.txt", b"x"),
            ]
        },
    )
    body = json.loads(response.content)
    assert [r["status"] for r in body["results"]] == ["added", "rejected"]
