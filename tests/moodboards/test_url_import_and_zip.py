"""Add by URL (a server-side fetch that refuses private addresses) and the board as a ZIP.

The only server these tests reach is one they start on 127.0.0.1; every other address
is refused before any connection is made."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from moodboards import url_import

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
PHOTO = (REAL / "photograph" / "t-loc2.jpg").read_bytes()


@pytest.fixture
def local_server():
    """127.0.0.1: /photo.jpg, /notes.jpg (text), /big.jpg (declares 50 MB), /hop (a
    redirect to /photo.jpg), /loop (a redirect to itself)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/photo.jpg":
                self._send(PHOTO, "image/jpeg")
            elif self.path == "/notes.jpg":
                self._send(b"not a picture at all", "image/jpeg")
            elif self.path == "/big.jpg":
                self.send_response(200)
                self.send_header("Content-Length", str(50 * 1024 * 1024))
                self.end_headers()
            elif self.path in ("/hop", "/loop"):
                self.send_response(302)
                self.send_header("Location", "/photo.jpg" if self.path == "/hop" else "/loop")
                self.end_headers()
            else:
                self.send_error(404)

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _import(client, board, url, **extra):
    return client.post(
        reverse("board_import_url", args=[board.pk]),
        {"url": url},
        HTTP_ACCEPT="application/json",
        **extra,
    )


@pytest.fixture
def allow_local(settings):
    settings.TASTEBASE_URL_IMPORT_ALLOW_PRIVATE = True


def test_an_image_by_url_is_added_like_an_upload(
    client, bob, board, local_server, allow_local, django_capture_on_commit_callbacks
):
    client.force_login(bob)
    with django_capture_on_commit_callbacks(execute=True):  # the thumbnail task
        [result] = _import(client, board, f"{local_server}/photo.jpg").json()["results"]
    assert result["status"] == "added"
    image = board.images.get()
    assert image.original_name == "photo.jpg" and image.status == "ready"
    # The same bytes again: a duplicate, as for an upload.
    [again] = _import(client, board, f"{local_server}/hop").json()["results"]
    assert again["status"] == "duplicate"
    assert board.images.count() == 1


def test_loopback_is_refused_unless_the_setting_allows_it(client, bob, board, local_server):
    client.force_login(bob)
    [result] = _import(client, board, f"{local_server}/photo.jpg").json()["results"]
    assert result["status"] == "rejected"
    assert "loopback" in result["message"]
    assert not board.images.exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.7/photo.jpg", "private network"),
        ("http://192.168.1.20/photo.jpg", "private network"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/photo.jpg", "loopback"),
        ("http://[::ffff:127.0.0.1]/photo.jpg", "loopback"),
        ("http://0.0.0.0/photo.jpg", "reserved"),
        ("ftp://127.0.0.1/photo.jpg", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("http://user:secret@127.0.0.1/photo.jpg", "user name or password"),
        ("not a url", "Only http:// and https://"),
    ],
)
def test_addresses_a_server_must_not_reach_are_refused(client, bob, board, url, reason):
    client.force_login(bob)
    [result] = _import(client, board, url).json()["results"]
    assert result["status"] == "rejected" and reason in result["message"], result
    assert not board.images.exists()


def test_bad_files_too_large_and_redirect_loops_say_why(
    client, bob, board, local_server, allow_local, settings
):
    settings.TASTEBASE_MAX_UPLOAD_BYTES = 1024 * 1024
    client.force_login(bob)
    messages = {
        path: _import(client, board, local_server + path).json()["results"][0]["message"]
        for path in ("/notes.jpg", "/big.jpg", "/loop", "/nothing.jpg")
    }
    assert "Not an image" in messages["/notes.jpg"]
    assert "larger than the 1 MB limit" in messages["/big.jpg"]
    assert "redirected too many times" in messages["/loop"]
    assert "404" in messages["/nothing.jpg"]
    assert not board.images.exists()


def test_a_redirect_to_a_private_address_is_refused_at_the_hop(monkeypatch, local_server):
    """Every hop is checked: a page that redirects inward gets no further. (The first
    hop stands in for a public server: the check lets its address through once.)"""
    original, calls = url_import._refused_address, []

    def first_hop_is_public(ip):
        calls.append(str(ip))
        return None if len(calls) == 1 else original(ip)

    monkeypatch.setattr(url_import, "_refused_address", first_hop_is_public)
    limits = url_import.ImportLimits(max_bytes=1024 * 1024, timeout=5, allow_private=False)
    with pytest.raises(url_import.ImportRefused, match="loopback"):
        url_import.fetch_image(f"{local_server}/hop", limits)
    assert len(calls) == 2  # the redirect's target was checked before any connection


def test_viewers_cannot_import_and_the_form_works_without_script(
    client, bob, carol, board, local_server, allow_local
):
    client.force_login(carol)
    assert _import(client, board, f"{local_server}/photo.jpg").status_code == 403
    client.force_login(bob)
    response = client.post(
        reverse("board_import_url", args=[board.pk]),
        {"url": f"{local_server}/photo.jpg"},
        follow=True,
    )
    assert "Added “photo.jpg”" in response.content.decode()
    assert client.post(reverse("board_import_url", args=[board.pk]), {"url": ""}).status_code == 302


def test_the_board_as_a_zip(client, carol, board, add_image, alice):
    first = add_image(board, alice, "coffee")
    second = add_image(board, alice, "rocket", name="refs.zip › night/rocket.jpg")
    from moodboards import services

    services.image_update(image=second, caption="Launch pad at night")
    services.board_reorder(board=board, image_ids=[second.pk, first.pk])
    client.force_login(carol)  # viewers may download
    response = client.get(reverse("board_download", args=[board.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="Autumn-campaign.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == ["001-rocket.jpg", "002-coffee.jpg", "board.txt"]
    with second.display.open("rb") as fh:
        assert archive.read("001-rocket.jpg") == fh.read()  # the served copy, no GPS
    notes = archive.read("board.txt").decode()
    assert "Autumn campaign" in notes and "Launch pad at night" in notes


def test_outsiders_get_no_zip(client, charlie, board, image):
    client.force_login(charlie)
    assert client.get(reverse("board_download", args=[board.pk])).status_code == 404
