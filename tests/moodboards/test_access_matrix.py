"""Every board and image URL against every persona.

Owner/editor/viewer rules, 404 for people who can't see the board (the same
answer as for a board that does not exist), 403 for a viewer who tries to write,
and the login page for anonymous visitors.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from moodboards.models import Board, BoardImage

VIEW, EDIT, OWN = "viewer", "editor", "owner"

# (url name, method, role needed, uses image, POST data)
BOARD_ACTIONS = [
    ("board_detail", "get", VIEW, False, None),
    ("board_grid", "get", VIEW, False, None),
    ("image_detail", "get", VIEW, True, None),
    ("image_file:thumb", "get", VIEW, True, None),
    ("image_file:display", "get", VIEW, True, None),
    ("board_update", "post", EDIT, False, {"title": "Renamed", "description": ""}),
    ("board_archive", "post", EDIT, False, {"archived": "1"}),
    ("board_upload", "post", EDIT, False, "files"),
    ("board_reorder", "post", EDIT, False, "json"),
    ("image_update", "post", EDIT, True, {"caption": "hello"}),
    ("image_delete", "post", EDIT, True, {}),
    ("board_delete", "get", OWN, False, None),
    ("board_delete", "post", OWN, False, {}),
    ("board_share", "post", OWN, False, {"action": "enable"}),
]
RANK = {VIEW: 1, EDIT: 2, OWN: 3}
PERSONAS = {"alice": OWN, "bob": EDIT, "carol": VIEW, "charlie": None, "anonymous": None}


# One team, board and photo for the whole module (tests/conftest.py: module_studio); each
# test's writes are rolled back before the next.
@pytest.fixture
def team(studio_team):
    return studio_team


@pytest.fixture
def board(studio_board):
    return studio_board


@pytest.fixture
def image(studio_image):
    return studio_image


def _url(
    name: str, board: Board, image: BoardImage, uses_image: bool, board_id: int | None = None
) -> str:
    board_id = board.pk if board_id is None else board_id
    if name.startswith("image_file:"):
        return reverse("image_file", args=[board_id, image.pk, name.split(":")[1]])
    if uses_image:
        return reverse(name, args=[board_id, image.pk])
    return reverse(name, args=[board_id])


def _send(client, method: str, url: str, data, image: BoardImage):
    if data == "files":
        from django.core.files.uploadedfile import SimpleUploadedFile

        from moodboards.samples import sample_jpeg

        return client.post(
            url, {"files": [SimpleUploadedFile("rocket.jpg", sample_jpeg("rocket"))]}
        )
    if data == "json":
        return client.post(url, f'{{"order": [{image.pk}]}}', content_type="application/json")
    return getattr(client, method)(url, data or {})


@pytest.mark.parametrize("persona", list(PERSONAS))
@pytest.mark.parametrize("action", BOARD_ACTIONS, ids=lambda a: f"{a[1]}-{a[0]}")
def test_access_matrix(client, persona, action, board, image, request):
    name, method, needed, uses_image, data = action
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    response = _send(client, method, _url(name, board, image, uses_image), data, image)
    role = PERSONAS[persona]
    if persona == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif role is None:
        assert response.status_code == 404
    elif RANK[role] < RANK[needed]:
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302), response.content[:300]


@pytest.mark.parametrize("action", BOARD_ACTIONS, ids=lambda a: f"{a[1]}-{a[0]}")
def test_outsider_cannot_tell_a_hidden_board_from_a_missing_one(
    client, action, board, image, charlie
):
    name, method, _, uses_image, data = action
    client.force_login(charlie)
    hidden = _send(client, method, _url(name, board, image, uses_image), data, image)
    missing = _send(
        client, method, _url(name, board, image, uses_image, board_id=board.pk + 999), data, image
    )
    assert hidden.status_code == missing.status_code == 404
    assert Board.objects.filter(pk=board.pk).exists()


def test_image_of_another_board_is_404_even_for_a_member(client, alice, board, image, add_image):
    from moodboards import services

    other = services.board_create(team=board.team, user=alice, title="Other")
    client.force_login(alice)
    url = reverse("image_detail", args=[other.pk, image.pk])
    assert client.get(url).status_code == 404


def test_viewer_changes_nothing_when_refused(client, carol, board, image):
    client.force_login(carol)
    client.post(reverse("board_update", args=[board.pk]), {"title": "Hacked"})
    client.post(reverse("image_delete", args=[board.pk, image.pk]))
    board.refresh_from_db()
    assert board.title == "Autumn campaign"
    assert BoardImage.objects.filter(pk=image.pk).exists()


# --- secret links ----------------------------------------------------------------------


@pytest.fixture
def shared(board):
    from moodboards import services

    return services.board_share_enable(board=board)


def test_share_link_shows_board_and_images_to_anyone(client, shared, image):
    token = shared.share_token
    page = client.get(reverse("shared_board", args=[token]))
    assert page.status_code == 200
    assert b"Autumn campaign" in page.content
    for kind in ("thumb", "display"):
        response = client.get(reverse("shared_image_file", args=[token, image.pk, kind]))
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("action", BOARD_ACTIONS, ids=lambda a: f"{a[1]}-{a[0]}")
def test_share_link_grants_nothing_beyond_reading(client, shared, image, action):
    # Having opened the link, an anonymous visitor still can't use any board URL.
    name, method, _, uses_image, data = action
    client.get(reverse("shared_board", args=[shared.share_token]))
    response = _send(client, method, _url(name, shared, image, uses_image), data, image)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_revoked_link_stops_working(client, shared, image):
    from moodboards import services

    token = shared.share_token
    services.board_share_revoke(board=shared)
    assert client.get(reverse("shared_board", args=[token])).status_code == 404
    assert (
        client.get(reverse("shared_image_file", args=[token, image.pk, "thumb"])).status_code == 404
    )


def test_new_link_replaces_the_old_one(client, shared):
    from moodboards import services

    old = shared.share_token
    services.board_share_enable(board=shared)
    assert client.get(reverse("shared_board", args=[old])).status_code == 404
    assert client.get(reverse("shared_board", args=[shared.share_token])).status_code == 200


def test_share_link_cannot_reach_images_of_other_boards(client, shared, alice, add_image):
    from moodboards import services

    other = services.board_create(team=shared.team, user=alice, title="Private")
    secret = add_image(other, alice, "rocket")
    url = reverse("shared_image_file", args=[shared.share_token, secret.pk, "display"])
    assert client.get(url).status_code == 404


# --- teams -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("alice", 200), ("bob", 200), ("carol", 200), ("charlie", 404)],
)
def test_team_page_access(client, team, persona, expected, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("team_detail", args=[team.pk])).status_code == expected


@pytest.mark.parametrize(("persona", "expected"), [("bob", 403), ("carol", 403), ("charlie", 404)])
def test_only_owners_invite(client, team, persona, expected, request, make_user):
    make_user("dave")
    client.force_login(request.getfixturevalue(persona))
    response = client.post(
        reverse("team_invite", args=[team.pk]), {"identifier": "dave", "role": "owner"}
    )
    assert response.status_code == expected
    assert not team.memberships.filter(user__username="dave").exists()


@pytest.mark.parametrize(("persona", "expected"), [("bob", 403), ("carol", 403), ("charlie", 404)])
def test_only_owners_change_roles(client, team, persona, expected, request):
    client.force_login(request.getfixturevalue(persona))
    carol_membership = team.memberships.get(user__username="carol")
    response = client.post(
        reverse("team_member_role", args=[team.pk, carol_membership.pk]), {"role": "owner"}
    )
    assert response.status_code == expected
    carol_membership.refresh_from_db()
    assert carol_membership.role == "viewer"
