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


CODE_PATTERN = r"tb-[0-9a-f]{6}"


def profile_by_code_for_user(user: User, code: str) -> TasteProfile:
    """A profile version named by its short code (``tb-7f3a2c``): the code only names
    the version, the board's roles still decide who may use it (a stranger gets 404)."""
    code = str(code).strip().lower()
    board_id = TasteProfile.objects.filter(code=code).values_list("board_id", flat=True).first()
    if board_id is None:
        raise Http404("Not found")
    board, _ = board_for_user(user, board_id)
    profile = TasteProfile.objects.get(code=code)
    profile.board = board
    return profile


def profile_by_ref_for_user(user: User, ref: int | str) -> TasteProfile:
    """A profile version by id or by code, as recipes and scripts name it."""
    if isinstance(ref, str) and ref.strip().lower().startswith("tb-"):
        return profile_by_code_for_user(user, ref)
    try:
        profile_id = int(ref)
    except (TypeError, ValueError):
        raise Http404("Not found") from None
    if not 1 <= profile_id <= 2**63 - 1:  # no database row has it (and PostgreSQL would fail)
        raise Http404("Not found")
    return profile_by_id_for_user(user, profile_id)
