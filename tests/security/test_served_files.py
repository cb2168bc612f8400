"""Stored files are never served as a page.

Every URL of the project is fetched as the board owner (and shared-link visitor):
any response that is not one of our own HTML pages or JSON documents is a file,
and must carry a type that can't run script, nosniff, a CSP sandbox and a
Content-Disposition. A new file route is covered the day it is added.

Uploads that are HTML or SVG in disguise are refused at upload:
tests/moodboards/test_uploads.py::test_bad_input_is_rejected_clearly_and_the_rest_of_the_batch_lands
("SVG", "HTML" cases); the API path is checked below.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from moodboards.models import BoardImage
from moodboards.samples import sample_jpeg

# Types a browser shows without running anything, and never sniffs with nosniff.
SAFE_FILE_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/plain",
    "application/octet-stream",
    # Made by the app, always as attachments: the board's ZIP and the taste card's PDF
    # (Pillow draws it from our own rendering; no stored user bytes).
    "application/zip",
    "application/pdf",
}
# Our own documents (rendered by templates / serializers, never stored user bytes).
DOCUMENT_TYPES = ("text/html", "application/json", "application/vnd.oai.openapi")
# The file routes of today: the walk must find every one of them (it finds new ones too).
KNOWN_FILE_ROUTES = {
    "boards/<int:board_id>/images/<int:image_id>/<kind:kind>/",
    "s/<str:token>/images/<int:image_id>/<kind:kind>/",
    "generations/<int:generation_id>/outputs/<int:index>/",
    "boards/<int:board_id>/profiles/<int:version>/export/<str:name>",
    "boards/<int:board_id>/profiles/<int:version>/card/<str:name>",
    "boards/<int:board_id>/download.zip",
    "api/boards/<int:board_id>/images/<int:image_id>/<str:kind>/",
    "api/generations/<int:generation_id>/outputs/<int:index>/",
    "api/boards/<int:board_id>/profiles/<int:version>/exports/<str:name>",
}
EXPORT_NAMES = ["prompt.txt", "palette.ase", "palette.gpl", "look.cube", "lut-preview.jpg"]
CARD_NAMES = ["taste-card.png", "taste-card.pdf"]


def _variants(route: str, url: str) -> list[str]:
    """Every rendition and export a file route serves, inline and as a download."""
    urls = [url]
    if "<kind:kind>" in route or "<str:kind>" in route:
        urls = [url.replace("/thumb/", f"/{kind}/") for kind in ("thumb", "display")]
    if "<str:name>" in route:
        names = CARD_NAMES if "/card/" in route else EXPORT_NAMES
        urls = [url.replace("look.cube", name) for name in names]
    return [u for base in urls for u in (base, base + "?download=1")]


def _problems(url: str, response) -> list[str]:
    content_type = response["Content-Type"].split(";")[0].strip()
    problems = []
    if content_type not in SAFE_FILE_TYPES:
        problems.append(f"Content-Type {response['Content-Type']!r}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    csp = response.get("Content-Security-Policy", "")
    if "sandbox" not in csp or "default-src 'none'" not in csp:
        problems.append(f"CSP {csp!r} is not a sandbox")
    disposition = response.get("Content-Disposition", "")
    if not disposition.startswith(("inline;", "attachment;")) or "filename=" not in disposition:
        problems.append(f"Content-Disposition {disposition!r}")
    if "download=1" in url and not disposition.startswith("attachment;"):
        problems.append("a download is not an attachment")
    return [f"{url}: {p}" for p in problems]


def _file_responses(client, project_urls):
    for route, url in project_urls:
        if route.startswith("admin/"):
            continue
        for variant in _variants(route, url):
            response = client.get(variant)
            if response.status_code != 200:
                continue
            if response["Content-Type"].startswith(DOCUMENT_TYPES):
                continue
            yield route, variant, response


def test_every_file_the_app_serves_is_safe_to_open(project_urls, alice):
    client = Client()
    client.force_login(alice)
    found, problems = set(), []
    for route, url, response in _file_responses(client, project_urls):
        found.add(route)
        problems += _problems(url, response)
    assert found >= KNOWN_FILE_ROUTES, f"file routes not reached: {KNOWN_FILE_ROUTES - found}"
    assert not problems, "\n".join(problems)


def test_api_files_fetched_with_a_token_are_safe_too(project_urls, world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world['api_secret']}")
    api_urls = [(r, u) for r, u in project_urls if r.startswith("api/")]
    found, problems = set(), []
    for route, url, response in _file_responses(api, api_urls):
        found.add(route)
        problems += _problems(url, response)
    assert found >= {r for r in KNOWN_FILE_ROUTES if r.startswith("api/")}
    assert not problems, "\n".join(problems)


def test_the_original_upload_is_never_served(client, alice, world):
    client.force_login(alice)
    board, image = world["board_id"], world["image_id"]
    for url in (
        f"/boards/{board}/images/{image}/original/",
        f"/api/boards/{board}/images/{image}/original/",
        f"/s/{world['token']}/images/{image}/original/",
    ):
        assert client.get(url).status_code == 404, url


def test_an_image_with_html_appended_is_served_without_it(
    client, bob, board, django_capture_on_commit_callbacks
):
    # A real JPEG with a page glued to its end (a "polyglot") passes as an image; what
    # is served is re-encoded from the pixels, so the page is not in it.
    payload = b"<html><body><script>alert(document.cookie)</script></body></html>"
    client.force_login(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/boards/{board.pk}/upload/",
            {"files": [SimpleUploadedFile("poly.jpg", sample_jpeg("rocket") + payload)]},
        )
    result = response.json()["results"][0]
    assert result["status"] == "added", result
    image = BoardImage.objects.get(pk=result["image_id"])
    with image.original.open("rb") as fh:
        assert payload in fh.read()  # kept as uploaded, never served (test above)
    for kind in ("display", "thumb"):
        response = client.get(f"/boards/{board.pk}/images/{image.pk}/{kind}/")
        assert response.status_code == 200, kind
        served = b"".join(response.streaming_content)
        assert served[:3] == b"\xff\xd8\xff" or served[:4] == b"RIFF", kind
        assert b"<script" not in served, kind


def test_html_and_svg_disguised_as_images_are_refused_by_the_api(world, bob):
    from api import services as token_services

    _, secret = token_services.token_create(user=bob, name="uploader")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    before = BoardImage.objects.count()
    response = api.post(
        f"/api/boards/{world['board_id']}/images/",
        {
            "files": [
                SimpleUploadedFile(
                    "vector.png",
                    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                ),
                SimpleUploadedFile("page.jpg", b"<!doctype html><script>alert(1)</script>"),
            ]
        },
        format="multipart",
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"], results
    assert all("not an image" in r["message"].lower() for r in results), results
    assert BoardImage.objects.count() == before
