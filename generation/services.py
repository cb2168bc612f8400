"""Writes for generation: create a run from a recipe, render it, keep outputs whole.

A Generation's fields are its recipe, frozen at creation. The worker renders each
slot of the batch independently: a slot is written (file, then row) in full or not
at all, and a slot that already has a row is skipped, so a redelivered task after
a killed worker finishes the batch without duplicate outputs.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from PIL import Image

from config.safe_storage import STORAGE_FULL_MESSAGE, is_storage_full
from moodboards import imaging
from moodboards.models import BoardImage, Team
from taste.models import TasteProfile

from .models import Backend, ContentImage, Generation, GenerationStatus, Ingredient, Output

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
    out: list[tuple[np.ndarray, float]] = []
    for ing in ingredients:
        clusters = ing.profile.data["clusters"]
        if ing.cluster is not None:
            chosen = [(clusters[ing.cluster], 1.0)]
        else:
            total = sum(c["weight"] for c in clusters) or 1.0
            chosen = [(c, c["weight"] / total) for c in clusters]
        for cluster, share in chosen:
            if ing.weight * share > 0:
                out.append(
                    (
                        np.asarray(cluster["style_vector"], dtype=np.float32),
                        float(ing.weight * share),
                    )
                )
    if not out:
        raise ValidationError("Give at least one profile a weight above zero.")
    return out


def blended_taste(ingredients: Sequence[IngredientSpec | Ingredient]) -> np.ndarray:
    from .stylize import blend_style

    clusters = taste_clusters(ingredients)
    return blend_style([v for v, _ in clusters], [w for _, w in clusters])


def recipe_prompts(
    ingredients: Sequence[IngredientSpec | Ingredient], prompt: str, negative: str
) -> tuple[str, str]:
    """The user's prompt plus the profiles' keywords; their avoids as the negative."""
    from .exports import prompt_text

    keywords, avoids = [], []
    for ing in sorted(ingredients, key=lambda i: -i.weight):
        data = ing.profile.data
        source = data["clusters"][ing.cluster] if ing.cluster is not None else data
        keywords += source["keywords"]
        avoids += data["avoids"]
    positive, negative_terms = prompt_text(keywords, avoids)
    joined = ", ".join(p for p in (prompt.strip(), positive) if p)
    neg = ", ".join(p for p in (negative.strip(), negative_terms) if p)
    return joined, neg


# --- backends ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendInfo:
    id: str
    label: str
    installed: bool
    message: str
    needs_content: bool


def backend_statuses() -> list[BackendInfo]:
    from .diffusion import diffusion_status

    status = diffusion_status(weights_registry())
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


def weights_registry():
    return settings.VAR_DIR / "weights.json"


# --- creating ---------------------------------------------------------------------------


def _validate(
    *,
    ingredients: Sequence[IngredientSpec],
    backend: str,
    strength: float,
    count: int,
    cohesion: float,
    contents: Sequence[ContentSpec],
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
        if ing.cluster is not None and not 0 <= ing.cluster < len(ing.profile.data["clusters"]):
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
    team: Team,
    user: AbstractBaseUser | None,
    ingredients: Sequence[IngredientSpec],
    backend: str = Backend.STYLIZE,
    strength: float = 0.8,
    count: int = 4,
    cohesion: float = 1.0,
    seed: int = 0,
    prompt: str = "",
    negative_prompt: str = "",
    contents: Sequence[ContentSpec] = (),
) -> Generation:
    if backend == Backend.UPSCALE:
        count = len(contents)  # one output per image
    _validate(
        ingredients=ingredients, backend=backend, strength=strength, count=count,
        cohesion=cohesion, contents=contents,
    )  # fmt: skip
    pngs = [_checked_content(spec) for spec in contents]
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
            for index, (spec, png) in enumerate(zip(contents, pngs, strict=True)):
                content = ContentImage(
                    generation=generation,
                    index=index,
                    board_image=spec.board_image,
                    name=spec.name[:255],
                )
                content.file.save("content.png", ContentFile(png), save=False)
                stored.append(content.file.name)
                content.save()
            transaction.on_commit(lambda: enqueue(generation))
    except Exception as exc:
        for name in stored:
            default_storage.delete(name)
        if is_storage_full(exc):
            raise ValidationError(STORAGE_FULL_MESSAGE) from exc
        raise
    return generation


def generation_rerun(
    *, generation: Generation, user: AbstractBaseUser | None, **changes
) -> Generation:
    """The same recipe again (same seed: the same images), or with some fields changed."""
    contents = []
    for c in generation.contents.all():
        with c.file.open("rb") as fh:
            contents.append(ContentSpec(c.name, fh.read(), c.board_image))
    recipe = {
        "backend": generation.backend, "strength": generation.strength, "count": generation.count,
        "cohesion": generation.cohesion, "seed": generation.seed, "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
    }  # fmt: skip
    recipe.update(changes)
    ingredients = [
        IngredientSpec(i.profile, i.cluster, i.weight) for i in generation.ingredients.all()
    ]
    return generation_create(
        team=generation.team, user=user, ingredients=ingredients, contents=contents, **recipe
    )


def enqueue(generation: Generation) -> None:
    """Send the batch to its queue (the task picks ml or diffusion by backend)."""
    from config.leases import dispatch

    dispatch(Generation, generation.pk)


# --- running ----------------------------------------------------------------------------


def _load(file_field) -> Image.Image:
    with file_field.open("rb") as fh:
        image = Image.open(fh)
        image.load()
    return image


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "PNG")
    else:
        image.convert("RGB").save(out, "JPEG", quality=94)
    return out.getvalue()


def _save_output(generation: Generation, index: int, image: Image.Image | None, **fields) -> None:
    """File first, then the row; a slot someone else filled meanwhile keeps theirs."""
    name = ""
    if image is not None:
        ext = "png" if image.mode == "RGBA" else "jpg"
        name = default_storage.save(
            f"generation/{generation.pk}/output-{index}.{ext}", ContentFile(_encode(image))
        )
        fields.update(width=image.width, height=image.height)
    try:
        Output.objects.create(generation=generation, index=index, file=name, **fields)
    except IntegrityError:
        if name:
            default_storage.delete(name)


class _Renderer:
    """Renders slot i of a batch for one backend."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.ingredients = list(generation.ingredients.select_related("profile"))
        self.contents = list(generation.contents.all())
        self.plan: list[np.ndarray] = []
        self.taste: np.ndarray | None = None
        if self.ingredients:
            from .batch import plan_batch

            clusters = taste_clusters(self.ingredients)
            self.plan = plan_batch(
                clusters, count=generation.count, cohesion=generation.cohesion, seed=generation.seed
            )
            self.taste = blended_taste(self.ingredients)
        self._content_images: dict[int, Image.Image] = {}

    def content(self, index: int) -> tuple[ContentImage, Image.Image]:
        content = self.contents[index % len(self.contents)]
        if content.index not in self._content_images:
            self._content_images[content.index] = _load(content.file)
        return content, self._content_images[content.index]

    def render(self, index: int) -> tuple[Image.Image, dict]:
        backend = self.generation.backend
        if backend == Backend.STYLIZE:
            from .fidelity import fidelity_score
            from .stylize import stylize

            content, image = self.content(index)
            out = stylize(image, self.plan[index], strength=self.generation.strength,
                          max_side=settings.TASTEBASE_GENERATE_MAX_SIDE)  # fmt: skip
            score = fidelity_score(out, image, self.taste)
            return out, {
                "content": content,
                "fidelity": score.output,
                "content_fidelity": score.content,
            }
        if backend == Backend.UPSCALE:
            from .upscale import upscale

            content, image = self.content(index)
            return upscale(image), {"content": content}
        if backend == Backend.DIFFUSION:
            return self._diffuse(index)
        raise ValueError(f"backend {backend} is not rendered here")

    def _diffuse(self, index: int) -> tuple[Image.Image, dict]:
        from .diffusion import FAMILY_DEFAULTS, DiffusionConfig, get_backend, ip_scale_for_strength
        from .fidelity import fidelity_score

        config = DiffusionConfig.from_env(weights_registry())
        if config is None:
            raise RuntimeError("No diffusion weights are registered on this worker.")
        pipe = get_backend(config)
        defaults = FAMILY_DEFAULTS[config.family]
        prompt, negative = recipe_prompts(
            self.ingredients, self.generation.prompt, self.generation.negative_prompt
        )
        embeds = self._ip_embeds(index, pipe.image_embed_dim)
        size = int(settings.TASTEBASE_DIFFUSION_SIZE or defaults["size"])
        [image] = pipe(
            prompt=prompt,
            negative_prompt=negative,
            ip_embeds=embeds,
            ip_scale=ip_scale_for_strength(self.generation.strength) if embeds is not None else 0.0,
            seed=self.generation.seed + index,
            steps=int(settings.TASTEBASE_DIFFUSION_STEPS or config.default_steps),
            width=size,
            height=size,
        )
        score = fidelity_score(image, None, self.taste)
        return image, {"fidelity": score.output}

    def _ip_embeds(self, index: int, dim: int | None) -> np.ndarray | None:
        """Sub-style centroids in the IP-Adapter's image-encoder space, if the profiles
        were analysed with that encoder. Cohesive: all of them in every image; diverse:
        image i leans on one sub-style, in proportion to the sub-styles' weights."""
        if dim is None:
            return None
        centroids, weights = [], []
        for ing in self.ingredients:
            clusters = ing.profile.data["clusters"]
            for c in [clusters[ing.cluster]] if ing.cluster is not None else clusters:
                if len(c["centroid"]) == dim:
                    centroids.append(np.asarray(c["centroid"], dtype=np.float32))
                    weights.append(ing.weight * c["weight"])
        if not centroids:
            return None  # profiles from another encoder: keywords and avoids still guide
        if self.generation.cohesion >= 0.5 or len(centroids) == 1:
            return np.stack(centroids)
        order = np.repeat(
            np.arange(len(centroids)),
            np.maximum(1, np.round(np.array(weights) / sum(weights) * 16)).astype(int),
        )
        return centroids[order[index % len(order)]][None]


