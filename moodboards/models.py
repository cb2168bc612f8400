"""Teams, memberships, boards and their images."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from config.leases import LeasedWork


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


# What each role may do. One table, read by the access helpers only.
ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}


class Team(models.Model):
    name = models.CharField(max_length=100)
    # Every user has exactly one personal team: their private space.
    personal_for = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_team",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("team_detail", args=[self.pk])

    @property
    def is_personal(self) -> bool:
        return self.personal_for_id is not None


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]
        ordering = ["team", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


class Invitation(models.Model):
    """An owner's offer of a role in a team. Nobody joins a team without accepting: an
    invitation is pending until the invited user accepts or declines it (or an owner
    revokes it).

    `identifier` is what the owner typed (a username or an email), shown to the team's
    owners whether or not an account matched it, so the team page never tells which
    addresses have accounts. `user` is the account it matched when it was made (None:
    none did, and it never will; invite again once they have signed up)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    identifier = models.CharField(max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            # One open invitation per address and team: inviting again changes nothing.
            models.UniqueConstraint(
                fields=["team", "identifier"],
                condition=models.Q(status="pending"),
                name="one_pending_invitation_per_identifier",
            )
        ]

    def __str__(self) -> str:
        return f"{self.identifier} to {self.team} as {self.role} ({self.status})"


def new_share_token() -> str:
    return secrets.token_urlsafe(24)


class Board(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="boards")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    # A read-only secret link; None when sharing is off. Revoking sets a new value
    # or None, so an old link never works again.
    share_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("board_detail", args=[self.pk])

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


def _original_path(instance: BoardImage, filename: str) -> str:
    # Random names: a user's file name never becomes a path on our disk.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"originals/{instance.board_id}/{uuid.uuid4().hex}.{ext}"


def _derived_path(instance: BoardImage, filename: str) -> str:
    return f"derived/{instance.board_id}/{filename}"


class ImageStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class BoardImage(LeasedWork):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="images")
    # The file exactly as uploaded. Never served: it may carry location metadata.
    original = models.FileField(upload_to=_original_path, max_length=255)
    # What is served: orientation applied, metadata stripped. Made by a worker.
    display = models.FileField(upload_to=_derived_path, max_length=255, blank=True)
    thumbnail = models.FileField(upload_to=_derived_path, max_length=255, blank=True)
    status = models.CharField(
        max_length=12, choices=ImageStatus.choices, default=ImageStatus.PROCESSING
    )
    error = models.CharField(max_length=255, blank=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    byte_size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    # 64-bit perceptual hash as 16 hex digits, for near-duplicate detection.
    phash = models.CharField(max_length=16)
    caption = models.TextField(blank=True)
    position = models.IntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["board", "position"])]
        constraints = [
            # Two concurrent uploads of the same bytes can't both land on one board.
            models.UniqueConstraint(fields=["board", "sha256"], name="unique_bytes_per_board")
        ]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("image_detail", args=[self.board_id, self.pk])
