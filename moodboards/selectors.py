"""Reads for the boards app."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber

from .models import Board, BoardImage, ImageStatus, Invitation, InvitationStatus, Membership, Team


def teams_for_user(user: AbstractBaseUser) -> QuerySet[Team]:
    """The user's teams, personal space first."""
    # Annotate before filtering: the filter's join would otherwise limit the count
    # to the user's own membership.
    return (
        Team.objects.annotate(member_count=Count("memberships", distinct=True))
        .filter(memberships__user=user)
        .order_by("personal_for", "name")
    )


def boards_for_user(user: AbstractBaseUser, *, archived: bool = False) -> QuerySet[Board]:
    # Four cover thumbnails per board, in one query however large the boards are.
    cover_images = (
        BoardImage.objects.filter(status=ImageStatus.READY)
        .annotate(
            cover_rank=Window(
                RowNumber(), partition_by=F("board_id"), order_by=[F("position"), F("id")]
            )
        )
        .filter(cover_rank__lte=4)
        .order_by("position", "id")
    )
    return (
        Board.objects.filter(team__memberships__user=user, archived_at__isnull=not archived)
        .select_related("team")
        .annotate(image_count=Count("images", distinct=True))
        .prefetch_related(Prefetch("images", queryset=cover_images, to_attr="covers"))
        .order_by("-updated")
        .distinct()
    )


def board_images(board: Board) -> QuerySet[BoardImage]:
    return board.images.order_by("position", "id")


class GridImage(NamedTuple):
    """What a grid tile shows of an image."""

    id: int
    status: str
    error: str
    original_name: str
    caption: str
    width: int
    height: int
    heartbeat_at: datetime | None  # set while a worker makes the thumbnail


def board_grid_images(board: Board) -> list[GridImage]:
    """The board's images for its grid, in board order, in one query.

    Plain rows rather than model instances: building 500 models took longer than
    the query itself, on the page every board visit opens.
    """
    rows = board.images.order_by("position", "id").values_list(*GridImage._fields)
    return [GridImage(*row) for row in rows]


def members_of(team: Team) -> QuerySet[Membership]:
    return team.memberships.select_related("user").order_by("user__username")


def pending_invitations_for(user: AbstractBaseUser) -> QuerySet[Invitation]:
    """Invitations waiting for this user's answer, newest first."""
    return (
        Invitation.objects.filter(user=user, status=InvitationStatus.PENDING)
        .select_related("team", "invited_by")
        .order_by("-created")
    )


def pending_invitations_of(team: Team) -> QuerySet[Invitation]:
    """A team's unanswered invitations, as its owners typed them."""
    return team.invitations.filter(status=InvitationStatus.PENDING).order_by("-created")
