"""Finding 6, consent: anyone could add anyone to a team with any role, the answer told
which account an email belonged to, signup accepted an email already in use, and a batch
belonged to the first profile's team: an outsider added a victim as editor, planted an
enticing profile, and got a stylised copy of an image from the victim's private board.

Now an invitation waits for the invited user's answer, the owner's answer is the same
whether or not an account exists, emails are unique (case-insensitively), confusable
usernames are refused, and a batch belongs to the team the user chose (by default the
pictures' team), with every ingredient visible to the user.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from generation import services as generation_services
from generation.models import Generation
from moodboards import services
from moodboards.models import Invitation, Membership, Role


def _invite(client, team, identifier, role="editor"):
    return client.post(
        reverse("team_invite", args=[team.pk]),
        {"identifier": identifier, "role": role},
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_an_invitation_adds_nobody_until_it_is_accepted(client, charlie, alice, team):
    client.force_login(alice)
    _invite(client, team, "charlie", role="owner")
    assert not Membership.objects.filter(team=team, user=charlie).exists()
    invitation = Invitation.objects.get(user=charlie)
    assert invitation.status == "pending"

    client.force_login(charlie)
    page = client.get(reverse("invitations")).content.decode()
    assert "Studio" in page and "Accept" in page
    client.post(reverse("invitation_answer", args=[invitation.pk]), {"answer": "accept"})
    assert Membership.objects.get(team=team, user=charlie).role == Role.OWNER


def test_a_declined_invitation_changes_nothing_and_cannot_be_accepted_later(
    client, charlie, alice, team
):
    invitation = services.team_invite(team=team, identifier="charlie", role=Role.EDITOR)
    client.force_login(charlie)
    client.post(reverse("invitation_answer", args=[invitation.pk]), {"answer": "decline"})
    client.post(reverse("invitation_answer", args=[invitation.pk]), {"answer": "accept"})
    assert not Membership.objects.filter(team=team, user=charlie).exists()


def test_nobody_else_can_answer_an_invitation(client, charlie, bob, team):
    invitation = services.team_invite(team=team, identifier="charlie", role=Role.EDITOR)
    client.force_login(bob)
    url = reverse("invitation_answer", args=[invitation.pk])
    assert client.post(url, {"answer": "accept"}).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_the_answer_is_the_same_whether_or_not_an_account_exists(client, alice, team, charlie):
    client.force_login(alice)
    answers = []
    for identifier in ("charlie", "charlie@example.com", "nobody", "nobody@example.com"):
        [message] = _messages(_invite(client, team, identifier))
        answers.append(message.replace(identifier, "X"))
    assert len(set(answers)) == 1, answers
    # The team page lists what the owner typed, matched or not: no tell there either.
    page = client.get(team.get_absolute_url()).content.decode()
    for identifier in ("charlie@example.com", "nobody@example.com"):
        assert identifier in page


def test_owners_can_withdraw_an_invitation(client, alice, charlie, team):
    invitation = services.team_invite(team=team, identifier="charlie", role=Role.EDITOR)
    client.force_login(alice)
    client.post(reverse("team_invitation_revoke", args=[team.pk, invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    client.force_login(charlie)
    client.post(reverse("invitation_answer", args=[invitation.pk]), {"answer": "accept"})
    assert not Membership.objects.filter(team=team, user=charlie).exists()


def test_the_api_invites_and_the_invited_user_accepts(alice, charlie, team):
    owner, invited = APIClient(), APIClient()
    owner.force_authenticate(alice)
    invited.force_authenticate(charlie)
    response = owner.post(
        f"/api/teams/{team.pk}/members/", {"identifier": "charlie", "role": "editor"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert not Membership.objects.filter(team=team, user=charlie).exists()
    [pending] = invited.get("/api/invitations/").json()["results"]
    assert invited.post(f"/api/invitations/{pending['id']}/accept/").status_code == 200
    assert Membership.objects.get(team=team, user=charlie).role == Role.EDITOR


# --- accounts ---------------------------------------------------------------------------------


def _signup(client, username, email):
    return client.post(
        reverse("signup"),
        {
            "username": username,
            "email": email,
            "password1": "correct horse battery staple",
            "password2": "correct horse battery staple",
        },
    )


def test_signup_refuses_an_email_in_use_whatever_its_case(client, alice):
    response = _signup(client, "mallory", "ALICE@Example.com")
    assert response.status_code == 200
    assert "already uses this email" in response.content.decode()
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_the_database_refuses_a_second_account_with_the_same_email(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create_user("mallory", "Alice@EXAMPLE.com", "x")


@pytest.mark.parametrize(
    ("username", "why"),
    [("dеmo", "different alphabets"), ("ѕоар", "looks like an existing account")],
    ids=["mixed-cyrillic", "all-cyrillic-lookalike"],
)
def test_signup_refuses_confusable_usernames(client, make_user, username, why):
    make_user("demo")
    make_user("soap")
    response = _signup(client, username, "someone@example.com")
    assert why in response.content.decode()
    assert not get_user_model().objects.filter(username=username).exists()


def test_signup_refuses_a_confusable_email(client, db):
    response = _signup(client, "mallory", "alice@ехample.com")  # Cyrillic е and х
    assert "different alphabets" in response.content.decode()


def test_ordinary_names_in_one_alphabet_are_fine(client, db):
    assert _signup(client, "José", "jose@example.com").status_code == 302
    assert _signup(client, "Дмитрий", "dmitry@example.com").status_code == 302


# --- the chained attack -------------------------------------------------------------------------


@pytest.fixture
def planted(charlie, alice, fill_board):
    """Charlie's team with an enticing profile, and alice as an editor there (she accepted)."""
    from taste import services as taste_services

    lure = services.team_create(user=charlie, name="Free looks")
    services.membership_add(team=lure, user=alice, role=Role.EDITOR)
    board = services.board_create(team=lure, user=charlie, title="Gorgeous film look")
    fill_board(board, charlie, looks=("mono_contrast", "warm_film"), per_look=3)
    analysis = taste_services.analysis_start(board=board, user=charlie)
    return lure, taste_services.analysis_run(analysis_id=analysis.pk).profile


def test_a_batch_belongs_to_the_pictures_team_not_the_first_profiles(
    alice, add_image, planted, client
):
    lure, lure_profile = planted
    private = services.board_create(
        team=services.personal_team_for(alice), user=alice, title="Unreleased"
    )
    secret = add_image(private, alice, "astronaut")
    client.force_login(alice)
    client.post(
        reverse("generation_new"),
        {"profile_0": lure_profile.pk, "weight_0": "1", "count": "1", "content_ids": [secret.pk]},
    )
    generation = Generation.objects.get()
    # Was: the lure's team, so charlie could open the stylised copy of alice's private image.
    assert generation.team == services.personal_team_for(alice)
    assert not Generation.objects.filter(team=lure).exists()


def test_pictures_from_two_teams_need_the_user_to_choose(alice, add_image, planted, board):
    lure, lure_profile = planted
    theirs = add_image(
        services.board_create(team=lure, user=alice, title="Scratch"), alice, "coffee"
    )
    ours = add_image(board, alice, "rocket")
    spec = generation_services.IngredientSpec(lure_profile, None, 1.0)
    with pytest.raises(ValidationError, match="choose the team this run belongs to"):
        generation_services.generation_create(
            user=alice, ingredients=[spec], contents=[theirs, ours], count=1
        )
    chosen = generation_services.generation_create(
        user=alice, team=board.team, ingredients=[spec], contents=[theirs, ours], count=1
    )
    assert chosen.team == board.team
