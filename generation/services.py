"""Writes for generation: create a run from a recipe (access, validation, content copies).

A Generation's fields are its recipe, frozen at creation. Rendering it is
`generation.rendering`; this module decides what may be made, by whom, from what.
Every way of starting a run (the Generate page, the API, upscale buttons, reruns)
goes through `generation_create`, which resolves the team and checks access itself,
so the rules are written once.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from config.leases import dispatch
from config.safe_storage import STORAGE_FULL_MESSAGE, is_storage_full
from moodboards import imaging
from moodboards.access import can, check_role, role_in_team
from moodboards.models import BoardImage, Role, Team
from taste.document import SubStyle
from taste.exports import prompt_text
from taste.models import TasteProfile

from .models import Backend, ContentImage, Generation, Ingredient, Output

log = logging.getLogger(__name__)

MAX_BATCH = 16
MAX_CONTENTS = 16
MAX_INGREDIENTS = 8


@dataclass(frozen=True)
class IngredientSpec:
    profile: TasteProfile
    cluster: int | None
    weight: float


@dataclass(frozen=True)
class ContentSpec:
    """A picture to apply the taste to, as bytes (an upload, or a stored copy)."""

    name: str
    data: bytes
    board_image: BoardImage | None = None


# --- the taste of a recipe ------------------------------------------------------------


def taste_clusters(
    ingredients: Sequence[IngredientSpec | Ingredient],
) -> list[tuple[np.ndarray, float]]:
    """(raw Magenta style vector, weight) per sub-style the recipe draws on.

    A whole profile contributes each of its sub-styles in proportion to its share of
    the board; a single sub-style contributes alone. Ingredient weights scale both.
    """
    out = [
        (sub.style_vector, float(ing.weight * sub.share))
        for ing, sub in _sub_styles(ingredients)
        if ing.weight * sub.share > 0
    ]
    if not out:
        raise ValidationError("Give at least one profile a weight above zero.")
    return out


def _sub_styles(
    ingredients: Sequence[IngredientSpec | Ingredient],
) -> list[tuple[IngredientSpec | Ingredient, SubStyle]]:
    return [
        (ing, sub) for ing in ingredients for sub in ing.profile.document.sub_styles(ing.cluster)
    ]


def blended_taste(ingredients: Sequence[IngredientSpec | Ingredient]) -> np.ndarray:
    from .stylize import blend_style

    clusters = taste_clusters(ingredients)
    return blend_style([v for v, _ in clusters], [w for _, w in clusters])


def recipe_prompts(
    ingredients: Sequence[IngredientSpec | Ingredient], prompt: str, negative: str
) -> tuple[str, str]:
    """The user's prompt plus the profiles' keywords; their avoids as the negative."""
    keywords: list[str] = []
    avoids: list[str] = []
    for ing in sorted(ingredients, key=lambda i: -i.weight):
        terms, avoid_terms = ing.profile.document.prompt_terms(ing.cluster)
        keywords += terms
        avoids += avoid_terms
    positive, negative_terms = prompt_text(keywords, avoids)
    joined = ", ".join(p for p in (prompt.strip(), positive) if p)
    neg = ", ".join(p for p in (negative.strip(), negative_terms) if p)
    return joined, neg


def ip_adapter_centroids(
    ingredients: Sequence[IngredientSpec | Ingredient], dim: int
) -> tuple[list[np.ndarray], list[float]]:
    """Sub-style centroids of `dim` values (the IP-Adapter's image-encoder space) and
    their weights; profiles analysed with another encoder contribute none."""
    centroids, weights = [], []
    for ing, sub in _sub_styles(ingredients):
        if len(sub.centroid) == dim:
            centroids.append(sub.centroid)
            weights.append(ing.weight * sub.weight)
    return centroids, weights


# --- backends ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendInfo:
    id: str
    label: str
    installed: bool
    message: str
    needs_content: bool


def backend_statuses() -> list[BackendInfo]:
    from .weights import diffusion_status

    status = diffusion_status(settings.TASTEBASE_WEIGHTS_REGISTRY)
    return [
        BackendInfo(
            Backend.STYLIZE, Backend.STYLIZE.label, True, "Built in; runs on the CPU.", True
        ),
        BackendInfo(
            Backend.DIFFUSION, Backend.DIFFUSION.label, status.installed, status.message, False
        ),
        BackendInfo(
            Backend.UPSCALE, Backend.UPSCALE.label, True, "Built in; runs on the CPU.", True
        ),
    ]


# --- access -------------------------------------------------------------------------------


def _check_can_use(
    user: AbstractBaseUser,
    ingredients: Sequence[IngredientSpec],
    contents: Sequence[ContentSpec | BoardImage],
) -> None:
    """Every profile and board image a recipe draws on must be visible to the user,
    now: a run (or a rerun) can't carry a taste or a picture they can't see."""
    team_ids = {ing.profile.board.team_id for ing in ingredients}
    for item in contents:
        image = item if isinstance(item, BoardImage) else item.board_image
        if image is not None:
            team_ids.add(image.board.team_id)
    for team_id in team_ids:
        if role_in_team(user, team_id) is None:
            raise PermissionDenied("The recipe uses a profile or image you can no longer see.")


def _resolve_team(
    user: AbstractBaseUser,
    team: Team | None,
    ingredients: Sequence[IngredientSpec],
    contents: Sequence[ContentSpec | BoardImage],
) -> Team:
    """The team the run belongs to: the one given, else the first profile's board's
    (else the first board image's); making a run there is an editor's action."""
    if team is None:
        if ingredients:
            team = ingredients[0].profile.board.team
        else:
            images = [c if isinstance(c, BoardImage) else c.board_image for c in contents]
            team = next((i.board.team for i in images if i is not None), None)
    if team is None:
        raise ValidationError("Choose at least one taste profile.")
    check_role(role_in_team(user, team.pk), Role.EDITOR)
    return team


def can_generate_in(user: AbstractBaseUser, team: Team) -> bool:
    return can(role_in_team(user, team.pk), Role.EDITOR)


# --- creating ---------------------------------------------------------------------------


def _validate(
    *,
    ingredients: Sequence[IngredientSpec],
    backend: str,
    strength: float,
    count: int,
    cohesion: float,
    contents: Sequence[ContentSpec | BoardImage],
) -> None:
    info = {b.id: b for b in backend_statuses()}.get(backend)
    if info is None:
        raise ValidationError(f"Unknown backend “{backend}”.")
    if not info.installed:
        raise ValidationError(f"The {backend} backend is not installed here. {info.message}")
    if not ingredients and backend != Backend.UPSCALE:
        raise ValidationError("Choose at least one taste profile.")
    if len(ingredients) > MAX_INGREDIENTS:
        raise ValidationError(f"Blend at most {MAX_INGREDIENTS} profiles.")
    for ing in ingredients:
        if ing.weight < 0:
            raise ValidationError("Weights can't be negative.")
        if ing.cluster is not None and not ing.profile.document.has_sub_style(ing.cluster):
            raise ValidationError(f"{ing.profile} has no sub-style {ing.cluster + 1}.")
    if ingredients:
        taste_clusters(ingredients)  # raises when every weight is zero
    if not 0.0 <= strength <= 1.0:
        raise ValidationError("Strength is between 0 and 1.")
    if not 0.0 <= cohesion <= 1.0:
        raise ValidationError("Cohesion is between 0 (diverse) and 1 (cohesive).")
    if not 1 <= count <= MAX_BATCH:
        raise ValidationError(f"A batch has 1 to {MAX_BATCH} images.")
    if info.needs_content and not contents:
        raise ValidationError("Choose or upload at least one image to apply the taste to.")
    if len(contents) > MAX_CONTENTS:
        raise ValidationError(f"Use at most {MAX_CONTENTS} content images.")


def content_from_board_image(image: BoardImage) -> ContentSpec:
    """A board image's bytes as a content picture (its served copy: orientation applied,
    metadata removed; the original while that copy is still being made)."""
    field = image.display or image.original
    with field.open("rb") as fh:
        return ContentSpec(image.original_name, fh.read(), image)


def _checked_content(spec: ContentSpec) -> bytes:
    """Content images pass the same checks as board uploads; stored as PNG."""
    try:
        # The same full decode and checks as inspect_image, without hashes we don't need.
        image = imaging.open_first_frame(spec.data, max_pixels=settings.TASTEBASE_MAX_IMAGE_PIXELS)
    except imaging.ImageRejected as exc:
        raise ValidationError(f"{spec.name}: {exc}") from None
    out = io.BytesIO()
    image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, "PNG")
    return out.getvalue()


def generation_create(
    *,
    user: AbstractBaseUser,
    ingredients: Sequence[IngredientSpec],
    contents: Sequence[ContentSpec | BoardImage] = (),
    team: Team | None = None,
    backend: str = Backend.STYLIZE,
    strength: float = 0.8,
    count: int = 4,
    cohesion: float = 1.0,
    seed: int = 0,
    prompt: str = "",
    negative_prompt: str = "",
) -> Generation:
    """Start a run. `contents` are board images (read here) or uploaded pictures.

    The run belongs to `team`, or by default to the first profile's board's team; the
    user must be an editor there and see every profile and board image used
    (PermissionDenied / Http404 otherwise). Bad recipes raise ValidationError and
    store nothing.
    """
    # 1. Who may: an editor of the run's team who sees every ingredient.
    team = _resolve_team(user, team, ingredients, contents)
    _check_can_use(user, ingredients, contents)
    # 2. What: a recipe the backends can make.
    if backend == Backend.UPSCALE:
        count = len(contents)  # one output per image
    _validate(
        ingredients=ingredients, backend=backend, strength=strength, count=count,
        cohesion=cohesion, contents=contents,
    )  # fmt: skip
    # 3. The content pictures, read and checked like uploads.
    specs = [content_from_board_image(c) if isinstance(c, BoardImage) else c for c in contents]
    pngs = [_checked_content(spec) for spec in specs]
    stored: list[str] = []
    try:
        with transaction.atomic():
            generation = Generation(
                team=team, created_by=user, backend=backend, strength=strength, count=count,
                cohesion=cohesion, seed=seed, prompt=prompt.strip(), negative_prompt=negative_prompt.strip(),
            )  # fmt: skip
            generation.full_clean(exclude=["created_by", "team"])
            generation.save()
            Ingredient.objects.bulk_create(
                Ingredient(
                    generation=generation, profile=i.profile, cluster=i.cluster, weight=i.weight
                )
                for i in ingredients
            )
            for index, (spec, png) in enumerate(zip(specs, pngs, strict=True)):
                content = ContentImage(
                    generation=generation,
                    index=index,
                    board_image=spec.board_image,
                    name=spec.name[:255],
                )
                content.file.save("content.png", ContentFile(png), save=False)
                stored.append(content.file.name)
                content.save()
            transaction.on_commit(lambda: dispatch(Generation, generation.pk))
    except Exception as exc:
        for name in stored:
            default_storage.delete(name)
        if is_storage_full(exc):
            raise ValidationError(STORAGE_FULL_MESSAGE) from exc
        raise
    return generation


def generation_upscale(*, user: AbstractBaseUser, source: BoardImage | Output) -> Generation:
    """Upscale ×4 one board image or one output: a new run in the source's team."""
    if isinstance(source, BoardImage):
        content: ContentSpec | BoardImage = source
        team = source.board.team
    else:
        with source.file.open("rb") as fh:
            content = ContentSpec(
                f"output {source.index + 1} of generation {source.generation_id}", fh.read()
            )
        team = source.generation.team
    return generation_create(
        user=user, team=team, ingredients=[], backend=Backend.UPSCALE, contents=[content]
    )


def generation_rerun(*, generation: Generation, user: AbstractBaseUser, **changes) -> Generation:
    """The same recipe again (same seed: the same images), or with some fields changed.
    Access is checked again: the user must still see every ingredient."""
    contents = []
    for c in generation.contents.select_related("board_image__board"):
        with c.file.open("rb") as fh:
            contents.append(ContentSpec(c.name, fh.read(), c.board_image))
    recipe = {
        "backend": generation.backend, "strength": generation.strength, "count": generation.count,
        "cohesion": generation.cohesion, "seed": generation.seed, "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
    }  # fmt: skip
    recipe.update(changes)
    ingredients = [
        IngredientSpec(i.profile, i.cluster, i.weight)
        for i in generation.ingredients.select_related("profile__board__team")
    ]
    return generation_create(
        team=generation.team, user=user, ingredients=ingredients, contents=contents, **recipe
    )
