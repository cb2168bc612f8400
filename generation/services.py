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
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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

from .models import MAX_SEED, MAX_WEIGHT, Backend, ContentImage, Generation, Ingredient, Output

log = logging.getLogger(__name__)

MAX_BATCH = 16
MAX_CONTENTS = 16
MAX_INGREDIENTS = 8
# Not a stored backend: resolved at creation to grade or stylize by the profiles' medium.
AUTO = "auto"
AUTO_LABEL = "Auto (grade for photographs, stylize for painted and illustrated boards)"


@dataclass(frozen=True)
class IngredientSpec:
    profile: TasteProfile
    cluster: int | None
    weight: float


@dataclass(frozen=True)
class ContentSpec:
    """A picture to apply the taste to: its bytes, or a way to read them when their turn
    comes (an upload, a stored copy), so a request never holds every file at once."""

    name: str
    data: bytes = b""
    board_image: BoardImage | None = None
    # The team whose board or generation the picture came from (None: uploaded for
    # this run); a rerun checks the user may still see it.
    source_team_id: int | None = None
    reader: Callable[[], bytes] | None = field(default=None, compare=False, repr=False)
    # Width × height when known before reading (a board image, an output, a header).
    pixels: int | None = None

    def read(self) -> bytes:
        return self.reader() if self.reader is not None else self.data

    @property
    def team_id(self) -> int | None:
        if self.board_image is not None:
            return self.board_image.board.team_id
        return self.source_team_id


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
        BackendInfo(AUTO, AUTO_LABEL, True, "Built in; picks grade or stylize.", True),
        BackendInfo(Backend.GRADE, Backend.GRADE.label, True, "Built in; runs on the CPU.", True),
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


def _content_team_ids(contents: Sequence[ContentSpec | BoardImage]) -> list[int]:
    """The teams the pictures come from, in order (uploads for this run come from none)."""
    ids = []
    for item in contents:
        team_id = item.board.team_id if isinstance(item, BoardImage) else item.team_id
        if team_id is not None:
            ids.append(team_id)
    return ids


def _check_can_use(
    user: AbstractBaseUser,
    ingredients: Sequence[IngredientSpec],
    contents: Sequence[ContentSpec | BoardImage],
) -> None:
    """Every profile and picture a recipe draws on must be visible to the user, now: a
    run (or a rerun) can't carry a taste or a picture they can't see, even one whose
    board image was deleted since (its copy remembers the team it came from)."""
    team_ids = {ing.profile.board.team_id for ing in ingredients} | set(_content_team_ids(contents))
    for team_id in team_ids:
        if role_in_team(user, team_id) is None:
            raise PermissionDenied("The recipe uses a profile or image you can no longer see.")


def _resolve_team(
    user: AbstractBaseUser,
    team: Team | None,
    ingredients: Sequence[IngredientSpec],
    contents: Sequence[ContentSpec | BoardImage],
) -> Team:
    """The team the run belongs to, whose members will see its outputs: the one the user
    chose; else the team of the pictures (when they all come from one), else the first
    profile's. Pictures from several teams need a choice: a default would show one
    team's pictures, stylized, to another. Making a run there is an editor's action."""
    if team is None:
        picture_teams = list(dict.fromkeys(_content_team_ids(contents)))
        if len(picture_teams) > 1:
            raise ValidationError(
                "The images come from boards of different teams: choose the team this run "
                "belongs to (its members will see the results)."
            )
        if picture_teams:
            team = Team.objects.filter(pk=picture_teams[0]).first()
        elif ingredients:
            team = ingredients[0].profile.board.team
    if team is None:
        raise ValidationError("Choose at least one taste profile.")
    check_role(role_in_team(user, team.pk), Role.EDITOR)
    return team


def can_generate_in(user: AbstractBaseUser, team: Team) -> bool:
    return can(role_in_team(user, team.pk), Role.EDITOR)


# --- creating ---------------------------------------------------------------------------


