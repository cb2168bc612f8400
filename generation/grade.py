"""The "grade" backend: a photographic board's look applied as a colour grade.

What a photographic board shares is mostly a grade, a tone curve and a texture (grain).
The profile recovered the grade as a 3-D colour mapping when it was analysed
(`taste.grading`); here it is applied to the content at its full resolution, per pixel,
so nothing moves: no structural change, no checkerboard, no repainted background.

Sliders: ``strength`` scales everything; ``colour`` scales the grade's change of a*/b*,
``tone`` its change of L* (the tone curve), ``texture`` the added grain. The change is
a displacement in CIELAB scaled by the sliders; strength picks the fraction of it
whose mean CIEDE2000 from the content is that share of the full grade's
(`perceptual_strength`), so the slider is perceptually linear, and strength 0 returns
the content. Grain is added only when the board measured more of it than the content
has; vignette and halation are not measured, so they are never added.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image, ImageChops

from taste import grading

MIN_SIDE = 8
RENDER_GRID = 33  # the applied table; the stored grades are smooth 17³ ones
TYPICAL_GRAIN = 0.87  # L* noise sigma of a typical clean photo (taste.descriptors)
GRAIN_SIDE = 256  # native-resolution centre crop for the content's own noise


@dataclass(frozen=True)
class GradeSliders:
    strength: float = 1.0
    colour: float = 1.0
    tone: float = 1.0
    texture: float = 1.0

    def __post_init__(self) -> None:
        for name in ("strength", "colour", "tone", "texture"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")


@dataclass(frozen=True)
class Look:
    """What the grade backend applies: a grade table (Lab output at sRGB nodes) and
    the board's measured grain (L* sigma)."""

    table: np.ndarray
    grain: float = 0.0


def blend_looks(looks: Sequence[Look], weights: Sequence[float]) -> Look:
    table = grading.blend_tables([lk.table for lk in looks], weights)
    w = np.asarray(weights, dtype=np.float64)
    grain = float(np.sqrt((w * np.array([lk.grain for lk in looks]) ** 2).sum() / w.sum()))
    return Look(table=table, grain=grain)


def _rgb(content: Image.Image) -> Image.Image:
    rgb = grading.to_rgb(content)
    if min(rgb.size) < MIN_SIDE:
        raise ValueError(
            f"image is too small to grade ({rgb.width}x{rgb.height}, min {MIN_SIDE} px)"
        )
    return rgb


def content_grain(rgb: Image.Image) -> float:
    """The content's own noise sigma (L*), measured as the board's was."""
    return grading.noise_sigma(rgb, GRAIN_SIDE)


GRAIN_TILE = 1024  # seeded noise tile; a 1-megapixel period is invisible in grain


def _add_grain(rgb: Image.Image, sigma: float, seed: int) -> Image.Image:
    """Monochrome Gaussian grain of ``sigma`` L* units (≈ sigma/100 in sRGB values),
    seeded. Built from one tile and added by Pillow in C: 4 MP in ~40 ms where numpy
    float arithmetic took ~150 ms."""
    if sigma <= 0.05:
        return rgb
    rng = np.random.default_rng(seed)
    tile_side = min(GRAIN_TILE, max(rgb.size))
    z = rng.standard_normal((tile_side, tile_side), dtype=np.float32) * np.float32(sigma * 2.55)
    tile = Image.fromarray(np.clip(z + 128.5, 0, 255).astype(np.uint8), "L")
    noise = Image.new("L", rgb.size)
    for top in range(0, rgb.height, tile_side):
        for left in range(0, rgb.width, tile_side):
            noise.paste(tile, (left, top))
    return ImageChops.add(rgb, Image.merge("RGB", (noise, noise, noise)), 1.0, -128)


STRENGTH_LEVELS = 9  # displacement fractions at which the difference curve is measured
STRENGTH_SAMPLE = 32  # px: the content's colours for that curve (1,024 at most)


