"""Rendering a generation: each slot of the batch, by its backend, kept whole.

The worker renders each slot independently: a slot is written (file, then row) in full
or not at all, and a slot that already has a row is skipped, so a redelivered task after
a killed worker finishes the batch without duplicate outputs.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.db.models.functions import Coalesce
from django.utils import timezone
from PIL import Image

from .models import Backend, ContentImage, Generation, GenerationStatus, Output
from .services import (
    IngredientSpec,
    blended_taste,
    ip_adapter_centroids,
    recipe_prompts,
    taste_clusters,
)

log = logging.getLogger(__name__)


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
    for key in ("fidelity", "content_fidelity"):  # a score that came out NaN is no score
        if key in fields and fields[key] is not None and not math.isfinite(fields[key]):
            fields[key] = None
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
        self._looks: list | None = None

    def looks(self) -> list:
        if self._looks is None:
            from .grade import plan_looks

            g = self.generation
            self._looks = plan_looks(
                self.ingredients, count=g.count, cohesion=g.cohesion, seed=g.seed
            )
        return self._looks

    def content(self, index: int) -> tuple[ContentImage, Image.Image]:
        content = self.contents[index % len(self.contents)]
        if content.index not in self._content_images:
            self._content_images[content.index] = _load(content.file)
        return content, self._content_images[content.index]

    def render(self, index: int) -> tuple[Image.Image, dict]:
        backend = self.generation.backend
        if backend == Backend.GRADE:
            return self._grade(index)
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
            from . import progress
            from .upscale import upscale

            content, image = self.content(index)
            tiles = lambda done, total: progress.report(self.generation.pk, index, done, total)  # noqa: E731
            return upscale(image, progress=tiles), {"content": content}
        if backend == Backend.DIFFUSION:
            return self._diffuse(index)
        raise ValueError(f"backend {backend} is not rendered here")

    def _grade(self, index: int) -> tuple[Image.Image, dict]:
        from .fidelity import grade_fidelity, mean_delta_e
        from .grade import GradeSliders, grade

        g = self.generation
        content, image = self.content(index)
        look = self.looks()[index]
        sliders = GradeSliders(g.strength, g.colour, g.tone, g.texture)
        cap = settings.TASTEBASE_GENERATE_MAX_SIDE
        out = grade(image, look, sliders, seed=g.seed + index, max_side=cap)
        # The reference is this slot's look at full strength, without grain (noise is
        # not a colour difference).
        reference = grade(image, look, GradeSliders(texture=0.0), max_side=256)
        score = grade_fidelity(out, image, reference)
        return out, {
            "content": content,
            "fidelity": score.output,
            "content_fidelity": score.content,
            "delta_e": round(mean_delta_e(image, out), 3),
        }

    def _diffuse(self, index: int) -> tuple[Image.Image, dict]:
        from .diffusion import get_backend, ip_scale_for_strength
        from .fidelity import fidelity_score
        from .weights import FAMILY_DEFAULTS, DiffusionConfig

        config = DiffusionConfig.from_settings()
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
        centroids, weights = ip_adapter_centroids(self.ingredients, dim)
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


def _finish(generation: Generation) -> Generation | None:
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
    # None when an editor deleted the run while it rendered.
    return Generation.objects.filter(pk=generation.pk).first()


def generation_fail(*, generation_id: int, reason: str) -> None:
    Generation.objects.filter(
        pk=generation_id, status__in=[GenerationStatus.QUEUED, GenerationStatus.RUNNING]
    ).update(status=GenerationStatus.FAILED, error=reason[:2000], finished=timezone.now())


def generation_run(*, generation_id: int, renderer_factory=_Renderer) -> Generation | None:
    """Render every slot not rendered yet. Idempotent; safe to run again after a crash.
    Returns None when the run was deleted before or while it rendered."""
    generation = _claim(generation_id)
    if generation is None:
        return Generation.objects.filter(pk=generation_id).first()
    renderer = renderer_factory(generation)
    for index in range(generation.count):
        if not Generation.objects.filter(pk=generation.pk).exists():
            return None  # deleted by an editor meanwhile: stop, keep nothing
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
    *,
    content: Image.Image,
    ingredients: Sequence[IngredientSpec],
    strength: float,
    side: int = 384,
    backend: str = Backend.STYLIZE,
    sliders: dict[str, float] | None = None,
) -> bytes:
    """The slider preview of a recipe: ``backend`` is grade or stylize (auto resolved)."""
    if backend == "auto":
        from .grade import choose_backend

        backend, _ = choose_backend(ingredients)
    if backend == Backend.GRADE:
        from .grade import GradeSliders, blend_looks, ingredient_looks, preview

        looks, weights, _ = ingredient_looks(ingredients)
        out = preview(
            content, blend_looks(looks, weights), GradeSliders(strength, **(sliders or {})),
            side=side,
        )  # fmt: skip
    else:
        from .stylize import preview as stylize_preview

        out = stylize_preview(content, blended_taste(ingredients), strength, side=side)
    buf = io.BytesIO()
    out.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()