def _claim(generation_id: int) -> Generation | None:
    claimed = Generation.objects.filter(
        pk=generation_id, status__in=[GenerationStatus.QUEUED, GenerationStatus.RUNNING]
    ).update(status=GenerationStatus.RUNNING, started=Coalesce("started", timezone.now()))
    return Generation.objects.get(pk=generation_id) if claimed else None


def _finish(generation: Generation) -> Generation:
    outputs = list(generation.outputs.all())
    ok = sum(1 for o in outputs if o.ok)
    status = (
        GenerationStatus.DONE if ok == generation.count
        else GenerationStatus.PARTIAL if ok
        else GenerationStatus.FAILED
    )  # fmt: skip
    error = (
        ""
        if ok
        else "No image could be made: " + "; ".join(sorted({o.error for o in outputs if o.error}))
    )
    Generation.objects.filter(pk=generation.pk).update(
        status=status, done=len(outputs), error=error[:2000], finished=timezone.now()
    )
    generation.refresh_from_db()
    return generation


def generation_fail(*, generation_id: int, reason: str) -> None:
    Generation.objects.filter(
        pk=generation_id, status__in=[GenerationStatus.QUEUED, GenerationStatus.RUNNING]
    ).update(status=GenerationStatus.FAILED, error=reason[:2000], finished=timezone.now())


