"""The embedded "stylize" backend: Magenta arbitrary style transfer driven by a taste.

The transformer only sees 384x384 pixels. Art directors hand us 2-6 k photos, so the
full-resolution result is rebuilt from the 384 px transfer with a guided upsample
(He & Sun's fast guided filter, used as in "bilateral guided upsampling"): at network
size we fit, per colour channel and per small window, a linear model
``stylised ~= a * luminance + b``; ``a`` and ``b`` are smooth, so they upsample well,
and applying them to the *full-resolution* luminance restores the original's edges and
texture with the local gain and sign the style chose (a style that flattens contrast
also flattens the restored detail). What the linear model cannot explain (brush
strokes, the network's own texture) is added back as an upsampled residual, so the
output downsampled to 384 px is the network's result.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter

from taste.magenta import (
    STYLE_DIM,
    TRANSFORM_SIZE,
    StylePredictor,
    StyleTransformer,
    to_rgb,
)

MIN_SIDE = 32  # below this there is nothing for the network to restyle
GUIDE_RADIUS = 4  # window radius (network pixels) of the guided fit (measured: 1-4)
GUIDE_EPS = 1e-4  # regulariser ([0, 1] units); 1e-3 restored ~half as much detail
GAIN_LIMIT = 3.0  # |a| cap, so sensor noise in flat areas is never amplified

# Rec. 601 luma: the guide only needs a perceptual brightness, not colorimetry.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@cache
def _predictor() -> StylePredictor:
    return StylePredictor()


@cache
def _transformer() -> StyleTransformer:
    return StyleTransformer()


def blend_style(vectors: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted mean of raw Magenta style vectors (the transformer's own space)."""
    if len(vectors) == 0:
        raise ValueError("blend_style needs at least one style vector")
    if len(vectors) != len(weights):
        raise ValueError(f"{len(vectors)} vectors but {len(weights)} weights")
    stack = np.stack([np.asarray(v, dtype=np.float64).reshape(-1) for v in vectors])
    if stack.shape[1] != STYLE_DIM:
        raise ValueError(f"style vectors must have {STYLE_DIM} values, got {stack.shape[1]}")
    w = np.asarray(weights, dtype=np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    if w.sum() <= 0:
        raise ValueError("at least one weight must be > 0")
    return (w[:, None] * stack).sum(0).astype(np.float32) / np.float32(w.sum())


def _check_style(style: np.ndarray) -> np.ndarray:
    style = np.asarray(style, dtype=np.float32).reshape(-1)
    if style.shape != (STYLE_DIM,):
        raise ValueError(f"style must have {STYLE_DIM} values, got {style.shape[0]}")
    if not np.all(np.isfinite(style)):
        raise ValueError("style vector has NaN or inf values")
    return style


def _check_strength(strength: float) -> float:
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    return float(strength)


def _rgb(content: Image.Image) -> Image.Image:
    rgb = to_rgb(content)  # alpha composited on white, as the board shows it
    if min(rgb.size) < MIN_SIDE:
        raise ValueError(
            f"image is too small to stylize ({rgb.width}x{rgb.height}, min {MIN_SIDE} px)"
        )
    return rgb


@dataclass(frozen=True)
class _Prepared:
    """Everything about one content image that does not depend on the style."""

    vector: np.ndarray  # the content's own Magenta style vector
    padded: np.ndarray  # (384, 384, 3) float32: resized content, reflect-padded square
    box: tuple[int, int, int, int]  # top, left, height, width of the content in `padded`


def _prepare(rgb: Image.Image) -> _Prepared:
    # Fit the long side to the network and reflect-pad the short one: the network is
    # convolutional, so mirrored context gives clean edges where black or grey bars
    # would bleed into the picture.
    scale = TRANSFORM_SIZE / max(rgb.size)
    w = max(1, round(rgb.width * scale))
    h = max(1, round(rgb.height * scale))
    small = rgb.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    arr = np.asarray(small, dtype=np.float32) / 255.0
    top, left = (TRANSFORM_SIZE - h) // 2, (TRANSFORM_SIZE - w) // 2
    pad = ((top, TRANSFORM_SIZE - h - top), (left, TRANSFORM_SIZE - w - left), (0, 0))
    # Pad whenever a side is short, even by one pixel (top and left are then both 0).
    square = (h, w) == (TRANSFORM_SIZE, TRANSFORM_SIZE)
    padded = arr if square else np.pad(arr, pad, mode="symmetric")
    return _Prepared(
        vector=_predictor().predict(rgb),
        padded=np.ascontiguousarray(padded, dtype=np.float32),
        box=(top, left, h, w),
    )


def _transfer(prep: _Prepared, style: np.ndarray, strength: float) -> np.ndarray:
    # The standard Magenta trick: interpolate in style space between the content's own
    # style (≈ identity) and the target, rather than alpha-blending pixels.
    mixed = (1.0 - strength) * prep.vector + strength * style
    out = _transformer().transform_array(prep.padded, mixed)
    top, left, h, w = prep.box
    return out[top : top + h, left : left + w]


# --- preview cache ----------------------------------------------------------------------

PREVIEW_CACHE_SIZE = 16
_cache: OrderedDict[str, _Prepared] = OrderedDict()
_cache_lock = threading.Lock()


def _content_key(rgb: Image.Image) -> str:
    digest = hashlib.blake2b(rgb.tobytes(), digest_size=16)
    digest.update(f"{rgb.size}".encode())
    return digest.hexdigest()


def _prepared_cached(rgb: Image.Image) -> _Prepared:
    key = _content_key(rgb)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    prep = _prepare(rgb)  # outside the lock: ~50 ms that other threads need not wait for
    with _cache_lock:
        _cache[key] = prep
        while len(_cache) > PREVIEW_CACHE_SIZE:
            _cache.popitem(last=False)
    return prep


def preview(
    content: Image.Image, style: np.ndarray, strength: float, side: int = TRANSFORM_SIZE
) -> Image.Image:
    """Fast slider preview: long side ``side`` (<= 384). The content's own style vector
    and its network-sized array are cached per content, so a slider move costs one
    transformer run."""
    style = _check_style(style)
    strength = _check_strength(strength)
    if not MIN_SIDE <= side <= TRANSFORM_SIZE:
        raise ValueError(f"preview side must be in [{MIN_SIDE}, {TRANSFORM_SIZE}], got {side}")
    prep = _prepared_cached(_rgb(content))
    out = _to_image(_transfer(prep, style, strength))
    if max(out.size) != side:
        scale = side / max(out.size)
        size = (max(1, round(out.width * scale)), max(1, round(out.height * scale)))
        out = out.resize(size, Image.Resampling.LANCZOS)
    return out


# --- full resolution --------------------------------------------------------------------


def _resize_float(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize of a float (H, W[, C]) array to ``size`` = (width, height)."""
    if arr.ndim == 2:
        return np.asarray(Image.fromarray(arr, mode="F").resize(size, Image.Resampling.BICUBIC))
    return np.stack([_resize_float(arr[..., c], size) for c in range(arr.shape[2])], axis=-1)


def guided_upsample(
    guide_full: np.ndarray,
    guide_low: np.ndarray,
    stylised_low: np.ndarray,
    *,
    radius: int = GUIDE_RADIUS,
    eps: float = GUIDE_EPS,
) -> np.ndarray:
    """Rebuild a full-resolution (H, W, 3) image from a low-resolution result.

    ``guide_full`` (H, W) and ``guide_low`` (h, w) are the original's luminance at both
    sizes; ``stylised_low`` is (h, w, 3). All float32 in [0, 1].
    """
    size = (guide_full.shape[1], guide_full.shape[0])
    box = 2 * radius + 1
    g = guide_low.astype(np.float32)
    mean_g = uniform_filter(g, box, mode="reflect")
    var_g = uniform_filter(g * g, box, mode="reflect") - mean_g * mean_g
    channels = []
    for c in range(3):
        s = stylised_low[..., c].astype(np.float32)
        mean_s = uniform_filter(s, box, mode="reflect")
        cov = uniform_filter(g * s, box, mode="reflect") - mean_g * mean_s
        a = np.clip(cov / (var_g + eps), -GAIN_LIMIT, GAIN_LIMIT)
        b = mean_s - a * mean_g
        a = uniform_filter(a, box, mode="reflect")
        b = uniform_filter(b, box, mode="reflect")
        # What the linear model misses (strokes, the network's texture) rides along.
        residual = s - (a * g + b)
        up_a, up_b, up_r = (_resize_float(x, size) for x in (a, b, residual))
        channels.append(up_a * guide_full + up_b + up_r)
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def _to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), "RGB")


def stylize(
    content: Image.Image,
    style: np.ndarray,
    *,
    strength: float,
    max_side: int | None = None,
) -> Image.Image:
    """Restyle ``content`` toward the taste ``style`` (raw 100-d Magenta vector).

    Returns an RGB image at the content's resolution (or its long side capped at
    ``max_side``). ``strength`` 0 keeps the content's own style, 1 is the full taste.
    """
    style = _check_style(style)
    strength = _check_strength(strength)
    rgb = _rgb(content)
    if max_side is not None:
        if max_side < MIN_SIDE:
            raise ValueError(f"max_side must be >= {MIN_SIDE}, got {max_side}")
        if max(rgb.size) > max_side:
            scale = max_side / max(rgb.size)
            size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
            rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)

    # 1. Transfer at network size (a fresh prepare is cheap next to the upsample and
    #    keeps large one-off images out of the preview cache).
    prep = _prepare(rgb)
    low = _transfer(prep, style, strength)
    if max(rgb.size) <= TRANSFORM_SIZE:
        out = _to_image(low)
        return out if out.size == rgb.size else out.resize(rgb.size, Image.Resampling.LANCZOS)

    # 2. Guided upsample against the original's full-resolution luminance.
    full = np.asarray(rgb, dtype=np.float32) / 255.0
    guide_full = full @ _LUMA
    # The low-res guide is exactly what the network saw, so the fit is consistent.
    top, left, h, w = prep.box
    guide_low = prep.padded[top : top + h, left : left + w] @ _LUMA
    return _to_image(guided_upsample(guide_full, guide_low, low))