def _finite_in(value: float, lo: float, hi: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi


def validate_ingredients(ingredients: Sequence[IngredientSpec]) -> None:
    """A blend the backends can draw: known sub-styles, finite weights, not all zero.
    The preview and every way of creating a run check this (ValidationError)."""
    if len(ingredients) > MAX_INGREDIENTS:
        raise ValidationError(f"Blend at most {MAX_INGREDIENTS} profiles.")
    for ing in ingredients:
        if not _finite_in(ing.weight, 0.0, MAX_WEIGHT):
            raise ValidationError(f"A weight is a number from 0 to {MAX_WEIGHT:g}.")
        if ing.cluster is not None and (
            isinstance(ing.cluster, bool)
            or not isinstance(ing.cluster, int)
            or not ing.profile.document.has_sub_style(ing.cluster)
        ):
            raise ValidationError(f"{ing.profile} has no sub-style {ing.cluster}.")
    if ingredients:
        taste_clusters(ingredients)  # raises when every weight is zero


def _validate(
    *,
    ingredients: Sequence[IngredientSpec],
    backend: str,
    strength: float,
    count: int,
    cohesion: float,
    seed: int,
    contents: Sequence[ContentSpec | BoardImage],
    sliders: dict[str, float],
) -> None:
    info = {b.id: b for b in backend_statuses()}.get(backend)
    if info is None:
        raise ValidationError(f"Unknown backend “{backend}”.")
    if not info.installed:
        raise ValidationError(f"The {backend} backend is not installed here. {info.message}")
    if not ingredients and backend != Backend.UPSCALE:
        raise ValidationError("Choose at least one taste profile.")
    validate_ingredients(ingredients)
    if not _finite_in(strength, 0.0, 1.0):
        raise ValidationError("Strength is between 0 and 1.")
    if not _finite_in(cohesion, 0.0, 1.0):
        raise ValidationError("Cohesion is between 0 (diverse) and 1 (cohesive).")
    for name, value in sliders.items():
        if not _finite_in(value, 0.0, 1.0):
            raise ValidationError(f"{name.capitalize()} is between 0 and 1.")
    if backend == Backend.GRADE:
        missing = [str(i.profile) for i in ingredients if not i.profile.document.grade]
        if missing:
            raise ValidationError(
                f"{', '.join(missing)} was analysed before grade recovery: analyse the board "
                "again to grade with it, or choose Stylize."
            )
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        raise ValidationError(f"A batch has 1 to {MAX_BATCH} images.")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValidationError(f"The seed is a whole number from 0 to {MAX_SEED}.")
    if info.needs_content and not contents:
        raise ValidationError("Choose or upload at least one image to apply the taste to.")
    if len(contents) > MAX_CONTENTS:
        raise ValidationError(f"Use at most {MAX_CONTENTS} content images.")


def _pixels_of(item: ContentSpec | BoardImage) -> int | None:
    if isinstance(item, BoardImage):
        return item.width * item.height
    return item.pixels


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f} MP"


def check_upscale_size(contents: Sequence[ContentSpec | BoardImage]) -> None:
    """Upscale ×4 costs time in proportion to pixels: refuse what would hold a worker
    far longer than a click should, saying how long it would take."""
    from .scheduling import describe_seconds, estimate_seconds

    per_image = settings.TASTEBASE_UPSCALE_MAX_PIXELS
    per_job = settings.TASTEBASE_UPSCALE_MAX_JOB_PIXELS
    total = 0
    for item in contents:
        pixels = _pixels_of(item) or 0
        total += pixels
        if pixels > per_image:
            name = item.original_name if isinstance(item, BoardImage) else item.name
            raise ValidationError(
                f"{name} is {_megapixels(pixels)}; Upscale ×4 takes images up to "
                f"{_megapixels(per_image)} here (that one would keep a worker busy for "
                f"{describe_seconds(estimate_seconds(Backend.UPSCALE, pixels))}). Use a "
                "smaller image, or ask an administrator to raise TASTEBASE_UPSCALE_MAX_PIXELS."
            )
    if total > per_job:
        raise ValidationError(
            f"These images add up to {_megapixels(total)}; one upscale job takes up to "
            f"{_megapixels(per_job)} ({describe_seconds(estimate_seconds(Backend.UPSCALE, per_job))} "
            "of worker time). Upscale them in smaller groups."
        )


def check_content_budget(contents: Sequence[ContentSpec | BoardImage]) -> None:
    """Counts and pixels of the pictures, checked before any of them is read or decoded."""
    if len(contents) > MAX_CONTENTS:
        raise ValidationError(f"Use at most {MAX_CONTENTS} content images.")
    budget = settings.TASTEBASE_GENERATE_MAX_REQUEST_PIXELS
    total = sum(_pixels_of(item) or 0 for item in contents)
    if total > budget:
        raise ValidationError(
            f"The content images add up to {_megapixels(total)}; a run takes up to "
            f"{_megapixels(budget)}. Use fewer or smaller images."
        )


