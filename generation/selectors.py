"""Reads for generation pages."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from moodboards.models import BoardImage, ImageStatus, Role, Team
from taste.models import TasteProfile

from .models import Generation


def profiles_for_user(user: AbstractBaseUser) -> QuerySet[TasteProfile]:
    """Every profile version on a board the user can see, newest first."""
    return (
        TasteProfile.objects.filter(board__team__memberships__user=user)
        .select_related("board", "board__team")
        .order_by("board__title", "-version")
        .distinct()
    )


def content_candidates(user: AbstractBaseUser, limit: int = 60) -> QuerySet[BoardImage]:
    """Recent board images the user may use as content."""
    return (
        BoardImage.objects.filter(board__team__memberships__user=user, status=ImageStatus.READY)
        .select_related("board")
        .order_by("-created")
        .distinct()[:limit]
    )


def generations_for_user(user: AbstractBaseUser) -> QuerySet[Generation]:
    return (
        Generation.objects.filter(team__memberships__user=user)
        .select_related("team", "created_by")
        .prefetch_related("outputs", "ingredients__profile__board")
        .order_by("-created")
        .distinct()
    )


def content_candidates_by_board(
    user: AbstractBaseUser, *, per_board: int = 60
) -> list[tuple[object, list[BoardImage]]]:
    """(board, its first images) for every active board the user can see, for the
    Generate page's picker: grouped by board, in board order, in one query."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    rows = (
        BoardImage.objects.filter(
            board__team__memberships__user=user,
            board__archived_at__isnull=True,
            status=ImageStatus.READY,
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=F("board_id"), order_by=[F("position"), F("id")])
        )
        .filter(rank__lte=per_board)
        .select_related("board")
        .order_by("board__title", "board_id", "position", "id")
    )
    groups: dict[int, tuple[object, list[BoardImage]]] = {}
    for image in rows:
        groups.setdefault(image.board_id, (image.board, []))[1].append(image)
    return list(groups.values())


def teams_to_generate_in(user: AbstractBaseUser) -> QuerySet[Team]:
    """Teams where the user may start a run (editor or owner), personal space first."""
    return (
        Team.objects.filter(memberships__user=user, memberships__role__in=[Role.OWNER, Role.EDITOR])
        .order_by("personal_for", "name")
        .distinct()
    )
