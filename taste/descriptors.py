"""Pixel descriptors: what an image's colour, tone and texture measure as.

These are first-class evidence for keywords (see DESIGN.md): every descriptor-licensed
keyword names the fields below, so a profile can say *why* it calls a board "muted".

The image is downsized to at most `ANALYSIS_SIDE` px on its long side. Colour and
tone statistics (colourfulness, saturation, L* percentiles, clipping, palette entropy)
are computed there in 8-bit arithmetic with table look-ups (L* comes from a histogram
of quantised luminance, not a sort). Per-pixel Lab maps (casts, hue bands, chroma),
texture and the palette use a half-size `DETAIL_SIDE` copy, with gradients expressed
per analysis-image pixel so the thresholds keep their meaning. Grain is measured on a
native-resolution centre crop (downsizing averages noise away). About 5 ms per image
on one core (was ~15 ms with skimage's float64 rgb2lab and Canny at 256 px); values
agree with the 256 px definitions to within a small fraction of each field's typical
spread (edge density, measured at half size, within ~1 typical spread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from scipy import ndimage

from .kmeans import weighted_kmeans
from .medium import CROP_SIDE, measure_medium
from .pixels import (
    L_FROM_YQ,
    L_MOMENTS,
    Y_BLACK_CLIP,
    Y_LEVELS,
    Y_WHITE_CLIP,
    channel_planes,
    cumulative_quantiles,
    hasler_colourfulness,
    hist_quantiles,
    lab_maps,
    luminance_bins,
    rg_index,
    rgb_entropy,
)

ANALYSIS_SIDE = 256  # tone and colour statistics (8-bit arithmetic, cheap)
DETAIL_SIDE = 128  # Lab maps, texture and palette (per-pixel float maths)
GRAIN_SIDE = CROP_SIDE  # one native-resolution centre crop: grain, and the medium
PALETTE_K = 5
PALETTE_SAMPLE_SIDE = 32
PALETTE_ITERS = 10
TEXTURE_SIGMA = 2.0  # Gaussian smoothing before gradients, in analysis-image px
# Gradient thresholds, per analysis-image pixel of L*/100: Canny's hysteresis band and
# "almost no local gradient" for negative space.
EDGE_LOW = 0.003
EDGE_HIGH = 0.0075
FLAT_GRADIENT = 0.004

# Hue bands in Lab hue angle (degrees, atan2(b*, a*)). Lab hue is not HSV hue:
# red sits near 30°, yellow near 90°, green near 140°, blue near 270-300°.
HUE_BANDS: dict[str, tuple[float, float]] = {
    "red": (10.0, 45.0),
    "orange": (45.0, 70.0),
    "yellow": (70.0, 105.0),
    "green": (105.0, 170.0),
    "cyan": (170.0, 245.0),
    "blue": (245.0, 300.0),
    "purple": (300.0, 335.0),
    "pink": (335.0, 370.0),  # wraps through 0° to 10°
}
CHROMATIC_MIN = 12.0  # C* below this reads as grey to most people
_TEAL = (float(np.cos(np.radians(200.0))), float(np.sin(np.radians(200.0))))
_ORANGE = (float(np.cos(np.radians(55.0))), float(np.sin(np.radians(55.0))))
_HUE_BOUNDS = np.array([lo for lo, _ in HUE_BANDS.values()] + [370.0])


@dataclass
class Descriptors:
    """Scalar measurements of one image plus its Lab palette.

    `VECTOR_FIELDS` fixes the order of `as_vector()`; the embedding cache depends on it,
    so append new fields at the end and bump the encoder id.
    """

    # --- colour ---
    colourfulness: float  # Hasler-Süsstrunk M on 0-255 RGB: 0 grey, ~15 muted, >80 vivid
    saturation_mean: float  # HSV saturation (faded out in near-blacks), 0-1
    saturation_p90: float  # 90th percentile HSV saturation: the strongest colour present
    chroma_mean: float  # mean Lab C*
    warmth: float  # mean (b* + 0.5 a*): >0 warm (orange/yellow), <0 cool (blue/teal)
    tint: float  # mean a*: >0 magenta cast, <0 green cast
    shadow_warmth: float  # warmth of the darkest quarter of pixels
    highlight_warmth: float  # warmth of the brightest quarter of pixels
    hue_concentration: float  # chroma-weighted resultant length of hue angles, 0-1
    palette_entropy: float  # entropy of an 8x8x8 RGB histogram / 9 bits, 0-1
    # --- tone / light ---
    key: float  # mean L* (0-100): low key < 35, high key > 65
    contrast: float  # L* p95 - p5
    black_level: float  # L* p2: lifted blacks read as faded/matte
    white_level: float  # L* p98
    shadow_clip: float  # fraction of pixels with L* < 4
    highlight_clip: float  # fraction of pixels with L* > 96
    # --- texture ---
    grain: float  # noise sigma in L* units (Immerkaer estimator, native-resolution crop)
    edge_density: float  # fraction of Canny edge pixels
    flat_fraction: float  # fraction of pixels with almost no local gradient (negative space)
    # --- composition ---
    centre_focus: float  # gradient energy in the central third / overall
    symmetry: float  # correlation of the image with its mirror image, -1..1
    # --- hue band shares (fraction of all pixels that are chromatic and in the band) ---
    hue_red: float
    hue_orange: float
    hue_yellow: float
    hue_green: float
    hue_cyan: float
    hue_blue: float
    hue_purple: float
    hue_pink: float
    # --- derived ---
    split_tone: float  # highlight_warmth - shadow_warmth: >15 reads as teal/orange grading
    # --- v3: grade by hue, and the medium (taste.medium; measured on a native crop) ---
    # Teal-orange by hue, as real grades do it: min(shadows' pull toward teal, highlights'
    # pull toward orange), C* units; ungraded photos sit below 0, a teal-orange grade ~4.
    teal_orange: float = -3.0
    colour_count: float = 1.0
    exact_flat: float = 0.0
    near_flat: float = 0.3
    edge_hardness: float = 0.75
    spectral_slope: float = -2.4
    soft_shading: float = 0.45
    paper_white: float = 0.0
    # --- not in the vector: board-level tone and palette pooling ---
    lab_mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    lab_std: tuple[float, float, float] = (0.0, 0.0, 0.0)
    l_quantiles: tuple[float, float, float, float, float] = (0.0,) * 5  # p5,p25,p50,p75,p95
    palette_lab: list[list[float]] = field(default_factory=list)  # (k, 3) Lab centres
    palette_share: list[float] = field(default_factory=list)  # (k,) pixel shares

    VECTOR_FIELDS: ClassVar[tuple[str, ...]] = ()  # filled in below

    def as_vector(self) -> np.ndarray:
        return np.array([getattr(self, f) for f in self.VECTOR_FIELDS], dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Descriptors:
        kwargs = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        for name in ("lab_mean", "lab_std", "l_quantiles"):
            if name in kwargs:
                kwargs[name] = tuple(float(v) for v in kwargs[name])
        return cls(**kwargs)


Descriptors.VECTOR_FIELDS = tuple(
    f.name
    for f in fields(Descriptors)
    if f.name not in ("lab_mean", "lab_std", "l_quantiles", "palette_lab", "palette_share")
)
DESCRIPTOR_DIM = len(Descriptors.VECTOR_FIELDS)

# Typical spread of each field across varied photographs (rough standard deviations,
# measured on the bundled sample photographs in several looks). Clustering divides by
# these instead of by the board's own spread: a coherent board must stay coherent
# rather than having its tiny variations blown up to unit variance. Keyword scoring
# uses them as the width of the soft threshold.
TYPICAL_SCALE: dict[str, float] = {
    "colourfulness": 20.0,
    "saturation_mean": 0.12,
    "saturation_p90": 0.15,
    "chroma_mean": 8.0,
    "warmth": 6.0,
    "tint": 4.0,
    "shadow_warmth": 6.0,
    "highlight_warmth": 6.0,
    "hue_concentration": 0.2,
    "palette_entropy": 0.08,
    "key": 10.0,
    "contrast": 12.0,
    "black_level": 6.0,
    "white_level": 6.0,
    "shadow_clip": 0.05,
    "highlight_clip": 0.05,
    "grain": 1.0,
    "edge_density": 0.03,
    "flat_fraction": 0.12,
    "centre_focus": 0.25,
    "symmetry": 0.2,
    **{f"hue_{band}": 0.08 for band in HUE_BANDS},
    "split_tone": 8.0,
    "teal_orange": 2.0,
    "colour_count": 0.12,
    "exact_flat": 0.2,
    "near_flat": 0.2,
    "edge_hardness": 0.08,
    "spectral_slope": 0.5,
    "soft_shading": 0.15,
    "paper_white": 0.2,
}
assert set(TYPICAL_SCALE) == set(Descriptors.VECTOR_FIELDS)


# Median of each field over the untouched sample photographs (skimage/sklearn colour
# photos): shown next to a board's value in keyword evidence as "a typical photo".
REFERENCE_TYPICAL: dict[str, float] = {
    "colourfulness": 37.7, "saturation_mean": 0.43, "saturation_p90": 0.65,
    "chroma_mean": 20.5, "warmth": 13.7, "tint": 4.7, "shadow_warmth": 6.6,
    "highlight_warmth": 4.7, "hue_concentration": 0.85, "palette_entropy": 0.47,
    "key": 47.8, "contrast": 51.2, "black_level": 3.5, "white_level": 77.1,
    "shadow_clip": 0.025, "highlight_clip": 0.0, "grain": 0.87, "edge_density": 0.10,
    "flat_fraction": 0.22, "centre_focus": 1.05, "symmetry": 0.12, "hue_red": 0.04,
    "hue_orange": 0.14, "hue_yellow": 0.04, "hue_green": 0.0, "hue_cyan": 0.0,
    "hue_blue": 0.0, "hue_purple": 0.0, "hue_pink": 0.0, "split_tone": -0.35,
    # v3 fields: medians over the tuning photographs of bench/realdata.
    "teal_orange": -3.7, "colour_count": 0.88, "exact_flat": 0.05, "near_flat": 0.34,
    "edge_hardness": 0.77, "spectral_slope": -2.37, "soft_shading": 0.43, "paper_white": 0.0,
}  # fmt: skip
assert set(REFERENCE_TYPICAL) == set(Descriptors.VECTOR_FIELDS)


# The "look space" that clustering uses. Sub-styles are about how images are graded
# (colour strength, cast, split-tone, lifted blacks, grain), not about what they show,
# so composition and hue-band fields are left out: they mostly identify the subject.
# Colour strength is compared on a log scale because vivid looks vary multiplicatively.
# Casts are compared *relative to colour strength* (mean warmth / (C* + 10)): in a
# vivid image the mean b* mostly says what colour the subject is (a blue rocket, an
# orange cat), in a muted one it says how the image was graded, and the ratio reads
# both the same way ("how much of the colour there is a common cast").
LOOK_FEATURES: tuple[str, ...] = (
    "colourfulness",
    "saturation_mean",
    "saturation_p90",
    "chroma_mean",
    "warmth",
    "shadow_warmth",
    "highlight_warmth",
    "hue_concentration",
    "black_level",
    "grain",
)
_LOG_FEATURES = ("colourfulness", "chroma_mean")
_CAST_FEATURES = ("warmth", "shadow_warmth", "highlight_warmth")
CAST_CHROMA_OFFSET = 10.0

# Pooled within-look covariance of the look columns: how the columns vary, and co-vary,
# between photographs that share one grade, i.e. what the *subject* does to them.
# Measured with `bench/analyze.py --fit-look-space` on the bundled photographs rendered
# in the six looks of testkit/looks.py (seeds 10-17, disjoint from the bench's and the
# tests' boards). Distances are Mahalanobis distances under this covariance: one unit
# means "as different as two images of one look usually are", and directions in which
# subjects move several columns together (colourfulness, saturation and chroma rise
# and fall together) count once, not four times.
LOOK_WITHIN_COV: tuple[tuple[float, ...], ...] = (
    (0.04443, 0.009948, 0.01393, 0.0376, 0.001867, 0.0008168, -0.00524, 0.001888, -0.2523, -0.0224),
    (0.009948, 0.01438, 0.01083, 0.02672, -0.00506, 0.0002827, -0.003728, 0.004054, -0.04159, -0.01635),
    (0.01393, 0.01083, 0.01506, 0.01665, -0.007048, -0.002824, -0.00646, -0.001499, -0.1658, -0.01854),
    (0.0376, 0.02672, 0.01665, 0.1015, 0.01621, 0.0213, -0.0003764, 0.02425, 0.2391, -0.01199),
    (0.001867, -0.00506, -0.007048, 0.01621, 0.06165, 0.05056, 0.03713, 0.01176, 0.2853, 0.00426),
    (0.0008168, 0.0002827, -0.002824, 0.0213, 0.05056, 0.07482, 0.0007933, 0.01363, 0.4972, -0.005746),
    (-0.00524, -0.003728, -0.00646, -0.0003764, 0.03713, 0.0007933, 0.07747, 0.001407, 0.02893, 0.008303),
    (0.001888, 0.004054, -0.001499, 0.02425, 0.01176, 0.01363, 0.001407, 0.02117, 0.1683, 0.01046),
    (-0.2523, -0.04159, -0.1658, 0.2391, 0.2853, 0.4972, 0.02893, 0.1683, 16.33, 0.8067),
    (-0.0224, -0.01635, -0.01854, -0.01199, 0.00426, -0.005746, 0.008303, 0.01046, 0.8067, 0.5769),
)  # fmt: skip
# Shrinkage of that covariance towards its diagonal: a guard against directions that
# happened to vary very little on the bundled photographs being blown up on others.
LOOK_COV_SHRINKAGE = 0.2


def look_columns(vectors: np.ndarray) -> np.ndarray:
    """(n, DESCRIPTOR_DIM) descriptor vectors -> (n, len(LOOK_FEATURES)) transformed."""
    vectors = np.asarray(vectors, dtype=np.float64).reshape(-1, DESCRIPTOR_DIM)
    idx = Descriptors.VECTOR_FIELDS.index
    chroma = np.maximum(vectors[:, idx("chroma_mean")], 0.0)
    cols = []
    for name in LOOK_FEATURES:
        col = vectors[:, idx(name)]
        if name in _LOG_FEATURES:
            col = np.log1p(np.maximum(col, 0.0))
        elif name in _CAST_FEATURES:
            col = col / (chroma + CAST_CHROMA_OFFSET)
        cols.append(col)
    return np.stack(cols, axis=1)


def _whitening(cov: np.ndarray, shrinkage: float) -> np.ndarray:
    cov = np.asarray(cov, dtype=np.float64)
    cov = (1.0 - shrinkage) * cov + shrinkage * np.diag(np.diag(cov))
    values, vectors = np.linalg.eigh(cov)
    return vectors @ np.diag(values**-0.5) @ vectors.T


_LOOK_WHITEN = _whitening(np.array(LOOK_WITHIN_COV), LOOK_COV_SHRINKAGE)


def look_space(vectors: np.ndarray) -> np.ndarray:
    """(n, DESCRIPTOR_DIM) descriptor vectors -> (n, len(LOOK_FEATURES)) whitened by the
    within-look covariance and divided by sqrt(#features), so a distance is an RMS over
    the whitened features (within-look units)."""
    return look_columns(vectors) @ _LOOK_WHITEN / np.sqrt(len(LOOK_FEATURES))


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.floating | np.integer):
        return value.item()
    return value


def _downsized(image: Image.Image, side: int) -> Image.Image:
    """RGB image with its long side at most `side` px."""
    if image.mode != "RGB":  # converting an RGB image would only copy it
        image = image.convert("RGB")
    scale = side / max(image.size)
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image


def _centre_crop(image: Image.Image, side: int) -> Image.Image:
    """At most side x side px from the centre, at the image's own resolution and mode."""
    w, h = image.size
    cw, ch = min(w, side), min(h, side)
    left, top = (w - cw) // 2, (h - ch) // 2
    return image.crop((left, top, left + cw, top + ch))


_GREY_LEVEL = 100.0 / 255.0  # one 8-bit grey level in ~L* units


def _noise_sigma(grey8: np.ndarray) -> float:
    """Immerkaer's noise estimate with a median instead of a mean, so edges and texture
    (a minority of pixels) do not count as grain, in ~L* units. The residual is taken on
    every other row (each still sees its full 3x3 neighbourhood): half the work, the same
    estimate. On 8-bit grey levels the residual is an integer in [-2040, 2040], so it is
    computed exactly in int16 (the kernel is separable: [1 -2 1] along rows, then along
    columns) and its median read from a histogram instead of a float partition."""
    if min(grey8.shape) < 3:
        return 0.0
    g = grey8.astype(np.int16)
    rows = g[:, :-2] - 2 * g[:, 1:-1] + g[:, 2:]
    r = rows[:-2:2] - 2 * rows[1:-1:2] + rows[2::2]
    counts = np.cumsum(np.bincount(np.abs(r).ravel().astype(np.intp)))
    median = int(np.searchsorted(counts, r.size // 2, side="right"))  # the sorted [n // 2]
    # The kernel's L2 norm is 6: white noise of sigma s gives residual sigma 6s.
    return float(1.4826 * (median * _GREY_LEVEL) / 6.0)


def _edge_fraction(grad: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> float:
    """Canny's edge pixels (non-maximum suppression along the gradient, then hysteresis
    between EDGE_LOW and EDGE_HIGH) as a fraction of the image; vectorised, without
    skimage.feature.canny's per-call overhead. Border pixels are never edges, so the
    suppression runs on the interior only, comparing with shifted views of the gradient
    (no padded copy) and choosing the comparisons, not the neighbour values, by the
    gradient's direction (cheaper: boolean selections)."""
    h, w = grad.shape
    if h < 3 or w < 3:
        return 0.0
    g = grad[1:-1, 1:-1]

    def at_least(dr: int, dc: int) -> np.ndarray:  # g >= its neighbour at (dr, dc)
        return g >= grad[1 + dr : h - 1 + dr, 1 + dc : w - 1 + dc]

    x, y = gx[1:-1, 1:-1], gy[1:-1, 1:-1]
    ax, ay = np.abs(x), np.abs(y)
    peak = np.where(
        ax >= 2.4142 * ay,  # gradient along x: compare with left/right
        at_least(0, -1) & at_least(0, 1),
        np.where(
            ay >= 2.4142 * ax,
            at_least(-1, 0) & at_least(1, 0),
            np.where(  # diagonal along (1, 1) in (row, col) when gx and gy agree in sign
                x * y > 0, at_least(-1, -1) & at_least(1, 1), at_least(-1, 1) & at_least(1, -1)
            ),
        ),
    )
    peak &= g > EDGE_LOW
    strong = peak & (g > EDGE_HIGH)
    if not strong.any():
        return 0.0
    full = np.zeros((h, w), dtype=bool)
    full[1:-1, 1:-1] = peak
    labels, count = ndimage.label(full, structure=np.ones((3, 3), dtype=bool))
    keep = np.zeros(count + 1, dtype=bool)
    keep[labels[1:-1, 1:-1][strong]] = True
    return np.count_nonzero(keep[labels]) / labels.size


def _masked_means(
    maps: Sequence[np.ndarray], masks: Sequence[np.ndarray]
) -> list[list[float] | None]:
    """Per-map means over all pixels, then over each mask's pixels (None for an empty
    mask), as one float64 product of the masks with the maps."""
    values = np.empty((len(maps), maps[0].size))
    for row, m in zip(values, maps, strict=True):
        row[:] = m.ravel()
    selectors = np.empty((len(masks) + 1, values.shape[1]))
    selectors[0] = 1.0
    for row, m in zip(selectors[1:], masks, strict=True):
        row[:] = m.ravel()
    sums = selectors @ values.T
    counts = [values.shape[1], *(np.count_nonzero(m) for m in masks)]
    return [(s / c).tolist() if c else None for s, c in zip(sums, counts, strict=True)]


def compute_descriptors(image: Image.Image) -> Descriptors:
    """Measure one image (any mode; converted to RGB)."""
    big = _downsized(image, ANALYSIS_SIDE)
    small = big.reduce(2) if max(big.size) >= 2 * DETAIL_SIDE else _downsized(big, DETAIL_SIDE)
    to_analysis = max(small.size) / max(big.size)  # small-image px -> analysis px
    s8 = np.asarray(small)

    # 1. Colour and tone on the analysis image, in 8-bit arithmetic plus table look-ups.
    red, green, blue = channel_planes(big)  # flat uint8
    rg = rg_index(red, green)
    colourfulness = hasler_colourfulness(red, green, blue)
    mx = np.maximum(np.maximum(red, green), blue)
    mn = np.minimum(np.minimum(red, green), blue)
    # HSV saturation, except that near-black pixels cannot be "fully saturated": plain
    # HSV calls a pixel at 5% brightness with any tint 100% saturated, which makes dark
    # images look vivid. Dividing by at least 25% value fades saturation out below it.
    sat = (mx - mn).astype(np.float32) / np.maximum(mx, 63.75)
    sat_hist = np.bincount((sat * 4096.0).astype(np.intp), minlength=4097)
    saturation_p90 = float(hist_quantiles(sat_hist, [0.9])[0] / 4096.0)
    # Tone: L* of every pixel through the quantised luminance (exact to < 0.02 L*).
    y_hist = np.bincount(luminance_bins(rg, blue), minlength=Y_LEVELS + 1)
    y_cum = np.cumsum(y_hist)
    n_pixels = len(rg)
    p2, p5, p25, p50, p75, p95, p98 = (
        float(L_FROM_YQ[i])
        for i in cumulative_quantiles(y_cum, [0.02, 0.05, 0.25, 0.5, 0.75, 0.95, 0.98])
    )
    l_sum, l_sq_sum = y_hist @ L_MOMENTS
    l_mean = float(l_sum / n_pixels)
    l_std = float(np.sqrt(max(l_sq_sum / n_pixels - l_mean**2, 0.0)))
    shadow_clip = float(y_cum[Y_BLACK_CLIP] / n_pixels)
    highlight_clip = float(1.0 - y_cum[Y_WHITE_CLIP] / n_pixels)
    entropy = rgb_entropy(rg, blue)

    # 2. Colour maps (casts, hue, palette) and texture on the half-size detail image.
    L, a, b = lab_maps(s8)
    chroma = np.hypot(a, b)
    warm = b + 0.5 * a
    shadows, highlights = p25 >= L, p75 <= L
    c_sum = float(chroma.sum(dtype=np.float64))
    if c_sum > 1e-3 * chroma.size:
        # Chroma-weighted resultant of hue angles: sum(C cos h, C sin h) = sum(a*, b*).
        hue_conc = float(np.hypot(a.sum(dtype=np.float64), b.sum(dtype=np.float64)) / c_sum)
    else:
        hue_conc = 1.0  # a grey image is as concentrated as a palette gets
    chromatic = chroma >= CHROMATIC_MIN
    hue_c = (np.degrees(np.arctan2(b[chromatic], a[chromatic])) + 360.0) % 360.0
    hue_c = np.where(hue_c < HUE_BANDS["red"][0], hue_c + 360.0, hue_c)
    counts = np.bincount(np.searchsorted(_HUE_BOUNDS, hue_c, side="right") - 1, minlength=9)
    bands = {f"hue_{name}": float(counts[i] / chroma.size) for i, name in enumerate(HUE_BANDS)}

    grey = L / 100.0
    # Gradients are expressed per analysis-image pixel (the units the thresholds and
    # the vocabulary were set in), whatever the detail image's size.
    smooth = ndimage.gaussian_filter(grey, TEXTURE_SIGMA * to_analysis)
    if min(smooth.shape) >= 2:
        gy, gx = np.gradient(smooth)
    else:  # a 1-px-wide image has no measurable gradient
        gy, gx = np.zeros_like(smooth), np.zeros_like(smooth)
    gx *= to_analysis
    gy *= to_analysis
    grad = np.hypot(gx, gy)
    edge_density = _edge_fraction(grad, gx, gy) * to_analysis
    h, wd = grey.shape
    centre = grad[h // 3 : max(h // 3 + 1, 2 * h // 3), wd // 3 : max(wd // 3 + 1, 2 * wd // 3)]
    centre_focus = float(centre.mean() / max(grad.mean(), 1e-6))
    mirror = grey[:, ::-1]
    gs, ms = grey - grey.mean(), mirror - mirror.mean()
    denom = float(np.sqrt((gs**2).sum() * (ms**2).sum()))
    symmetry = float((gs * ms).sum() / denom) if denom > 1e-9 else 1.0

    # 3. Palette: k-means in Lab on a small, evenly spaced pixel sample.
    step = max(1, int(np.ceil(max(h, wd) / PALETTE_SAMPLE_SIDE)))
    sample = np.stack([L[::step, ::step], a[::step, ::step], b[::step, ::step]], axis=-1)
    centres, shares = weighted_kmeans(sample.reshape(-1, 3), PALETTE_K, iters=PALETTE_ITERS)

    # Means of a*, b* and warmth over the whole image, the shadows and the highlights:
    # one float64 matrix product instead of nine (masked) float32 means.
    all_mean, shadow_mean, highlight_mean = _masked_means((a, b, warm), (shadows, highlights))
    a_mean, b_mean, warm_mean = all_mean
    # Teal-orange by hue: how far the shadows' mean colour points toward teal (h 200 deg)
    # and the highlights' toward orange (h 55 deg), in C* units; the smaller of the two,
    # so both must hold. A warm subject or a blue sky moves only one of them.
    sh_ab = shadow_mean[:2] if shadow_mean is not None else (0.0, 0.0)
    hi_ab = highlight_mean[:2] if highlight_mean is not None else (0.0, 0.0)
    teal_orange = float(min(sh_ab[0] * _TEAL[0] + sh_ab[1] * _TEAL[1],
                            hi_ab[0] * _ORANGE[0] + hi_ab[1] * _ORANGE[1]))  # fmt: skip
    shadow_warm = shadow_mean[2] if shadow_mean is not None else warm_mean
    highlight_warm = highlight_mean[2] if highlight_mean is not None else warm_mean

    # 4. Grain and the medium on one native-resolution centre crop.
    crop = _centre_crop(image, GRAIN_SIDE)
    grain = _noise_sigma(np.asarray(crop.convert("L")))
    # measure_medium crops CROP_SIDE px from the centre of what it is given, and that
    # of this crop is the crop itself (converted to RGB there: conversion is per pixel).
    medium = measure_medium(crop)
    return Descriptors(
        colourfulness=colourfulness,
        saturation_mean=float(sat.mean()),
        saturation_p90=saturation_p90,
        chroma_mean=float(chroma.mean()),
        warmth=warm_mean,
        tint=a_mean,
        shadow_warmth=shadow_warm,
        highlight_warmth=highlight_warm,
        hue_concentration=hue_conc,
        palette_entropy=entropy,
        key=l_mean,
        contrast=p95 - p5,
        black_level=p2,
        white_level=p98,
        shadow_clip=shadow_clip,
        highlight_clip=highlight_clip,
        grain=grain,
        edge_density=edge_density,
        flat_fraction=np.count_nonzero(grad < FLAT_GRADIENT) / grad.size,
        centre_focus=centre_focus,
        symmetry=symmetry,
        **bands,
        split_tone=highlight_warm - shadow_warm,
        teal_orange=teal_orange,
        **asdict(medium),
        lab_mean=(l_mean, a_mean, b_mean),
        lab_std=(l_std, float(a.std()), float(b.std())),
        l_quantiles=(p5, p25, p50, p75, p95),
        palette_lab=centres.tolist(),
        palette_share=shares.tolist(),
    )