def content_from_board_image(image: BoardImage) -> ContentSpec:
    """A board image as a content picture, read when its turn comes (its served copy:
    orientation applied, metadata removed; the original while that copy is being made)."""

    def read() -> bytes:
        field_file = image.display or image.original
        with field_file.open("rb") as fh:
            return fh.read()

    return ContentSpec(
        image.original_name, b"", image, image.board.team_id, read, image.width * image.height
    )


def _checked_content(spec: ContentSpec) -> tuple[bytes, int]:
    """Content images pass the same checks as board uploads; stored as PNG. Returns the
    PNG and the picture's pixel count."""
    try:
        # The same full decode and checks as inspect_image, without hashes we don't need.
        image = imaging.open_first_frame(
            spec.read(), max_pixels=settings.TASTEBASE_MAX_IMAGE_PIXELS
        )
    except imaging.ImageRejected as exc:
        raise ValidationError(f"{spec.name}: {exc}") from None
    except OSError:
        raise ValidationError(f"{spec.name}: the stored picture is missing.") from None
    out = io.BytesIO()
    image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, "PNG")
    return out.getvalue(), image.width * image.height


def _store_contents(specs: Sequence[ContentSpec], backend: str) -> list[tuple[str, int]]:
    """Check and store each picture in turn (one decoded at a time); returns the stored
    names and pixel counts. Stored before the database transaction, so no write lock
    is held while images are decoded; the caller deletes them if the run isn't saved."""
    stored: list[tuple[str, int]] = []
    try:
        for spec in specs:
            png, pixels = _checked_content(spec)
            if backend == Backend.UPSCALE:
                # The header said one size, the decoded picture may say another (EXIF).
                check_upscale_size([ContentSpec(spec.name, pixels=pixels)])
            name = default_storage.save(
                f"generation/contents/{uuid.uuid4().hex}.png", ContentFile(png)
            )
            stored.append((name, pixels))
    except BaseException as exc:
        for name, _ in stored:
            default_storage.delete(name)
        if is_storage_full(exc):
            raise ValidationError(STORAGE_FULL_MESSAGE) from exc
        raise
    return stored


def generation_create(
    *,
    user: AbstractBaseUser,
    ingredients: Sequence[IngredientSpec],
    contents: Sequence[ContentSpec | BoardImage] = (),
    team: Team | None = None,
    backend: str = AUTO,
    strength: float = 0.8,
    count: int = 4,
    cohesion: float = 1.0,
    seed: int = 0,
    prompt: str = "",
    negative_prompt: str = "",
    colour: float = 1.0,
    tone: float = 1.0,
    texture: float = 1.0,
) -> Generation:
    """Start a run. `contents` are board images (read here) or uploaded pictures.

    The run belongs to `team` (the user's choice); without one, to the team of the
    pictures, else of the first profile. The user must be an editor there and see every
    profile and picture used (PermissionDenied / Http404 otherwise). Bad recipes raise
    ValidationError and store nothing. Counts and sizes are checked before any picture
    is read; pictures are then decoded one at a time.
    """
    # 1. Who may: an editor of the run's team who sees every ingredient.
    team = _resolve_team(user, team, ingredients, contents)
    _check_can_use(user, ingredients, contents)
    # 2. What: a recipe the backends can make, with pictures within the budgets.
    if backend == Backend.UPSCALE:
        count = len(contents)  # one output per image
    sliders = {"colour": colour, "tone": tone, "texture": texture}
    _validate(
        ingredients=ingredients, backend=backend, strength=strength, count=count,
        cohesion=cohesion, seed=seed, contents=contents, sliders=sliders,
    )  # fmt: skip
    backend, reason = _resolve_backend(backend, ingredients)
    if backend in (Backend.GRADE, Backend.STYLIZE) and cohesion >= 1.0 and contents:
        # A cohesive batch gives every slot the same look, and these backends are
        # deterministic: more slots than pictures would be identical copies.
        count = min(count, len(contents))
    check_content_budget(contents)
    if backend == Backend.UPSCALE:
        check_upscale_size(contents)
    # 3. The content pictures, read and checked like uploads, one at a time.
    specs = [content_from_board_image(c) if isinstance(c, BoardImage) else c for c in contents]
    stored = _store_contents(specs, backend)
    pixels = [p for _, p in stored]
    # Each slot works through its content picture (slots cycle through the pictures).
    work = sum(pixels[i % len(pixels)] for i in range(count)) if pixels else 0
    try:
        with transaction.atomic():
            generation = Generation(
                team=team, created_by=user, backend=backend, strength=strength, count=count,
                cohesion=cohesion, seed=seed, prompt=prompt.strip(),
                negative_prompt=negative_prompt.strip(), work_pixels=work,
                backend_reason=reason[:300], **sliders,
            )  # fmt: skip
            generation.full_clean(exclude=["created_by", "team"])
            generation.save()
            Ingredient.objects.bulk_create(
                Ingredient(
                    generation=generation, profile=i.profile, cluster=i.cluster, weight=i.weight
                )
                for i in ingredients
            )
            ContentImage.objects.bulk_create(
                ContentImage(
                    generation=generation,
                    index=index,
                    board_image=spec.board_image,
                    name=spec.name[:255],
                    file=name,
                    source_team_id=spec.team_id,
                )
                for index, (spec, (name, _)) in enumerate(zip(specs, stored, strict=True))
            )
            transaction.on_commit(lambda: dispatch(Generation, generation.pk))
    except BaseException:
        for name, _ in stored:
            default_storage.delete(name)
        raise
    return generation