def generation_run(*, generation_id: int, renderer_factory=_Renderer) -> Generation | None:
    """Render every slot not rendered yet. Idempotent; safe to run again after a crash."""
    generation = _claim(generation_id)
    if generation is None:
        return Generation.objects.filter(pk=generation_id).first()
    renderer = renderer_factory(generation)
    for index in range(generation.count):
        if Output.objects.filter(generation=generation, index=index).exists():
            continue  # done by an earlier delivery
        try:
            image, fields = renderer.render(index)
        except (ValueError, OSError, RuntimeError, MemoryError) as exc:
            # One failed image says why and doesn't lose the others.
            log.warning("Generation %s slot %s failed: %s", generation.pk, index, exc)
            _save_output(generation, index, None, error=f"{type(exc).__name__}: {exc}"[:500])
        else:
            _save_output(generation, index, image, **fields)
        Generation.objects.filter(pk=generation.pk).update(done=generation.outputs.count())
    return _finish(generation)


# --- live preview -------------------------------------------------------------------------


def preview_jpeg(
    *, content: Image.Image, ingredients: Sequence[IngredientSpec], strength: float, side: int = 384
) -> bytes:
    from .stylize import preview

    taste = blended_taste(ingredients)
    out = preview(content, taste, strength, side=side)
    buf = io.BytesIO()
    out.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


# --- exports ------------------------------------------------------------------------------

LUT_SAMPLE = "coffee"  # the same photo for every profile, so previews compare


def profile_export(profile: TasteProfile, name: str) -> bytes:
    """Prompt text, .ase/.gpl swatches, a 33³ .cube LUT, or the LUT's before/after.

    Versions are immutable, so each export is computed once and kept in the cache,
    for the page and the API alike.
    """
    from django.core.cache import cache

    return cache.get_or_set(
        f"profile-export:{profile.pk}:{name}", lambda: _build_export(profile, name), None
    )


def profile_export_filename(profile: TasteProfile, name: str) -> str:
    """The name a download is saved under: board title, version and export."""
    return f"{profile.board.title}-v{profile.version}-{name}".replace(" ", "-")


def _build_export(profile: TasteProfile, name: str) -> bytes:
    from . import exports

    data = profile.data
    title = f"{profile.board.title} v{profile.version}"
    if name == "prompt.txt":
        positive, negative = exports.prompt_text(data["keywords"], data["avoids"])
        return f"Prompt: {positive}\nNegative prompt: {negative}\n".encode()
    if name == "palette.ase":
        return exports.palette_ase(data["palette"], group=title)
    if name == "palette.gpl":
        return exports.palette_gpl(data["palette"], name=title).encode()
    lut = exports.build_lut(data["tone"])
    if name == "look.cube":
        return exports.cube_text(lut, title=f"Tastebase {title}").encode()
    if name == "lut-preview.jpg":
        from moodboards.samples import sample_image

        before = sample_image(LUT_SAMPLE).convert("RGB")
        before.thumbnail((480, 480))
        after = exports.apply_cube(before, lut)
        pair = Image.new("RGB", (before.width * 2 + 6, before.height), "white")
        pair.paste(before, (0, 0))
        pair.paste(after, (before.width + 6, 0))
        buf = io.BytesIO()
        pair.save(buf, "JPEG", quality=88)
        return buf.getvalue()
    raise ValueError(f"unknown export {name!r}")
