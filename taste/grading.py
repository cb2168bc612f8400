"""Grade recovery: a board's colour grade as a real 3-D colour mapping.

A photographic board's look is mostly a grade: a function applied to every pixel of
photographs that were once ungraded. We never see those originals, but we know what
ungraded photographs look like as a population (the *prior*: CIELAB samples pooled
from real, ungraded third-party photos, committed as ``taste/data/grade_prior.npz``,
rebuilt by ``python -m bench.grade prior``). The grade is estimated as the transport
map from the prior's colour distribution to the board's pooled one.

The map is Pitié's iterative distribution transfer (IDT, "N-dimensional probability
density function transfer", 2005) in CIELAB: each step rotates the colour space at
random, matches the three 1-D marginals by quantiles, and rotates back. Because the
rotations mix L*, a* and b*, the result is hue- and lightness-selective (teal
shadows with orange highlights, one hue kept while the rest goes grey), which a
global mean/std transfer cannot express. Every step is a monotone 1-D function, so
the fitted sequence can be replayed on any colour: we replay it on the nodes of an
sRGB grid, smooth the displacement over the grid (no banding, no noise from finite
samples) and keep that table, the *grade*: Lab output at each RGB node.

A free transport also fits what a dozen pictures *show* (on an honest tune split,
prior photos disjoint from the board, the shrunk IDT alone is worse than doing nothing
on three of 30 LUTs). So a board's grade is, by default, the *moments* model
(`fit_moments`), shrunk by its own noise (`recover_grade`): a colour matrix and offset
in Lab that carry the prior's centre and within-picture covariance onto the board's,
then an L* tone curve; few parameters, read from statistics a grade moves and
subjects barely do. The IDT stays for one-picture grades (diverse batches) and as a
model a caller can ask for.

Pure numpy + Pillow + scipy, no Django.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFilter
from scipy.ndimage import gaussian_filter, zoom
from skimage.color import lab2rgb, rgb2lab

from .grade_models import IDT_STEPS, Fit, Transfer, _fitter
from .grade_models import fit_moments as fit_moments  # public here too (the tests' entry)

GRID = 17  # nodes per axis of a stored grade (smooth maps need no more; 33 for export)
SAMPLE_SIDE = 128  # images are sampled at this long side (colour, not detail)
SAMPLES_PER_IMAGE = 2048  # every image speaks equally, whatever its size
MAX_IMAGES = 96  # pooled images per fit: enough for stable quantiles, bounded time
SMOOTH_SIGMA = 1.5  # grid cells (of 17); no banding, and less content noise
BOOTSTRAP_FITS, MIN_BOOTSTRAP = 4, 4  # resamples of the board's own images (>= 4 images)
# Shrink weights. The IDT's: tune split with prior and board from one collection, 21-photo
# boards: ratio 0.94 at 2, 0.82 at 4, 0.76 at 8. The moments model's (L*, a*b*): see
# recover_grade; chosen with the board's collection left out of the prior.
NULL_WEIGHT = 8.0
MOMENTS_NULL_WEIGHT = (64.0, 64.0)
IMAGE_GRADES = 8  # per-image grades kept for diverse batches
IMAGE_STEPS, IMAGE_SMOOTH = 3, 1.5  # their fit: lower capacity (see profile_grade)
IMAGE_MODEL = "idt"  # unshrunk one-picture fits: diverse batches want their variety
DEFAULT_MODEL = "moments"  # see recover_grade
STORE_SCALE = 64.0  # Lab units -> int16 in the document
PRIOR_PATH = Path(__file__).with_name("data") / "grade_prior.npz"


# --- colour samples ---------------------------------------------------------------


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB with alpha composited on white, as the board shows it."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def lab_samples(image: Image.Image, *, n: int = SAMPLES_PER_IMAGE, seed: int = 0) -> np.ndarray:
    """(n, 3) float32 CIELAB samples of an image's colours, drawn uniformly over its
    pixels at SAMPLE_SIDE (with replacement when the image is tiny)."""
    rgb = to_rgb(image)
    if max(rgb.size) > SAMPLE_SIDE:
        rgb = rgb.copy()
        rgb.thumbnail((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.BOX)
    arr = np.asarray(rgb, dtype=np.float32).reshape(-1, 3) / 255.0
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(arr), size=n, replace=len(arr) < n)
    return rgb2lab(arr[pick][None]).reshape(-1, 3).astype(np.float32)


@cache
def prior_set() -> tuple[np.ndarray, np.ndarray]:
    """The shipped prior: (photos, samples, 3) Lab samples of ungraded real photographs,
    and each photo's collection (the package it came from; PyPI samples are one)."""
    if not PRIOR_PATH.exists():
        raise RuntimeError(
            f"{PRIOR_PATH.name} is missing: run `python -m bench.grade prior` to rebuild it"
        )
    with np.load(PRIOR_PATH) as data:
        lab = data["lab"].astype(np.float32) / np.float32(STORE_SCALE)
        photos = len(data["sources"])
        groups = data["collections"].astype(str)
    return lab.reshape(photos, -1, 3), groups


