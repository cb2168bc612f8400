"""Style fidelity: how close an output's look lands to the recipe's taste.

Why not cosine on raw Magenta vectors: every raw style vector shares a large common
offset (DESIGN.md: "compressed around a common mean"), so any two images score ~0.9+
and the number says nothing. We centre on the mean of a reference set of varied looks
and divide each dimension by its spread across those looks (a diagonal whitening:
100 dims from a few dozen looks is too few for a full covariance). In that space the
vector points in the direction that makes a look *distinct*, and the cosine between
two looks tells whether they are distinct in the same way. Cosine in [-1, 1] maps to
a score in [0, 1]: 0.5 is "unrelated", 1 is "the same direction".

The reference set is built from the photographs bundled with scikit-image plus
graded variants of them (monochrome, sepia, cool, faded, punchy), so it spans the
looks boards are made of without any download; it is computed once per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from taste.magenta import STYLE_DIM, StylePredictor

_REFERENCE_COLOUR = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry")
_REFERENCE_GREY = ("camera", "moon", "coins", "page", "text", "brick", "grass", "gravel")
_lock = threading.Lock()


@dataclass(frozen=True)
class Fidelity:
    output: float  # 0-1: the output's look vs the taste (higher = closer)
    content: float  # 0-1: the untouched content's look vs the taste
    gain: float  # output - content: what generation added (can be negative)

    def to_dict(self) -> dict[str, float]:
        return {"output": self.output, "content": self.content, "gain": self.gain}


@dataclass(frozen=True)
class StyleSpace:
    """Centre and per-dimension scale of the whitened Magenta space."""

    mean: np.ndarray  # (100,)
    scale: np.ndarray  # (100,)

    def whiten(self, vector: np.ndarray) -> np.ndarray:
        v = np.asarray(vector, dtype=np.float64).reshape(-1)
        if v.shape != (STYLE_DIM,):
            raise ValueError(f"style vectors must have {STYLE_DIM} values, got {v.shape[0]}")
        return (v - self.mean) / self.scale


def _variants(image: Image.Image) -> list[Image.Image]:
    """Graded versions of a photo: the reference must contain colour *and* its absence."""
    grey = ImageOps.grayscale(image)
    return [
        image,
        grey.convert("RGB"),
        ImageOps.colorize(grey, "#2b1d0e", "#f3e3c3"),  # sepia
        ImageOps.colorize(grey, "#08204a", "#dff1ff"),  # cyanotype-like
        ImageEnhance.Contrast(ImageEnhance.Color(image).enhance(0.5)).enhance(0.6),  # faded
        ImageEnhance.Contrast(ImageEnhance.Color(image).enhance(1.8)).enhance(1.3),  # punchy
    ]


def _reference_images() -> list[Image.Image]:
    from skimage import data

    images: list[Image.Image] = []
    for name in _REFERENCE_COLOUR + _REFERENCE_GREY:
        try:
            arr = getattr(data, name)()
        except Exception:
            continue
        pil = Image.fromarray(arr).convert("RGB")
        images.extend(_variants(pil) if name in _REFERENCE_COLOUR else [pil])
    return images


@cache
def reference_space() -> StyleSpace:
    """The whitened space, computed once per process (~50 predictor runs, ~2 s)."""
    with _lock:
        predictor = StylePredictor()
        vectors = np.stack([predictor.predict(im) for im in _reference_images()]).astype(np.float64)
    if len(vectors) < 8:
        raise RuntimeError("too few scikit-image reference images for the style space")
    scale = vectors.std(0)
    # A floor keeps near-constant dimensions from turning noise into signal.
    scale = np.maximum(scale, 0.1 * float(np.median(scale)))
    return StyleSpace(mean=vectors.mean(0), scale=scale)


def similarity(a: np.ndarray, b: np.ndarray, space: StyleSpace | None = None) -> float:
    """0-1 closeness of two raw style vectors (cosine in the whitened space)."""
    space = space or reference_space()
    za, zb = space.whiten(a), space.whiten(b)
    na, nb = np.linalg.norm(za), np.linalg.norm(zb)
    if na == 0 or nb == 0:
        return 0.5  # the average look is equally near to everything
    cos = float(np.dot(za, zb) / (na * nb))
    return float(np.clip((cos + 1.0) / 2.0, 0.0, 1.0))


def fidelity_score(
    output: Image.Image | np.ndarray,
    content: Image.Image | np.ndarray | None,
    taste: np.ndarray,
    *,
    space: StyleSpace | None = None,
) -> Fidelity:
    """Score an output against the recipe's blended taste vector.

    ``output`` and ``content`` are images or their precomputed raw style vectors;
    ``content`` is None for backends without a content image (text-to-image): its
    score is then the average look's, 0.5.
    """
    predictor = StylePredictor()

    def vec(x: Image.Image | np.ndarray) -> np.ndarray:
        return predictor.predict(x) if isinstance(x, Image.Image) else np.asarray(x)

    space = space or reference_space()
    out = similarity(vec(output), taste, space)
    base = 0.5 if content is None else similarity(vec(content), taste, space)
    return Fidelity(output=round(out, 4), content=round(base, 4), gain=round(out - base, 4))


# --- the grade backend's fidelity: colour distance to the profile's own grade ------------

FIDELITY_SIDE = 256  # colour differences, not detail


def _lab_small(image: Image.Image, size: tuple[int, int] | None = None) -> np.ndarray:
    from skimage.color import rgb2lab

    rgb = image.convert("RGB")
    if size is None:
        scale = min(1.0, FIDELITY_SIDE / max(rgb.size))
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    small = rgb.resize(size, Image.Resampling.BOX)
    return rgb2lab(np.asarray(small, dtype=np.float32) / 255.0)


def mean_delta_e(a: Image.Image, b: Image.Image) -> float:
    """Mean CIEDE2000 between two pictures of the same scene (b resized to a's size)."""
    from skimage.color import deltaE_ciede2000

    lab_a = _lab_small(a)
    lab_b = _lab_small(b, (lab_a.shape[1], lab_a.shape[0]))
    return float(deltaE_ciede2000(lab_a, lab_b).mean())


def grade_fidelity(output: Image.Image, content: Image.Image, reference: Image.Image) -> Fidelity:
    """How close an output lands to the profile's grade of this content (``reference``:
    the content graded at full strength), against how close the untouched content is.

    Score = d_content / (d_content + d_output) with d the mean CIEDE2000 to the
    reference: 1 is the reference itself, 0.5 no closer than the untouched content,
    below 0.5 further away (a wrong look, a repainted picture). bench/grade.py checks
    that it ranks outputs as the colour difference to the *true* grade does."""
    d_out = mean_delta_e(reference, output)
    d_content = mean_delta_e(reference, content)
    if d_content + d_out < 1e-6:
        out = base = 1.0  # the grade changes nothing: everything is as close as can be
    else:
        out = d_content / (d_content + d_out)
        base = 0.5
    return Fidelity(output=round(out, 4), content=round(base, 4), gain=round(out - base, 4))