def perceptual_strength(look: Look, sliders: GradeSliders, rgb: Image.Image) -> float:
    """The fraction of the grade's Lab displacement to apply so that the mean CIEDE2000
    from the content is ``strength`` times the full grade's (on this content's colours).

    A displacement scaled by strength alone is not perceptually linear: CIEDE2000 weighs
    a change by where it starts and how large it is (a strong fade reached 45 % of its
    difference at half strength), and gamut clipping bends it further. So the curve is
    measured on a 32 px copy of the content (the grade's displacement at its colours,
    clipped to sRGB as the render clips it) and inverted piecewise linearly: a few ms."""
    from scipy.ndimage import map_coordinates
    from skimage.color import deltaE_ciede2000, lab2rgb, rgb2lab

    s = float(sliders.strength)
    if s <= 0.0 or s >= 1.0:
        return s
    thumb = rgb.copy()
    thumb.thumbnail((STRENGTH_SAMPLE, STRENGTH_SAMPLE), Image.Resampling.BOX)
    colours = np.asarray(thumb, dtype=np.float64).reshape(-1, 3) / 255.0
    table = np.asarray(look.table, dtype=np.float64)
    full = grading.graded_lab(table, strength=1.0, colour=sliders.colour, tone=sliders.tone)
    shift = full - grading.grid_lab(table.shape[0])
    where = (colours * (table.shape[0] - 1)).T
    move = np.stack([map_coordinates(shift[..., c], where, order=1) for c in range(3)], -1)
    before = rgb2lab(colours[None])[0]
    fractions = np.linspace(0.0, 1.0, STRENGTH_LEVELS)
    moved = before[None] + fractions[1:, None, None] * move[None]  # every level at once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # out-of-gamut colours are clipped, as rendered
        after = rgb2lab(np.clip(lab2rgb(moved), 0.0, 1.0))
    diffs = deltaE_ciede2000(np.broadcast_to(before, moved.shape), after).mean(axis=1)
    curve = np.maximum.accumulate(np.r_[0.0, diffs])
    if curve[-1] < 0.05:  # nothing visible to scale: keep the plain fraction
        return s
    # Flat stretches (8-bit steps) would make the inverse ambiguous: keep it increasing.
    curve = curve + fractions * 1e-6
    return float(np.interp(s * curve[-1], curve, fractions))


def grade_lut(look: Look, sliders: GradeSliders):
    """The Pillow filter for one look at these sliders (cheap: 33³ nodes)."""
    table = grading.resample(look.table, RENDER_GRID)
    lab = grading.graded_lab(
        table, strength=sliders.strength, colour=sliders.colour, tone=sliders.tone
    )
    return grading.pillow_lut(grading.rgb_table(lab))


def grade(
    content: Image.Image,
    look: Look,
    sliders: GradeSliders,
    *,
    seed: int = 0,
    max_side: int | None = None,
    grain_of_content: float | None = None,
) -> Image.Image:
    """Apply a look to ``content`` at its resolution (long side capped at ``max_side``).
    Alpha, if any, is composited on white first, as the board shows it."""
    rgb = _rgb(content)
    if max_side is not None and max(rgb.size) > max_side:
        rgb = rgb.copy()
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    fraction = perceptual_strength(look, sliders, rgb)
    out = rgb.filter(grade_lut(look, replace(sliders, strength=fraction)))
    # 2. Texture: only the grain the board has beyond what the content already carries.
    own = content_grain(rgb) if grain_of_content is None else grain_of_content
    extra = float(np.sqrt(max(look.grain**2 - max(own, TYPICAL_GRAIN) ** 2, 0.0)))
    return _add_grain(out, extra * sliders.strength * sliders.texture, seed)


def preview(
    content: Image.Image, look: Look, sliders: GradeSliders, *, side: int = 384
) -> Image.Image:
    """The slider preview: the same grade on a ``side`` px copy (grain measured on it)."""
    rgb = _rgb(content)
    if max(rgb.size) > side:
        rgb = rgb.copy()
        rgb.thumbnail((side, side), Image.Resampling.BILINEAR)
    return grade(rgb, look, sliders)


# --- which backend a recipe gets, and the looks of a batch ------------------------------

