"""Generations: a recipe (profile versions + weights, strength, batch, seed, backend)
and the outputs it produced, each with its style fidelity score."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from config.leases import LeasedWork
from moodboards.models import BoardImage, Team
from taste.models import TasteProfile

MAX_WEIGHT = 1000.0
MAX_SEED = 2**31 - 1


def validate_finite(value: float) -> None:
    """NaN passes every range check (each comparison is False) and Infinity can't be
    written as JSON: a recipe number must be a real, finite one."""
    if value is not None and not math.isfinite(value):
        raise ValidationError("Use a finite number.", code="not_finite")


class Backend(models.TextChoices):
    GRADE = "grade", "Grade (the board's colour grade, tone and grain on your photos, CPU)"
    STYLIZE = (
        "stylize",
        "Stylize (painterly: style transfer for painted and illustrated boards, CPU)",
    )
    DIFFUSION = "diffusion", "Diffusion (text-to-image with IP-Adapter, GPU)"
    UPSCALE = "upscale", "Upscale ×4 (Real-ESRGAN)"


class GenerationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    PARTIAL = "partial", "Done, some images failed"
    FAILED = "failed", "Failed"


class Generation(LeasedWork):
    """One press of Generate. Its fields are the recipe, frozen when it is made:
    re-running or tweaking makes a new Generation."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="generations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    backend = models.CharField(max_length=12, choices=Backend.choices, default=Backend.STYLIZE)
    strength = models.FloatField(
        default=0.8, validators=[validate_finite, MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    count = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(16)]
    )
    # 1 = cohesive (every image the same blended taste), 0 = diverse (spread across
    # the sub-styles and their variation).
    cohesion = models.FloatField(
        default=1.0, validators=[validate_finite, MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    seed = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(MAX_SEED)])
    # The grade backend's creative sliders (0-1, beside strength): how much of the
    # grade's colour change, of its tone curve, and of the board's grain.
    colour = models.FloatField(
        default=1.0, validators=[validate_finite, MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    tone = models.FloatField(
        default=1.0, validators=[validate_finite, MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    texture = models.FloatField(
        default=1.0, validators=[validate_finite, MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    # Why this backend ran (e.g. "auto: the profile's medium is photograph"), for the page.
    backend_reason = models.CharField(max_length=300, blank=True)
    prompt = models.TextField(blank=True)  # diffusion only
    negative_prompt = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=GenerationStatus.choices, default=GenerationStatus.QUEUED
    )
    done = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # Input pixels the backend works through (every slot's content image), fixed at
    # creation: with measured seconds per pixel it gives the time a job will take.
    work_pixels = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "created"], name="generation_status_created")]

    def __str__(self) -> str:
        return f"Generation {self.pk} ({self.backend}, {self.status})"

    def get_absolute_url(self) -> str:
        return reverse("generation_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in (GenerationStatus.QUEUED, GenerationStatus.RUNNING)

    @property
    def percent(self) -> int:
        if not self.is_active:
            return 100
        return int(100 * self.done / self.count) if self.count else 0


class Ingredient(models.Model):
    """One profile version (or one of its sub-styles) in the recipe, with its weight."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="ingredients")
    # PROTECT: a profile version used by a generation is part of its record.
    profile = models.ForeignKey(TasteProfile, on_delete=models.PROTECT, related_name="+")
    cluster = models.IntegerField(null=True, blank=True)  # None = the whole profile
    weight = models.FloatField(
        validators=[validate_finite, MinValueValidator(0.0), MaxValueValidator(MAX_WEIGHT)]
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        part = f" sub-style {self.cluster + 1}" if self.cluster is not None else ""
        return f"{self.profile}{part} × {self.weight:g}"


def _content_path(instance: ContentImage, filename: str) -> str:
    return f"generation/{instance.generation_id}/content-{instance.index}.png"


class ContentImage(models.Model):
    """A picture the taste is applied to: a board image, or one uploaded for this run."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="contents")
    index = models.PositiveSmallIntegerField()
    board_image = models.ForeignKey(BoardImage, null=True, blank=True, on_delete=models.SET_NULL)
    file = models.FileField(upload_to=_content_path, max_length=255)  # our own copy
    name = models.CharField(max_length=255)
    # The team whose board (or generation) the picture came from; None for a picture
    # uploaded for this run. Kept as a plain id, not a foreign key: when the board
    # image (or its team) is deleted, a rerun must still know where the picture came
    # from and whether the user may still see that team.
    source_team_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "index"], name="unique_content_index")
        ]

    def __str__(self) -> str:
        return self.name


def _output_path(instance: Output, filename: str) -> str:
    return f"generation/{instance.generation_id}/output-{instance.index}-{filename}"


class Output(models.Model):
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="outputs")
    index = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to=_output_path, max_length=255, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    content = models.ForeignKey(ContentImage, null=True, blank=True, on_delete=models.SET_NULL)
    # Style fidelity: how close the output's style lands to the recipe's blended
    # taste, against how close the untouched content image was (0-1, higher = closer).
    fidelity = models.FloatField(null=True, blank=True)
    content_fidelity = models.FloatField(null=True, blank=True)
    # What the taste added: mean CIEDE2000 between the output and its content image.
    delta_e = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]
        constraints = [
            # A redelivered task can't add a second image for the same slot.
            models.UniqueConstraint(fields=["generation", "index"], name="unique_output_index")
        ]

    def __str__(self) -> str:
        return f"{self.generation} #{self.index}"

    @property
    def ok(self) -> bool:
        return bool(self.file) and not self.error

    @property
    def fidelity_gain(self) -> float | None:
        if self.fidelity is None or self.content_fidelity is None:
            return None
        return self.fidelity - self.content_fidelity
