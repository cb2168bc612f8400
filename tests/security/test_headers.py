"""Finding 9, the smaller ones: no Content-Security-Policy on pages; share links kept
working on archived boards; images served `private, max-age=86400`, so a browser kept
them a day after a link was revoked. (Server-Timing: tests/test_server_timing.py;
confusable usernames: test_consent.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from moodboards import services

ROOT = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("name", ["login", "signup"])
def test_anonymous_pages_carry_a_strict_policy(client, db, name):
    policy = _directives(client.get(reverse(name))["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]


def test_every_page_of_a_member_has_it(client, alice, board, image):
    client.force_login(alice)
    for url in (
        reverse("home"),
        board.get_absolute_url(),
        image.get_absolute_url(),
        reverse("generation_new"),
        reverse("team_detail", args=[board.team_id]),
        reverse("invitations"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _directives(response["Content-Security-Policy"])["script-src"] == ["'self'"], url


def test_served_files_keep_their_sandbox(client, alice, image):
    client.force_login(alice)
    response = client.get(reverse("image_file", args=[image.board_id, image.pk, "thumb"]))
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_api_docs_run_under_the_policy_too(client, alice):
    client.force_login(alice)
    for url in ("/api/docs/", "/api/redoc/"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), f"inline script in {url}"
        assert _directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_inline_script_or_event_handlers():
    """The policy allows no inline script: any would silently stop working."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for rule in (INLINE_SCRIPT, HANDLER):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in rule.finditer(text)]
    assert not found, found


# --- share links -------------------------------------------------------------------------------


def test_archiving_a_board_suspends_its_share_link(client, alice, board, image):
    token = services.board_share_enable(board=board).share_token
    page = reverse("shared_board", args=[token])
    file = reverse("shared_image_file", args=[token, image.pk, "thumb"])
    assert client.get(page).status_code == 200
    services.board_set_archived(board=board, archived=True)
    assert client.get(page).status_code == 404  # was 200
    assert client.get(file).status_code == 404
    services.board_set_archived(board=board, archived=False)
    assert client.get(page).status_code == 200  # suspended, not revoked


def test_share_link_files_are_not_kept_by_the_browser(client, board, image):
    token = services.board_share_enable(board=board).share_token
    response = client.get(reverse("shared_image_file", args=[token, image.pk, "thumb"]))
    assert response["Cache-Control"] == "no-store"  # was: private, max-age=86400
    assert client.get(reverse("shared_board", args=[token]))["Cache-Control"] == "no-store"


def test_members_files_are_kept_a_few_minutes_at_most(client, carol, image):
    client.force_login(carol)
    response = client.get(reverse("image_file", args=[image.board_id, image.pk, "thumb"]))
    max_age = int(re.search(r"max-age=(\d+)", response["Cache-Control"])[1])
    assert "private" in response["Cache-Control"] and max_age <= 300