PHOTOGRAPHIC = {"photograph", ""}  # "" = not measured: a photo board is the common case


def _medium_name(medium: str) -> str:
    return medium or "unknown"


def _parts(ingredients: Sequence) -> list[tuple[Any, int | None, float]]:
    """(profile document, sub-style or None, weight) per ingredient: recipe rows
    (IngredientSpec / Ingredient) or such tuples already (the CLI has no database)."""
    return [
        ing if isinstance(ing, tuple) else (ing.profile.document, ing.cluster, ing.weight)
        for ing in ingredients
    ]


def choose_backend(ingredients: Sequence) -> tuple[str, str]:
    """``auto``: (backend id, why) from the media of the recipe's profiles. Grade when
    the weighted majority is photographic (or unknown) and every profile has a
    recovered grade; stylize (painterly) for painted and illustrated boards."""
    photographic, painterly, media = 0.0, 0.0, []
    parts = _parts(ingredients)
    for document, cluster, weight in parts:
        medium = document.medium_of(cluster)
        media.append(_medium_name(medium))
        if medium in PHOTOGRAPHIC:
            photographic += weight
        else:
            painterly += weight
    named = ", ".join(dict.fromkeys(media)) or "unknown"
    if painterly > photographic:
        return "stylize", f"auto: the profile's medium is {named}, so it is stylized (painterly)"
    if any(not document.grade for document, _, _ in parts):
        return "stylize", (
            "auto: the profile version was made before grade recovery, so it is stylized; "
            "analyse the board again to grade with it"
        )
    return "grade", f"auto: the profile's medium is {named}, so its colour grade is applied"


def ingredient_looks(ingredients: Sequence) -> tuple[list[Look], list[float], list[Look]]:
    """(sub-style looks, their weights in the recipe, the boards' per-image looks)."""
    looks, weights, images = [], [], []
    for document, cluster, weight in _parts(ingredients):
        recovered = grading.ProfileGrade.from_dict(document.grade)
        if recovered is None:
            raise ValueError("the profile has no recovered grade: analyse the board again")
        for sub in document.sub_styles(cluster):
            if weight * sub.share > 0:
                table = recovered.for_cluster(sub.index).table(RENDER_GRID)
                looks.append(Look(table, recovered.grain))
                weights.append(float(weight * sub.share))
        images += [Look(g.table(RENDER_GRID), recovered.grain) for _, g in recovered.images]
    if not looks:
        raise ValueError("Give at least one profile a weight above zero.")
    return looks, weights, images


def plan_looks(ingredients: Sequence, *, count: int, cohesion: float, seed: int) -> list[Look]:
    """One look per batch slot for a recipe (see `plan_from`)."""
    looks, weights, images = ingredient_looks(ingredients)
    return plan_from(looks, weights, images, count=count, cohesion=cohesion, seed=seed)


def plan_from(
    looks: Sequence[Look],
    weights: Sequence[float],
    images: Sequence[Look],
    *,
    count: int,
    cohesion: float,
    seed: int,
) -> list[Look]:
    """Cohesive (1): the recipe's blend for every slot. Diverse (0): slots spread over
    the sub-styles (by weight) and the board's own per-image grades, in a seeded order;
    in between, each slot slides toward the blend."""
    blend = blend_looks(looks, weights)
    if cohesion >= 1.0:
        return [blend] * count
    rng = np.random.default_rng(seed)
    # Candidates: every sub-style (biggest first), then the board's own images' grades
    # in a seeded order, each half its own and half the recipe's (the board's variation
    # around its look, not another look). Slots take them in turn, so a batch repeats a
    # look only when it has more slots than the board has looks.
    order = np.argsort(-np.asarray(weights, dtype=np.float64), kind="stable")
    candidates = [looks[i] for i in order]
    candidates += [
        blend_looks([images[i], blend], [0.5, 0.5]) for i in rng.permutation(len(images))
    ]
    sources = [candidates[i % len(candidates)] for i in range(count)]
    return [blend_looks([blend, s], [cohesion, 1.0 - cohesion]) for s in sources]
