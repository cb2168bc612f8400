"""The board page at scale: a 500-image board costs the same queries as a 5-image one
and still shows every thumbnail (speed itself is measured by bench/load.py)."""

from __future__ import annotations

import re
import secrets

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from moodboards.models import BoardImage, ImageStatus

SAMPLES = ("coffee", "astronaut", "rocket", "chelsea-the-cat", "flower")


@pytest.fixture
def small_board(board, alice, add_image) -> list[BoardImage]:
    """Five real photos through the upload path: their thumbnails exist on disk."""
    return [add_image(board, alice, name) for name in SAMPLES]


def grow_to(board, seeds: list[BoardImage], total: int) -> None:
    """Add rows up to `total` images, each pointing at a seed's stored files (making 495
    more real uploads would test the upload path, not the page)."""
    rows = []
    for i in range(board.images.count(), total):
        seed = seeds[i % len(seeds)]
        image = BoardImage(
            board=board, original=seed.original.name, display=seed.display.name,
            thumbnail=seed.thumbnail.name, status=ImageStatus.READY,
            original_name=f"photo-{i:03d}.jpg", content_type="image/jpeg",
            byte_size=seed.byte_size, width=seed.width, height=seed.height,
            sha256=secrets.token_hex(32), phash=seed.phash, position=i,
            caption="Late light on the quay" if i % 7 == 0 else "",
        )  # fmt: skip
        rows.append(image)
    BoardImage.objects.bulk_create(rows)


def page_queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode()


def thumb_urls(html: str, board) -> list[str]:
    prefix = re.escape(f"/boards/{board.pk}/images/")
    return re.findall(rf'<img src="({prefix}\d+/thumb/)"', html)


@pytest.mark.parametrize("who", ["alice", "carol"])  # owner (edit controls) and viewer
def test_board_page_queries_do_not_grow_with_images(client, request, board, small_board, who):
    client.force_login(request.getfixturevalue(who))
    url = board.get_absolute_url()
    few, _ = page_queries(client, url)

    grow_to(board, small_board, 500)
    many, html = page_queries(client, url)

    assert many == few, f"{few} queries for 5 images but {many} for 500: a query per image"
    expected = [
        reverse("image_file", args=[board.pk, pk, "thumb"])
        for pk in board.images.order_by("position", "id").values_list("pk", flat=True)
    ]
    assert thumb_urls(html, board) == expected  # all 500, in board order
    assert html.count('loading="lazy"') == 500
    assert html.count('class="tile-remove"') == (500 if who == "alice" else 0)


def test_grid_refresh_queries_do_not_grow_with_images(client, alice, board, small_board):
    client.force_login(alice)
    url = reverse("board_grid", args=[board.pk])
    few, _ = page_queries(client, url)

    grow_to(board, small_board, 500)
    many, html = page_queries(client, url)

    assert many == few
    assert len(thumb_urls(html, board)) == 500


def test_thumbnails_on_a_big_board_are_served(client, carol, board, small_board):
    grow_to(board, small_board, 500)
    client.force_login(carol)
    urls = thumb_urls(client.get(board.get_absolute_url()).content.decode(), board)
    for url in (urls[0], urls[250], urls[-1]):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"


def test_tiles_escape_names_captions_and_errors(client, alice, board, small_board):
    evil = '"><script>alert(1)</script>.jpg'
    ready, failed, waiting = small_board[:3]
    BoardImage.objects.filter(pk=ready.pk).update(original_name=evil, caption="")
    BoardImage.objects.filter(pk=failed.pk).update(
        status=ImageStatus.FAILED, error="Not an image <b>at all</b>"
    )
    BoardImage.objects.filter(pk=waiting.pk).update(
        status=ImageStatus.PROCESSING, error="Waiting for a worker & retrying"
    )
    client.force_login(alice)
    html = client.get(board.get_absolute_url()).content.decode()

    assert "<script>alert(1)" not in html
    assert 'alt="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.jpg"' in html
    assert 'aria-label="Remove &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.jpg"' in html
    assert "Could not process: Not an image &lt;b&gt;at all&lt;/b&gt;" in html
    assert '<small class="waiting">Waiting for a worker &amp; retrying</small>' in html
    # Tiles that are not ready show no thumbnail.
    assert reverse("image_file", args=[board.pk, failed.pk, "thumb"]) not in html
    assert reverse("image_file", args=[board.pk, waiting.pk, "thumb"]) not in html


def test_long_captions_are_shortened_on_tiles(client, carol, board, small_board):
    image = small_board[0]
    BoardImage.objects.filter(pk=image.pk).update(caption="Warm grain " * 20)
    client.force_login(carol)
    html = client.get(board.get_absolute_url()).content.decode()
    shown = re.search(r"<figcaption>(.*?)</figcaption>", html).group(1)
    assert len(shown) == 80
    assert shown.endswith("…")


def test_upload_queries_do_not_grow_with_the_board(client, alice, board, small_board):
    """The duplicate check compares with every image on the board: in one query."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from moodboards.samples import sample_jpeg

    client.force_login(alice)
    url = reverse("board_upload", args=[board.pk])

    def upload(sample: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                url, {"files": [SimpleUploadedFile(f"{sample}.jpg", sample_jpeg(sample))]}
            )
        assert [r["status"] for r in response.json()["results"]] == ["added"]
        return len(queries.captured_queries)

    few = upload("camera")
    grow_to(board, small_board, 500)
    many = upload("moon")

    assert many == few, f"{few} queries on a 7-image board but {many} on a 500-image one"
