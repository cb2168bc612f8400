"""The only way views fetch teams, boards and images.

One helper per model. A user who can't see an object gets 404 (we never reveal
that it exists); one who can see it but lacks the role for the action gets 403.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import (
    ROLE_RANK,
    Board,
    BoardImage,
    Invitation,
    InvitationStatus,
    Membership,
    Role,
    Team,
)

User = AbstractBaseUser | AnonymousUser


def role_in_team(user: User, team_id: int) -> Role | None:
    if not user.is_authenticated:
        return None
    role = (
        Membership.objects.filter(team_id=team_id, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def can(role: Role | None, need: Role) -> bool:
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[need]


def check_role(role: Role | None, need: Role) -> None:
    """404 for no role at all (no existence leak), 403 for too low a role."""
    if role is None:
        raise Http404("Not found")
    if not can(role, need):
        raise PermissionDenied(f"This needs the {need.label.lower()} role.")


def team_for_user(user: User, team_id: int, *, need: Role = Role.VIEWER) -> tuple[Team, Role]:
    team = Team.objects.filter(pk=team_id).first()
    role = role_in_team(user, team_id) if team else None
    check_role(role, need)
    return team, role


def board_for_user(user: User, board_id: int, *, need: Role = Role.VIEWER) -> tuple[Board, Role]:
    board = Board.objects.select_related("team").filter(pk=board_id).first()
    role = role_in_team(user, board.team_id) if board else None
    check_role(role, need)
    return board, role


def image_for_user(
    user: User, board_id: int, image_id: int, *, need: Role = Role.VIEWER
) -> tuple[BoardImage, Role]:
    board, role = board_for_user(user, board_id, need=need)
    image = BoardImage.objects.filter(pk=image_id, board=board).first()
    if image is None:
        raise Http404("Not found")
    image.board = board
    return image, role


def board_for_share_token(token: str) -> Board:
    """A secret link gives read-only access to one board, nothing else. Archiving the
    board suspends its link (restoring the board brings it back)."""
    board = (
        Board.objects.select_related("team")
        .filter(share_token=token, archived_at__isnull=True)
        .first()
        if token
        else None
    )
    if board is None:
        raise Http404("This link does not exist, was revoked, or its board is archived.")
    return board


def image_for_share_token(token: str, image_id: int) -> BoardImage:
    board = board_for_share_token(token)
    image = BoardImage.objects.filter(pk=image_id, board=board).first()
    if image is None:
        raise Http404("Not found")
    image.board = board
    return image


def image_by_id_for_user(user: User, image_id: int, *, need: Role = Role.VIEWER) -> BoardImage:
    """A board image named only by its id (recipes, API), through its board's rules."""
    board_id = BoardImage.objects.filter(pk=image_id).values_list("board_id", flat=True).first()
    if board_id is None:
        raise Http404("Not found")
    image, _ = image_for_user(user, board_id, image_id, need=need)
    return image


def membership_for_user(
    user: User, team_id: int, membership_id: int, *, need: Role = Role.VIEWER
) -> tuple[Membership, Role]:
    team, role = team_for_user(user, team_id, need=need)
    membership = (
        Membership.objects.select_related("team", "user")
        .filter(pk=membership_id, team=team)
        .first()
    )
    if membership is None:
        raise Http404("Not found")
    return membership, role


def check_can_remove_member(user: User, role: Role, membership: Membership) -> None:
    """Owners remove anyone; everyone may remove themselves (leave the team)."""
    if membership.user_id != user.pk and not can(role, Role.OWNER):
        raise PermissionDenied("Only owners can remove members.")


def invitation_for_invitee(user: User, invitation_id: int) -> Invitation:
    """An invitation addressed to this user (any other is "not found")."""
    invitation = (
        Invitation.objects.select_related("team", "invited_by")
        .filter(pk=invitation_id, user_id=user.pk if user.is_authenticated else None)
        .first()
    )
    if invitation is None:
        raise Http404("Not found")
    return invitation


def invitation_for_owner(user: User, team_id: int, invitation_id: int) -> Invitation:
    """A team's pending invitation, for the team's owners (to revoke it)."""
    team, _ = team_for_user(user, team_id, need=Role.OWNER)
    invitation = Invitation.objects.filter(
        pk=invitation_id, team=team, status=InvitationStatus.PENDING
    ).first()
    if invitation is None:
        raise Http404("Not found")
    return invitation
