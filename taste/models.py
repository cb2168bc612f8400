"""Embedding cache, analysis runs and immutable taste profile versions."""

from __future__ import annotations

import secrets
from functools import cached_property

import numpy as np
from django.conf import settings
from django.db import models
from django.urls import reverse

from config.leases import LeasedWork
from moodboards.models import Board, BoardImage

from .document import TasteProfileData


class ImageEmbedding(models.Model):
    """One image's vector under one encoder, cached by content hash.

    Keyed by the bytes' sha256 (not the BoardImage), so the same picture on two
    boards, or removed and added again, is embedded once.
    """

    sha256 = models.CharField(max_length=64)
    encoder_id = models.CharField(max_length=64)
    vector = models.BinaryField()  # float32, little-endian
    # For the built-in encoder: the raw Magenta style vector and the descriptors.
    extra = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sha256", "encoder_id"], name="one_embedding_per_encoder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} / {self.encoder_id}"

    def as_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.vector), dtype="<f4").copy()


class AnalysisStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Analysis(LeasedWork):
    """One press of Analyze Board: its progress, and the profile it produced."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="analyses")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    encoder_id = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=AnalysisStatus.choices, default=AnalysisStatus.QUEUED
    )
    stage = models.CharField(max_length=32, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    profile = models.ForeignKey(
        "TasteProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="analyses"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "analyses"
        constraints = [
            # Two clicks can't start two runs of the same board at once.
            models.UniqueConstraint(
                fields=["board"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_analysis_per_board",
            )
        ]

    def __str__(self) -> str:
        return f"Analysis {self.pk} of {self.board} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("analysis_detail", args=[self.board_id, self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING)

    @property
    def percent(self) -> int:
        """Embedding is most of the work: 0-80 %, then the describing stages."""
        if self.status == AnalysisStatus.DONE:
            return 100
        if self.stage == "embedding":
            return int(80 * self.done / self.total) if self.total else 0
        if self.total and self.stage:
            return 80 + int(20 * self.done / self.total)
        return 0


def new_profile_code() -> str:
    """A short, unguessable-enough handle for a profile version (``tb-7f3a2c``), like a
    Midjourney style code; it only names the version, access is still checked."""
    return f"tb-{secrets.token_hex(3)}"


class TasteProfile(models.Model):
    """An immutable version of a board's taste. Generation refers to a version."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="profiles")
    version = models.PositiveIntegerField()
    encoder_id = models.CharField(max_length=64)
    # Hash of the inputs (image contents, encoder, algorithm version): the same
    # board state never yields two versions.
    fingerprint = models.CharField(max_length=64)
    image_count = models.PositiveIntegerField()
    data = models.JSONField()  # TasteProfileData.to_dict()
    # key -> {"name", "sha256"} for every image the profile was built from.
    images = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, blank=True)  # against the previous version
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    code = models.CharField(max_length=16, unique=True, default=new_profile_code, editable=False)

    class Meta:
        ordering = ["board", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["board", "version"], name="unique_profile_version"),
            models.UniqueConstraint(fields=["board", "fingerprint"], name="unique_profile_content"),
        ]

    def __str__(self) -> str:
        return f"{self.board} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("profile_detail", args=[self.board_id, self.version])

    @cached_property
    def document(self) -> TasteProfileData:
        """The stored profile as its typed document: what other apps read."""
        return TasteProfileData.from_dict(self.data)


class SearchVector(models.Model):
    """An image's embedding in the search space of one encoder (``space``), for taste
    search across a library. Derived from ImageEmbedding and rebuilt lazily, so a new
    encoder id or a new search-space version simply indexes afresh; searches never mix
    spaces. With PostgreSQL and pgvector, migration 0003 adds an ``embedding vector``
    column (and HNSW indexes are made per space); elsewhere ``vector`` is searched
    exactly with numpy."""

    sha256 = models.CharField(max_length=64)
    space = models.CharField(max_length=96)  # "<encoder id>|s<search-space version>"
    vector = models.BinaryField()  # float32, little-endian

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "sha256"], name="one_search_vector_per_space")
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} / {self.space}"


class ImageTag(models.Model):
    """A tag someone put on a board image by hand (automatic tags are computed from the
    measured descriptors and never stored)."""

    image = models.ForeignKey(BoardImage, on_delete=models.CASCADE, related_name="tags")
    term = models.CharField(max_length=60)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["term"]
        constraints = [models.UniqueConstraint(fields=["image", "term"], name="one_tag_per_image")]

    def __str__(self) -> str:
        return f"{self.term} on {self.image_id}"
