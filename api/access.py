"""Fetches the pages don't need, built only from the existing access helpers.

Each one finds the object, then asks `moodboards.access` about the board or team it
belongs to: the owner/editor/viewer rules stay in one place.
"""

from __future__ import annotations

from django.http import Http404

from moodboards import access
from moodboards.access import User
from moodboards.models import BoardImage, Role
from taste.models import Analysis, TasteProfile


def analysis_for_user(user: User, analysis_id: int) -> Analysis:
    analysis = Analysis.objects.select_related("profile").filter(pk=analysis_id).first()
    if analysis is None:
        raise Http404("Not found")
    analysis.board, _ = access.board_for_user(user, analysis.board_id)
    return analysis


def profile_by_id_for_user(user: User, profile_id: int) -> TasteProfile:
    """A profile version named by its id (as recipes do); 404 when not visible."""
    profile = TasteProfile.objects.filter(pk=profile_id).first()
    if profile is None:
        raise Http404(f"No profile version {profile_id}.")
    profile.board, _ = access.board_for_user(user, profile.board_id)
    return profile


def board_image_by_id_for_user(
    user: User, image_id: int, *, need: Role = Role.VIEWER
) -> BoardImage:
    image = BoardImage.objects.filter(pk=image_id).only("board_id").first()
    if image is None:
        raise Http404(f"No image {image_id}.")
    image, _ = access.image_for_user(user, image.board_id, image_id, need=need)
    return image
