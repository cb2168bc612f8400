"""Measured medium descriptors: what an image is made *with*, not what it shows.

Pixel art, flat vector graphics, line art, paintings, 3-D renders and photographs differ
in how their pixels are made long before they differ in colour: a sprite has a handful
of exact colours in hard-edged blocks, vector art has large exactly flat areas and
crisp anti-aliased edges, a photograph has sensor noise everywhere and a natural
(1/f²) power spectrum, a painting has soft strokes with no exact flats, a render has
smooth noise-free shading. These measures read that from a native-resolution crop
(resampling would blend colours and soften edges, which is exactly what they look at).

Each value is a plain float with a fixed scale, so it can be cached with the rest of
an image's descriptors and compared across boards.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft
from PIL import Image

CROP_SIDE = 256  # native-resolution centre crop
# Luma steps (0-255) between neighbours: below JPEG_TOLERANCE counts as "the same
# colour" (JPEG and PNG quantisation jitter a flat area by a level or two), above
# STRONG_EDGE counts as an edge.
JPEG_TOLERANCE = 3
STRONG_EDGE = 24.0
# A pixel is neutral grey when its channels differ by at most this (JPEG's chroma
# rounding leaves a level or two on a grey image).
NEUTRAL_SPREAD = 2


@dataclass(frozen=True)
class MediumMeasures:
    colour_count: float  # log2(distinct colours in the crop) / 15: 0-1, sprites ~0.3 (see below)
    exact_flat: float  # share of pixels identical to their right and lower neighbours
    near_flat: float  # the same within JPEG_TOLERANCE levels
    edge_hardness: float  # of strong edges, the share of the step taken in one pixel
    spectral_slope: float  # log-log slope of the radial power spectrum (photos ~ -2)
    soft_shading: float  # share of pixels in smooth non-flat ramps (painted/rendered)
    paper_white: float  # share of near-white, near-neutral pixels (drawn on paper)

    FIELDS = (
        "colour_count",
        "exact_flat",
        "near_flat",
        "edge_hardness",
        "spectral_slope",
        "soft_shading",
        "paper_white",
    )

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, f) for f in self.FIELDS)


def native_crop(image: Image.Image, side: int = CROP_SIDE) -> np.ndarray:
    """(h, w, 3) uint8 centre crop at the image's own resolution, no resampling."""
    image = image.convert("RGB")
    w, h = image.size
    cw, ch = min(w, side), min(h, side)
    left, top = (w - cw) // 2, (h - ch) // 2
    return np.asarray(image.crop((left, top, left + cw, top + ch)))


@lru_cache(maxsize=8)
def _spectrum_geometry(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window, band mask and centred log-radius for an (h, w) crop (the same few
    shapes recur, so this is computed once each)."""
    window = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    radius = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :])
    band = (radius >= 4 / 256) & (radius <= 64 / 256)
    x = np.log(radius[band])
    return window, band, x - x.mean()


def _spectral_slope(grey: np.ndarray) -> float:
    """Slope of log power against log frequency, over the band 4..64 cycles per 256 px.
    Photographs sit near -2 (natural scenes' 1/f^2), flat graphics are steeper, noisy or
    hard-edged pixel art shallower."""
    h, w = grey.shape
    if min(h, w) < 32:
        return -2.0
    window, band, x = _spectrum_geometry(h, w)
    if band.sum() < 8:
        return -2.0
    # scipy's FFT keeps float32 in float32 (numpy's widens it): six times faster on a
    # 256 px crop, and the slope agrees to ~1e-6.
    power = np.abs(scipy.fft.rfft2((grey - grey.mean()) * window)) ** 2
    y = np.log(power[band] + 1e-6)
    slope = float((x * (y - y.mean())).sum() / (x * x).sum())  # least-squares slope
    return float(np.clip(slope, -6.0, 0.0))


def measure_medium(image: Image.Image) -> MediumMeasures:
    """The medium measures of one image (any mode; composited to RGB by the caller)."""
    rgb = native_crop(image)
    h, w = rgb.shape[:2]
    if h < 3 or w < 3:
        return MediumMeasures(0.0, 1.0, 1.0, 1.0, -2.0, 0.0, 0.0)
    packed = (
        (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    )
    # Distinct colours at 5 bits a channel: a histogram instead of a sort (10x faster);
    # sprites use tens of colours, photographs thousands, either way well inside 32768.
    q = rgb >> 3
    code = (q[..., 0].astype(np.int32) << 10) | (q[..., 1].astype(np.int32) << 5) | q[..., 2]
    used = np.count_nonzero(np.bincount(code.ravel(), minlength=32768))
    # At 5 bits a channel a grey image can use at most 32 colours, as few as a sprite,
    # however it was made: a black-and-white photograph then looked like pixel art or
    # line art. So the distinct 8-bit grey levels of the neutral pixels count too (a
    # B&W photograph uses ~200 of them, a sprite a handful, a colour photograph's
    # count stays its thousands of colours).
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # per-channel maps: a reduction over
    mn = np.minimum(np.minimum(r, g), b)  # the last axis of length 3 is slow in numpy
    mx = np.maximum(np.maximum(r, g), b)
    neutral = (mx - mn) <= NEUTRAL_SPREAD
    if neutral.any():
        used = max(used, np.count_nonzero(np.bincount(g[neutral], minlength=256)))
    colour_count = float(np.log2(max(used, 1)) / 15.0)

    same_r = packed[:-1, :-1] == packed[:-1, 1:]
    same_d = packed[:-1, :-1] == packed[1:, :-1]
    exact_flat = float((same_r & same_d).mean())

    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    dx = np.abs(np.diff(luma, axis=1))
    dy = np.abs(np.diff(luma, axis=0))
    # Near-flat: luma within JPEG_TOLERANCE of both neighbours (luma, not each channel:
    # one float map instead of two int16 copies of the image).
    still = (dx[:-1, :] <= JPEG_TOLERANCE) & (dy[:, :-1] <= JPEG_TOLERANCE)
    near_flat = float(still.mean())

    # Edge hardness along rows: over three pixels the luma changes by `span`; a hard
    # (aliased or vector) edge does it in one step, a photographed or painted edge
    # spreads it over the three.
    step1, step2 = luma[:, 1:-1] - luma[:, :-2], luma[:, 2:] - luma[:, 1:-1]
    span = np.abs(step1 + step2)
    strong = span >= STRONG_EDGE
    if strong.any():
        hard = np.maximum(np.abs(step1), np.abs(step2))[strong] / span[strong]
        edge_hardness = float(np.clip(hard, 0.0, 1.0).mean())
    else:
        edge_hardness = 0.5

    grad = np.hypot(dx[:-1, :], dy[:, :-1])
    soft_shading = float(((grad > 0.5) & (grad < 6.0)).mean())

    paper_white = float(((mn >= 235) & (mx - mn <= 12)).mean())

    return MediumMeasures(
        colour_count=colour_count,
        exact_flat=exact_flat,
        near_flat=near_flat,
        edge_hardness=edge_hardness,
        spectral_slope=_spectral_slope(luma / 255.0),
        soft_shading=soft_shading,
        paper_white=paper_white,
    )
