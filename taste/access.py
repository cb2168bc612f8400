"""The one way views fetch analyses and profile versions: through their board's roles."""

from __future__ import annotations

from django.http import Http404

from moodboards.access import User, board_for_user
from moodboards.models import Role

from .models import Analysis, TasteProfile


def analysis_for_user(user: User, analysis_id: int, *, board_id: int | None = None) -> Analysis:
    """An analysis by id (optionally required to belong to `board_id`); 404 if not visible."""
    analysis = Analysis.objects.select_related("profile").filter(pk=analysis_id).first()
    if analysis is None or (board_id is not None and analysis.board_id != board_id):
        raise Http404("Not found")
    analysis.board, _ = board_for_user(user, analysis.board_id)
    return analysis


def profile_for_user(user: User, board_id: int, version: int) -> tuple[TasteProfile, Role]:
    """A profile version of a board, as the pages name it."""
    board, role = board_for_user(user, board_id)
    profile = TasteProfile.objects.filter(board=board, version=version).first()
    if profile is None:
        raise Http404("Not found")
    profile.board = board
    return profile, role


def profile_by_id_for_user(user: User, profile_id: int) -> TasteProfile:
    """A profile version named by its id (as recipes do)."""
    board_id = TasteProfile.objects.filter(pk=profile_id).values_list("board_id", flat=True).first()
    if board_id is None:
        raise Http404("Not found")
    board, _ = board_for_user(user, board_id)
    profile = TasteProfile.objects.get(pk=profile_id)
    profile.board = board
    return profile
