"""The board and team pages, as a logged-in user uses them."""

from __future__ import annotations

from html import escape

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from moodboards import services
from moodboards.models import Board, BoardImage, Team


def test_signup_creates_account_and_personal_space(client, db):
    response = client.post(
        reverse("signup"),
        {
            "username": "erin",
            "email": "erin@example.com",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="erin")
    assert Team.objects.get(personal_for=user).memberships.get().role == "owner"
    assert client.get(reverse("home")).status_code == 200


def test_login_and_logout(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert b"Boards" in client.get(reverse("home")).content
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_says_so(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_home_lists_boards_of_all_my_spaces_with_covers(client, alice, board, image):
    mine = services.board_create(
        team=services.personal_team_for(alice), user=alice, title="Private refs"
    )
    client.force_login(alice)
    page = client.get(reverse("home")).content.decode()
    assert "Autumn campaign" in page and "Private refs" in page and escape(mine.team.name) in page
    assert reverse("image_file", args=[board.pk, image.pk, "thumb"]) in page


def test_home_hides_other_peoples_boards(client, board, charlie):
    client.force_login(charlie)
    assert "Autumn campaign" not in client.get(reverse("home")).content.decode()


def test_create_board_in_personal_space(client, alice):
    client.force_login(alice)
    personal = services.personal_team_for(alice)
    response = client.post(
        reverse("board_create"),
        {"title": "Moody interiors", "description": "", "team": personal.pk},
    )
    board = Board.objects.get(title="Moody interiors")
    assert response["Location"] == board.get_absolute_url()
    assert board.team == personal and board.created_by == alice


def test_viewer_cannot_create_board_in_team(client, carol, team):
    client.force_login(carol)
    response = client.post(reverse("board_create"), {"title": "Sneaky", "team": team.pk})
    assert response.status_code == 403
    assert not Board.objects.filter(title="Sneaky").exists()


def test_cannot_create_board_in_someone_elses_space(client, charlie, alice):
    client.force_login(charlie)
    client.post(
        reverse("board_create"), {"title": "Intruder", "team": services.personal_team_for(alice).pk}
    )
    assert not Board.objects.filter(title="Intruder").exists()


def test_rename_and_describe(client, bob, board):
    client.force_login(bob)
    client.post(
        reverse("board_update", args=[board.pk]), {"title": "Winter", "description": "Cold blues"}
    )
    board.refresh_from_db()
    assert (board.title, board.description) == ("Winter", "Cold blues")


def test_empty_title_is_refused_and_nothing_changes(client, bob, board):
    client.force_login(bob)
    response = client.post(
        reverse("board_update", args=[board.pk]), {"title": "", "description": "x"}, follow=True
    )
    assert b"needs a title" in response.content
    board.refresh_from_db()
    assert board.title == "Autumn campaign"


def test_archive_and_restore(client, bob, board):
    client.force_login(bob)
    client.post(reverse("board_archive", args=[board.pk]), {"archived": "1"})
    assert "Autumn campaign" not in client.get(reverse("home")).content.decode()
    assert "Autumn campaign" in client.get(reverse("home") + "?archived=1").content.decode()
    client.post(reverse("board_archive", args=[board.pk]), {"archived": "0"})
    board.refresh_from_db()
    assert board.archived_at is None


def test_delete_board_removes_images_and_files(
    client, alice, board, image, django_capture_on_commit_callbacks
):
    files = [image.original.path, image.display.path, image.thumbnail.path]
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("board_delete", args=[board.pk]))
    assert not Board.objects.filter(pk=board.pk).exists()
    assert not BoardImage.objects.filter(pk=image.pk).exists()
    import os

    assert not any(os.path.exists(f) for f in files)


def test_board_page_shows_grid_and_who_has_access(client, carol, board, image):
    client.force_login(carol)
    page = client.get(board.get_absolute_url()).content.decode()
    assert reverse("image_file", args=[board.pk, image.pk, "thumb"]) in page
    for name in ("alice", "bob", "carol"):
        assert name in page
    assert "dropzone" not in page  # viewers get no upload area


def test_share_panel_shows_link_for_owner(client, alice, board):
    client.force_login(alice)
    client.post(reverse("board_share", args=[board.pk]), {"action": "enable"})
    board.refresh_from_db()
    page = client.get(board.get_absolute_url()).content.decode()
    assert f"/s/{board.share_token}/" in page
    assert "Anyone with the secret link" in page


def test_image_page_caption_and_neighbours(client, bob, board, image, add_image):
    second = add_image(board, bob, "rocket")
    client.force_login(bob)
    client.post(
        reverse("image_update", args=[board.pk, image.pk]), {"caption": "Steam against dark wood"}
    )
    image.refresh_from_db()
    assert image.caption == "Steam against dark wood"
    page = client.get(image.get_absolute_url()).content.decode()
    assert "Steam against dark wood" in page
    assert reverse("image_detail", args=[board.pk, second.pk]) in page


def test_remove_image_deletes_its_files(
    client, bob, board, image, django_capture_on_commit_callbacks
):
    paths = [image.original.path, image.thumbnail.path]
    client.force_login(bob)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("image_delete", args=[board.pk, image.pk]))
    import os

    assert not BoardImage.objects.filter(pk=image.pk).exists()
    assert not any(os.path.exists(p) for p in paths)


def test_reorder(client, bob, board, image, add_image):
    b = add_image(board, bob, "rocket")
    c = add_image(board, bob, "astronaut")
    client.force_login(bob)
    response = client.post(
        reverse("board_reorder", args=[board.pk]),
        {"order": [c.pk, image.pk, b.pk]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert list(board.images.values_list("pk", flat=True)) == [c.pk, image.pk, b.pk]


def test_reorder_ignores_images_of_other_boards(client, bob, board, image, alice, add_image):
    other = services.board_create(team=board.team, user=alice, title="Other")
    foreign = add_image(other, alice, "rocket")
    client.force_login(bob)
    client.post(
        reverse("board_reorder", args=[board.pk]),
        {"order": [foreign.pk, image.pk]},
        content_type="application/json",
    )
    foreign.refresh_from_db()
    assert foreign.board == other and foreign.position == 0


def test_reorder_with_garbage_is_400(client, bob, board):
    client.force_login(bob)
    response = client.post(
        reverse("board_reorder", args=[board.pk]), b"[1,2", content_type="application/json"
    )
    assert response.status_code == 400


def test_served_images_cannot_be_sniffed_into_html(client, bob, board, image):
    client.force_login(bob)
    response = client.get(reverse("image_file", args=[board.pk, image.pk, "display"]))
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_download_is_an_attachment_named_after_the_upload(client, carol, board, image):
    client.force_login(carol)
    response = client.get(
        reverse("image_file", args=[board.pk, image.pk, "display"]) + "?download=1"
    )
    assert response["Content-Disposition"].startswith("attachment")
    assert "coffee.jpg" in response["Content-Disposition"]


def test_missing_file_in_storage_is_a_clear_404(client, bob, board, image):
    import os

    os.remove(image.thumbnail.path)
    client.force_login(bob)
    response = client.get(reverse("image_file", args=[board.pk, image.pk, "thumb"]))
    assert response.status_code == 404


def test_unknown_file_kind_is_404(client, bob, board, image):
    client.force_login(bob)
    # The original (which may carry GPS data) is never served.
    assert client.get(f"/boards/{board.pk}/images/{image.pk}/original/").status_code == 404


# --- teams ----------------------------------------------------------------------------------


def test_create_team_and_invite_by_email(client, alice, make_user):
    dave = make_user("dave")
    client.force_login(alice)
    response = client.post(reverse("team_create"), {"name": "Brand team"})
    team = Team.objects.get(name="Brand team")
    assert response["Location"] == team.get_absolute_url()
    response = client.post(
        reverse("team_invite", args=[team.pk]),
        {"identifier": "DAVE@example.com", "role": "editor"},
        follow=True,
    )
    assert "Invitation to “DAVE@example.com” recorded" in response.content.decode()
    # Pending until dave accepts (tests/security/test_consent.py has the rest).
    assert not team.memberships.filter(user=dave).exists()
    client.force_login(dave)
    invitation = dave.invitations.get()
    client.post(reverse("invitation_answer", args=[invitation.pk]), {"answer": "accept"})
    assert team.memberships.get(user=dave).role == "editor"


def test_personal_space_cannot_have_members(alice, bob):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.team_invite(
            team=services.personal_team_for(alice), identifier="bob", role="editor"
        )


def test_last_owner_cannot_leave_or_be_demoted(client, alice, team):
    client.force_login(alice)
    mine = team.memberships.get(user=alice)
    response = client.post(
        reverse("team_member_role", args=[team.pk, mine.pk]), {"role": "viewer"}, follow=True
    )
    assert b"at least one owner" in response.content
    response = client.post(reverse("team_member_remove", args=[team.pk, mine.pk]), follow=True)
    assert b"at least one owner" in response.content
    mine.refresh_from_db()
    assert mine.role == "owner"


def test_member_can_leave(client, bob, team):
    client.force_login(bob)
    membership = team.memberships.get(user=bob)
    client.post(reverse("team_member_remove", args=[team.pk, membership.pk]))
    assert not team.memberships.filter(user=bob).exists()


def test_viewer_cannot_remove_others(client, carol, team):
    client.force_login(carol)
    bobs = team.memberships.get(user__username="bob")
    assert client.post(reverse("team_member_remove", args=[team.pk, bobs.pk])).status_code == 403
    assert team.memberships.filter(pk=bobs.pk).exists()


def test_removed_member_loses_access(client, alice, bob, team, board):
    services.membership_remove(membership=team.memberships.get(user=bob))
    client.force_login(bob)
    assert client.get(board.get_absolute_url()).status_code == 404


def test_home_counts_every_member_of_a_team(client, alice, team):
    client.force_login(alice)
    assert "3 members" in client.get(reverse("home")).content.decode()