def _resolve_backend(backend: str, ingredients: Sequence[IngredientSpec]) -> tuple[str, str]:
    """The backend that runs, and why (shown on the page and in the CLI)."""
    if backend != AUTO:
        return backend, "chosen"
    from .grade import choose_backend

    return choose_backend(ingredients)


def generation_upscale(*, user: AbstractBaseUser, source: BoardImage | Output) -> Generation:
    """Upscale ×4 one board image or one output: a new run in the source's team."""
    if isinstance(source, BoardImage):
        content: ContentSpec | BoardImage = source
        team = source.board.team
    else:
        output = source

        def read() -> bytes:
            with output.file.open("rb") as fh:
                return fh.read()

        content = ContentSpec(
            f"output {source.index + 1} of generation {source.generation_id}",
            source_team_id=source.generation.team_id, reader=read,
            pixels=source.width * source.height or None,
        )  # fmt: skip
        team = source.generation.team
    return generation_create(
        user=user, team=team, ingredients=[], backend=Backend.UPSCALE, contents=[content]
    )


def _stored_content(content: ContentImage) -> ContentSpec:
    def read() -> bytes:
        with content.file.open("rb") as fh:
            return fh.read()

    image = content.board_image
    source_team = image.board.team_id if image is not None else content.source_team_id
    return ContentSpec(content.name, b"", image, source_team, read)


def generation_rerun(*, generation: Generation, user: AbstractBaseUser, **changes) -> Generation:
    """The same recipe again (same seed: the same images), or with some fields changed.
    Access is checked again: the user must still see every profile and every picture
    (the team each came from, even when its board image was deleted since)."""
    contents = [
        _stored_content(c) for c in generation.contents.select_related("board_image__board")
    ]
    recipe = {
        "backend": generation.backend, "strength": generation.strength, "count": generation.count,
        "cohesion": generation.cohesion, "seed": generation.seed, "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt, "colour": generation.colour,
        "tone": generation.tone, "texture": generation.texture,
    }  # fmt: skip
    recipe.update(changes)
    ingredients = [
        IngredientSpec(i.profile, i.cluster, i.weight)
        for i in generation.ingredients.select_related("profile__board__team")
    ]
    return generation_create(
        team=generation.team, user=user, ingredients=ingredients, contents=contents, **recipe
    )


def generation_delete(*, generation: Generation) -> None:
    """Delete a run, its outputs and its copies of the pictures (an editor's action).
    A worker rendering it meanwhile finds the row gone and stops."""
    with transaction.atomic():
        names = [o.file.name for o in generation.outputs.all() if o.file]
        names += [c.file.name for c in generation.contents.all() if c.file]
        generation.delete()

        def delete_files() -> None:
            for name in names:
                try:
                    default_storage.delete(name)
                except OSError:
                    log.warning("Could not delete %s; it is orphaned", name, exc_info=True)

        transaction.on_commit(delete_files)
