"""Reads the API needs beyond the pages' selectors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from moodboards.models import ImageStatus, Membership
from taste.models import TasteProfile
from taste.selectors import profile_json

from .serializers import absolute


def roles_of(user: AbstractBaseUser) -> dict[int, str]:
    """team id -> the user's role there."""
    return dict(Membership.objects.filter(user=user).values_list("team_id", "role"))


def profile_document(profile: TasteProfile, *, context: dict) -> dict[str, Any]:
    """`profile_json` plus a reference per image: its board image id while it is still
    on the board, and where to fetch its thumbnail."""
    data = profile_json(profile)
    alive = set(
        profile.board.images.filter(
            pk__in=[int(k) for k in profile.images if k.isdigit()], status=ImageStatus.READY
        ).values_list("pk", flat=True)
    )
    refs = []
    for key, info in profile.images.items():
        image_id = int(key) if key.isdigit() and int(key) in alive else None
        refs.append(
            {
                "key": key,
                "name": info.get("name", key),
                "sha256": info.get("sha256", ""),
                "image_id": image_id,
                "thumbnail_url": absolute(
                    context, "api:image_file", profile.board_id, image_id, "thumb"
                )
                if image_id
                else None,
            }
        )
    data["image_refs"] = refs
    data["profile_id"] = profile.pk  # what a generation recipe names
    return data