def balanced(images: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The photos with every collection repeated up to the largest one's count, so
    each collection weighs the same in a fit: fifty landscapes from one game must not
    outvote thirteen photos of people, animals and rooms."""
    names, counts = np.unique(groups, return_counts=True)
    picks = [np.resize(np.flatnonzero(groups == name), counts.max()) for name in names]
    return images[np.concatenate(picks)]


def prior_images() -> np.ndarray:
    """(photos, samples, 3): the prior that fits start from, collections balanced."""
    return balanced(*prior_set())


def prior() -> np.ndarray:
    """(N, 3) Lab samples of ungraded real photographs (see the module docstring)."""
    return prior_images().reshape(-1, 3)


def rgb_grid(size: int) -> np.ndarray:
    """(size, size, size, 3) float64 sRGB nodes indexed [r, g, b] in [0, 1]."""
    axis = np.linspace(0.0, 1.0, size)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.stack([r, g, b], axis=-1)


@cache
def grid_lab(size: int) -> np.ndarray:
    """CIELAB of the sRGB grid nodes (cached: every render needs them)."""
    lab = rgb2lab(rgb_grid(size).reshape(-1, 1, 3)).reshape(size, size, size, 3)
    lab.setflags(write=False)
    return lab


def bake(transfer: Transfer, *, size: int = GRID, smooth: float | None = None) -> np.ndarray:
    """The grade as a (size³, 3) table: Lab output at each sRGB node, smoothed."""
    smooth = SMOOTH_SIGMA if smooth is None else smooth
    base = grid_lab(size)
    shift = transfer.apply(base) - base
    if smooth > 0:
        shift = np.stack(
            [gaussian_filter(shift[..., c], smooth, mode="nearest") for c in range(3)], axis=-1
        )
    return (base + shift).astype(np.float32)


# --- applying a grade ----------------------------------------------------------------


def resample(table: np.ndarray, size: int) -> np.ndarray:
    """A grade table on another grid (trilinear: the table is smooth)."""
    n = table.shape[0]
    if n == size:
        return table
    shift = table - grid_lab(n)
    out = np.stack([zoom(shift[..., c], size / n, order=1) for c in range(3)], axis=-1)
    return (grid_lab(size) + out).astype(np.float32)


def graded_lab(table: np.ndarray, *, strength: float, colour: float, tone: float) -> np.ndarray:
    """The grade's Lab output at its nodes, scaled: ``tone`` scales the change of L*
    (the tone curve), ``colour`` the change of a*/b*, ``strength`` both. Scaling the
    Lab displacement keeps the change from the content proportional to strength,
    which is what makes the slider perceptually linear."""
    base = grid_lab(table.shape[0])
    shift = np.asarray(table, dtype=np.float64) - base
    scale = np.array([tone, colour, colour], dtype=np.float64) * strength
    return base + shift * scale


def rgb_table(lab_table: np.ndarray) -> np.ndarray:
    """(n, n, n, 3) sRGB values in [0, 1] for a Lab table (clipped to the gamut)."""
    n = lab_table.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # out-of-gamut values are clipped, as intended
        rgb = lab2rgb(lab_table.reshape(-1, 1, 3)).reshape(n, n, n, 3)
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def pillow_lut(rgb: np.ndarray) -> ImageFilter.Color3DLUT:
    """Pillow's C trilinear 3-D LUT (red fastest, like .cube): ~30 ms for 4 MP."""
    n = rgb.shape[0]
    flat = np.ascontiguousarray(rgb.transpose(2, 1, 0, 3)).reshape(-1)
    return ImageFilter.Color3DLUT(n, flat.tolist(), channels=3)


def blend_tables(tables: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted mean of grade tables (of their Lab displacements, the same thing)."""
    if not tables:
        raise ValueError("blend_tables needs at least one grade")
    w = np.asarray(weights, dtype=np.float64)
    if len(w) != len(tables) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("grade weights must be finite, >= 0, and not all zero")
    size = max(t.shape[0] for t in tables)
    stack = np.stack([resample(np.asarray(t, np.float32), size) for t in tables])
    return np.tensordot(w / w.sum(), stack, axes=1).astype(np.float32)


# --- what a profile stores -----------------------------------------------------------


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _unb64(text: str, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    out = np.frombuffer(base64.b64decode(text), dtype=dtype)
    if out.size != int(np.prod(shape)):
        raise ValueError("a stored grade is damaged")
    return out.reshape(shape)


@dataclass
class Grade:
    """One recovered grade: the fitted transfer (replayable on any colour), the gain
    that shrinks it where a board this size would move as much with no grade at all
    (on a GRID³ lattice, smooth), and the smoothing of its displacement.

    The transfer is kept rather than a baked table because tables interpolate badly:
    the sRGB lattice is curved in Lab, so a strong tone curve interpolated between
    17³ nodes zig-zags along the grey axis. Baking at the size a use needs (33³ to
    render and for .cube, 64³ for Hald) keeps every table exact at its own nodes."""

    transfer: Transfer
    gain: np.ndarray  # (GRID, GRID, GRID, 2) in [0, 1]: for L* and for a*b*
    smooth: float = SMOOTH_SIGMA
    # Other estimates of the same grade (another model's fit, shrunk by its own noise);
    # the grade is the mean of their displacements and this one's (see recover_grade).
    others: list[Grade] = field(default_factory=list)
    _tables: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def table(self, size: int = 33) -> np.ndarray:
        """(size, size, size, 3) Lab output at the sRGB nodes (cached per size)."""
        if self.others and size not in self._tables:
            own = Grade(self.transfer, self.gain, self.smooth).table(size)
            tables = [own] + [o.table(size) for o in self.others]
            table = np.mean(tables, axis=0).astype(np.float32)
            table.setflags(write=False)
            self._tables[size] = table
        if size not in self._tables:
            base = grid_lab(size)
            shift = self.transfer.apply(base) - base
            sigma = self.smooth * (size - 1) / (GRID - 1)  # the same smoothing in colour units
            if sigma > 0:
                shift = np.stack(
                    [gaussian_filter(shift[..., c], sigma, mode="nearest") for c in range(3)],
                    axis=-1,
                )
            gain = (
                self.gain if size == GRID else zoom(self.gain, (size / GRID,) * 3 + (1,), order=1)
            )
            gain = np.clip(gain, 0, 1)[..., [0, 1, 1]]  # L*, a*, b*
            table = (base + shift * gain).astype(np.float32)
            table.setflags(write=False)
            self._tables[size] = table
        return self._tables[size]

    def to_dict(self) -> dict[str, Any]:
        t = self.transfer
        gain = _b64(np.round(np.clip(self.gain, 0, 1) * 255).astype(np.uint8))
        q = lambda arrays: np.round(np.stack(arrays) * STORE_SCALE).astype("<i2")  # noqa: E731
        return {
            "steps": len(t.rotations),
            "quantiles": int(t.source_q[0].shape[1]) if t.source_q else 0,
            "rotations": _b64(np.stack(t.rotations).astype("<f4")),
            "source": _b64(q(t.source_q)),
            "target": _b64(q(t.target_q)),
            "gain": gain,
            "smooth": self.smooth,
            **({"others": [o.to_dict() for o in self.others]} if self.others else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Grade:
        steps, nq = int(data["steps"]), int(data["quantiles"])
        rot = _unb64(data["rotations"], "<f4", (steps, 3, 3)).astype(np.float64)
        scale = np.float64(STORE_SCALE)
        sq = _unb64(data["source"], "<i2", (steps, 3, nq)).astype(np.float64) / scale
        tq = _unb64(data["target"], "<i2", (steps, 3, nq)).astype(np.float64) / scale
        # Rounding may tie neighbouring source quantiles again: keep them increasing.
        sq = np.maximum.accumulate(sq + np.arange(nq) * 1e-6, axis=2)
        gain = _unb64(data["gain"], "u1", (GRID, GRID, GRID, 2)).astype(np.float32) / 255.0
        transfer = Transfer(list(rot), list(sq), list(tq))
        others = [cls.from_dict(o) for o in data.get("others", [])]
        smooth = float(data.get("smooth", SMOOTH_SIGMA))
        return cls(transfer=transfer, gain=gain, smooth=smooth, others=others)


@dataclass
class ProfileGrade:
    """A profile's recovered grades: the board's, one per sub-style, a few of its own
    images' (for diverse batches), and its measured grain (L* noise sigma)."""

    board: Grade
    clusters: dict[int, Grade] = field(default_factory=dict)
    images: list[tuple[str, Grade]] = field(default_factory=list)
    grain: float = 0.0
    # "moments-lab" since the tune set has strong looks; "moments+idt-lab" and "idt-lab"
    # are profiles analysed before (their grades replay as they were made).
    method: str = "moments-lab"

    def for_cluster(self, cluster: int | None) -> Grade:
        if cluster is not None and cluster in self.clusters:
            return self.clusters[cluster]
        return self.board

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "board": self.board.to_dict(),
            "clusters": {str(k): v.to_dict() for k, v in self.clusters.items()},
            "images": [{"key": k, "grade": v.to_dict()} for k, v in self.images],
            "grain": round(float(self.grain), 4),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileGrade | None:
        """None for profiles made before grade recovery existed. Decoded grades are
        cached (a version is immutable), so slider previews bake each table once."""
        if not data or "board" not in data:
            return None
        key = hashlib.blake2b(json.dumps(data, sort_keys=True).encode(), digest_size=16).digest()
        hit = _decoded.get(key)
        if hit is None:
            hit = cls(
                board=Grade.from_dict(data["board"]),
                clusters={int(k): Grade.from_dict(v) for k, v in data.get("clusters", {}).items()},
                images=[(i["key"], Grade.from_dict(i["grade"])) for i in data.get("images", [])],
                grain=float(data.get("grain") or 0.0),
                method=str(data.get("method", "idt-lab")),
            )
            _decoded[key] = hit
            while len(_decoded) > DECODED_CACHE:
                _decoded.pop(next(iter(_decoded)))
        return hit


DECODED_CACHE = 32
_decoded: dict[bytes, ProfileGrade] = {}


def recover_grade(
    samples: Sequence[np.ndarray],
    *,
    seed: int = 0,
    steps: int = IDT_STEPS,
    smooth: float | None = None,
    shrink: bool = True,
    model: str = DEFAULT_MODEL,
) -> Grade:
    """The grade of a set of images (their per-image Lab samples), shrunk toward no
    grade where the board gives no evidence for it (``shrink``; see `shrink_gain`).

    ``model``: "moments" (`fit_moments`, the default), "idt" (`fit_transfer`, ``steps``
    steps) or "moments+idt": the mean of the two, each shrunk by its own noise.

    Chosen by `bench/grade.py sweep` on the tune part (30 real LUTs: 13 film and
    cinema looks, 15 CSSgram photo filters with black and white, strong casts, fades
    and hard contrast, 2 colour-science grades), one fold per collection of tune photos
    (endless-sky-data's 50, opencv-doc's 17, the PyPI packages' 13, stellarium-data's
    9): the prior is the other collections, the board and held-out photos that one, as
    on a user's board. Ratio mean / worst over (LUT, fold) on boards of 5, 10 and 21
    photos (a fold's smaller board counts at 5), moments model at MOMENTS_NULL_WEIGHT
    (64, 64): 0.868 / 1.089, 0.782 / 1.001, 0.692 / 0.994. (64, 128), the choice with
    three collections, is as safe and worse on average (0.875 / 1.081, 0.797 / 1.005,
    0.710 / 1.000); (64, 32) better on average and worse at 5 photos (0.862 / 1.133,
    0.763 / 1.015, 0.672 / 0.984). At one weight of 16 (the choice when prior and board
    came from one collection) it is 0.848 / 1.710, 0.693 / 1.435, 0.641 / 1.245: a
    board from a collection the prior never saw has its own tone and colour (the
    collections' mean b* runs from 2 to 23; an ungraded validation board fits, unshrunk,
    as an 11 dE "grade"), and a light shrink bakes them in. The mean with the IDT:
    0.853 / 1.901, 0.711 / 1.619, 0.672 / 1.458; the IDT alone: 0.885 / 2.171, 0.770
    / 1.868, 0.746 / 1.737. The rotated IDT steps can follow a hue-selective grade
    that the matrix only approximates, but across real boards they fit the pictures'
    subjects more often than they find such a grade. Shrinking the model's 18
    parameters (matrix, offset, tone curve) instead of its table's nodes is no better:
    0.880 / 1.179, 0.807 / 1.020, 0.725 / 0.985 at (64, 64). The IDT keeps
    its own, lighter shrink (NULL_WEIGHT)."""
    if not samples:
        raise ValueError("recover_grade needs at least one image")
    if model == "moments+idt":
        kwargs = {"seed": seed, "steps": steps, "smooth": smooth, "shrink": shrink}
        first = recover_grade(samples, model="moments", **kwargs)
        first.others.append(recover_grade(samples, model="idt", **kwargs))
        return first
    smooth = SMOOTH_SIGMA if smooth is None else smooth
    fit = _fitter(model, steps, seed)
    transfer = fit(prior_images(), samples)
    raw = bake(transfer, smooth=smooth)
    if not shrink:
        return Grade(transfer=transfer, gain=np.ones((GRID,) * 3 + (2,), np.float32), smooth=smooth)
    noise = fit_noise(samples, raw, fit=fit, smooth=smooth, seed=seed)
    weight = MOMENTS_NULL_WEIGHT if model == "moments" else NULL_WEIGHT
    return Grade(transfer=transfer, gain=shrink_gain(raw, noise, weight), smooth=smooth)


def fit_noise(
    samples: Sequence[np.ndarray], raw: np.ndarray, *, fit: Fit, smooth: float | None, seed: int
) -> np.ndarray:
    """Per node (L*, a*b*), the squared displacement a board this size shows without a
    grade (`null_variance`), and, from MIN_BOOTSTRAP images on, its geometric mean with
    how much the fit ``raw`` moves when the board's own pictures are resampled
    (`bootstrap_variance`): small when every picture carries the same grade (a
    monochrome board), large when the "grade" is a few pictures' subjects. The mean
    keeps a consistent board's grade without trusting a board of one subject blindly.
    (The collection null alone, at any weight, is worse on the tune folds: at best
    0.975 / 1.615, 0.896 / 1.212, 0.874 / 1.050 on 5 / 10 / 21 photos, mean / worst.)"""
    noise = null_variance(len(samples), fit=fit, smooth=smooth, seed=seed)
    if len(samples) >= MIN_BOOTSTRAP:
        boot = bootstrap_variance(samples, raw, fit=fit, smooth=smooth, seed=seed)
        noise = np.sqrt(noise * boot)
    return noise


def bootstrap_variance(
    samples: Sequence[np.ndarray], raw: np.ndarray, *, fit: Fit, smooth: float | None, seed: int
) -> np.ndarray:
    """Per node, the mean squared change of the fit over resamples of the board's images."""
    rng = np.random.default_rng(20_000 + seed)
    stack = [np.asarray(s, np.float32).reshape(-1, 3) for s in samples]
    total = np.zeros((*raw.shape[:3], 2))
    source = prior_images()
    for _ in range(BOOTSTRAP_FITS):
        pick = rng.choice(len(stack), size=len(stack), replace=True)
        again = bake(fit(source, [stack[i] for i in pick]), smooth=smooth)
        total += _power(again - raw)
    return total / BOOTSTRAP_FITS


def _power(shift: np.ndarray) -> np.ndarray:
    """Squared displacement per node, for L* and for a*b* apart: (..., 2). Kept apart
    so that uncertainty about a board's tone never shrinks a colour change it is sure
    of (a greyscale board drains chroma, whatever its lightness does), and back."""
    return np.stack([shift[..., 0] ** 2, (shift[..., 1:] ** 2).sum(-1)], axis=-1)


def null_variance(n: int, *, fit: Fit, smooth: float | None, seed: int) -> np.ndarray:
    """Per node, the squared displacement a fit shows when there is *no* grade: n
    ungraded photos of one collection, fitted from the prior's *other* collections,
    once per collection. That is what n pictures' subjects, and the collection they
    come from, make it move: a board is never drawn from the prior's photos, and
    sampling noise alone (n photos from the prior itself) left every collection's own
    tone and colour to be mistaken for a grade."""
    photos, groups = prior_set()
    rng = np.random.default_rng(10_000 + seed)
    base = grid_lab(GRID)
    total = np.zeros((*base.shape[:3], 2))
    names = np.unique(groups)
    if len(names) < 2:
        raise ValueError("the grade prior needs photos of two collections or more")
    for name in names:
        own, rest = np.flatnonzero(groups == name), np.flatnonzero(groups != name)
        pick = rng.choice(own, size=n, replace=n > len(own))
        shift = bake(fit(balanced(photos[rest], groups[rest]), photos[pick]), smooth=smooth)
        total += _power(shift - base)
    return total / len(names)


def shrink_gain(
    table: np.ndarray, noise: np.ndarray, weight: float | tuple[float, float] | None = None
) -> np.ndarray:
    """Wiener gain (GRID³ x 2: L*, a*b*; 0-1) that shrinks a fitted grade toward
    identity where it moves no more than its noise (`null_variance`,
    `bootstrap_variance`): on a small board much of a raw fit can be its subjects (a
    beach board 'grades' blue), and that must not be baked in."""
    # One weight, or a pair (L*, a*b*); the moments model's is chosen on the tune folds.
    weight = np.broadcast_to(np.asarray(NULL_WEIGHT if weight is None else weight, float), (2,))
    power = _power(table.astype(np.float64) - grid_lab(table.shape[0]))
    gain = power / (power + weight * noise + 1e-9)
    return np.stack(
        [gaussian_filter(gain[..., i], 1.0, mode="nearest") for i in range(2)], axis=-1
    ).astype(np.float32)


def _spread(count: int, limit: int) -> list[int]:
    """Up to ``limit`` indices spread evenly over ``count`` (deterministic)."""
    if count <= limit:
        return list(range(count))
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def noise_sigma(image: Image.Image, side: int = 256) -> float:
    """Grain as taste.descriptors measures it (Immerkaer's estimator with a median, on a
    native-resolution centre crop, L* units), so board and content compare like for like."""
    w, h = image.size
    cw, ch = min(w, side), min(h, side)
    left, top = (w - cw) // 2, (h - ch) // 2
    g = np.asarray(image.crop((left, top, left + cw, top + ch)).convert("L"), np.float32)
    g = g * np.float32(100.0 / 255.0)
    if min(g.shape) < 3:
        return 0.0
    r = (
        g[:-2, :-2] - 2 * g[:-2, 1:-1] + g[:-2, 2:]
        - 2 * g[1:-1, :-2] + 4 * g[1:-1, 1:-1] - 2 * g[1:-1, 2:]
        + g[2:, :-2] - 2 * g[2:, 1:-1] + g[2:, 2:]
    )  # fmt: skip
    # The kernel's L2 norm is 6; the median of |N(0, s)| is 0.6745 s.
    return float(np.median(np.abs(r)) / 0.6745 / 6.0)


def profile_grade(
    load: Callable[[str], Image.Image | None],
    keys: Sequence[str],
    clusters: Iterable[tuple[int, Sequence[str]]] = (),
    *,
    grain: float = 0.0,
) -> ProfileGrade:
    """Every grade a profile keeps. ``load(key)`` returns an image (None if unreadable);
    at most MAX_IMAGES spread over the board (and over each sub-style) are read, so a
    10,000-image board costs what a 100-image one does."""
    cache: dict[str, np.ndarray | None] = {}

    def samples(key: str) -> np.ndarray | None:
        if key not in cache:
            image = load(key)
            cache[key] = None if image is None else lab_samples(image, seed=len(cache))
        return cache[key]

    def pooled(members: Sequence[str]) -> list[np.ndarray]:
        chosen = [members[i] for i in _spread(len(members), MAX_IMAGES)]
        return [s for s in (samples(k) for k in chosen) if s is not None]

    board = pooled(list(keys))
    if not board:
        raise ValueError("no image could be sampled for the grade")
    out = ProfileGrade(board=recover_grade(board), grain=grain)
    for index, members in clusters:
        have = pooled(list(members))
        if have:
            out.clusters[int(index)] = recover_grade(have, seed=int(index) + 1)
    sampled = [k for k in keys if cache.get(k) is not None]
    for i in _spread(len(sampled), IMAGE_GRADES):
        key = sampled[i]
        # One picture's colours are mostly its subject, not its grade: a low-capacity,
        # smooth fit keeps its overall cast and contrast without painting its content in.
        # Not shrunk: one picture is always "unsure", and these exist to show how the
        # board's pictures differ (diverse batches blend each half with the board's).
        table = recover_grade(
            [cache[key]],
            seed=100 + i,
            steps=IMAGE_STEPS,
            smooth=IMAGE_SMOOTH,
            shrink=False,
            model=IMAGE_MODEL,
        )
        out.images.append((key, table))
    return out


def grade_document(
    document: Any, load: Callable[[str], Image.Image | None], grains: Sequence[float] = ()
) -> None:
    """Bake the grades into a profile document (``TasteProfileData``) as it is made:
    a version is immutable, so the grade it exports and generates with is fixed here.
    The board's grade pools its sub-styles' images (outliers do not speak for it)."""
    clusters = [(c.index, list(c.members)) for c in document.clusters]
    keys = [k for _, members in clusters for k in members] or list(document.outliers)
    finite = [g for g in grains if np.isfinite(g)]
    grain = float(np.median(finite)) if finite else 0.0
    document.grade = profile_grade(load, keys, clusters, grain=grain).to_dict()
