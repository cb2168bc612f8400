"""8-bit pixel arithmetic for taste.descriptors: sRGB (D65) to CIE Lab through tables,
quantised luminance and its histogram quantiles, Hasler and Suesstrunk's colourfulness
and the entropy of an RGB histogram. Every function takes uint8 data (or its flat
channel planes) and gives the same values as the float definitions, faster: tables
and integer sums instead of per-pixel float conversions.

Pure numpy + Pillow, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

# sRGB (D65) -> CIE Lab without skimage's float64 round trip: the analysis images are
# 8-bit, so linearisation is a 256-entry table and each XYZ channel a sum of three
# table look-ups (the sRGB -> XYZ matrix folded in, divided by the D65 white point).
_LINEAR = np.arange(256) / 255.0
_LINEAR = np.where(_LINEAR <= 0.04045, _LINEAR / 12.92, ((_LINEAR + 0.055) / 1.055) ** 2.4)
_XYZ_FROM_RGB = (
    np.array(
        [
            [0.412453, 0.357580, 0.180423],
            [0.212671, 0.715160, 0.072169],
            [0.019334, 0.119193, 0.950227],
        ]
    )
    / np.array([0.95047, 1.0, 1.08883])[:, None]
)
_XYZ_LUT = (_XYZ_FROM_RGB[:, :, None] * _LINEAR[None, None, :]).astype(np.float32)  # (3, 3, 256)
# The same table by input channel, padded to (X, Y, Z, 0) float32 and viewed as one
# 16-byte item per level, (channel, level): numpy gathers 16-byte items about three
# times faster than rows of three floats. The gathered items are only ever read back
# through a float32 view, so the values are the table's, bit for bit.
_XYZ_OF_CHANNEL = np.zeros((3, 256, 4), dtype=np.float32)
_XYZ_OF_CHANNEL[..., :3] = _XYZ_LUT.transpose(1, 2, 0)
_XYZ_ITEMS = _XYZ_OF_CHANNEL.view(np.complex128)[..., 0]
# Y's red and green terms already added (in float32, as the per-pixel sum adds them
# first), indexed by R * 256 + G: one gather and one addition fewer per pixel.
_Y_OF_RG = (_XYZ_LUT[1, 0][:, None] + _XYZ_LUT[1, 1][None, :]).ravel()
# Luminance Y is quantised to 1/65535 for tone statistics (a histogram instead of a
# sort); L* from a 65536-entry table. The step is < 0.02 L* everywhere.
Y_LEVELS = 65535
_Y_GRID = np.arange(Y_LEVELS + 1) / Y_LEVELS


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16.0 / 116.0)


L_FROM_YQ = (116.0 * _lab_f(_Y_GRID) - 16.0).astype(np.float32)
# Per bin, L* and its float32 square as float64 columns: mean and variance of L* are
# one matrix product with the histogram.
L_MOMENTS = np.stack([L_FROM_YQ, L_FROM_YQ**2], axis=1).astype(np.float64)
Y_BLACK_CLIP = int(np.searchsorted(L_FROM_YQ, 4.0, side="left")) - 1  # last bin with L* < 4
Y_WHITE_CLIP = int(np.searchsorted(L_FROM_YQ, 96.0, side="right")) - 1  # last bin <= 96


def lab_maps(rgb8: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(L*, a*, b*) float32 maps of an 8-bit RGB array (same maths as skimage.rgb2lab)."""
    pixels = rgb8.reshape(-1, 3)
    # (X, Y, Z, 0) per pixel, each summed over R, G, B in that order, as before.
    xyz = _XYZ_ITEMS[0].take(pixels[:, 0]).view(np.float32).reshape(-1, 4)
    xyz += _XYZ_ITEMS[1].take(pixels[:, 1]).view(np.float32).reshape(-1, 4)
    xyz += _XYZ_ITEMS[2].take(pixels[:, 2]).view(np.float32).reshape(-1, 4)
    f = _lab_f(xyz)  # on the contiguous array (the padding column is wasted, but cheap)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    shape = rgb8.shape[:-1]
    return (
        (116.0 * fy - 16.0).reshape(shape),
        (500.0 * (fx - fy)).reshape(shape),
        (200.0 * (fy - fz)).reshape(shape),
    )


def channel_planes(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat R, G and B of an RGB image, each contiguous: per-channel arithmetic on
    contiguous planes runs several times faster than on interleaved channel views (and
    PIL splits the bands faster than numpy transposes them)."""
    r, g, b = (np.asarray(band).ravel() for band in image.split())
    return r, g, b


def rg_index(r: np.ndarray, g: np.ndarray) -> np.ndarray:
    """R * 256 + G per pixel, as intp (an index into the (R, G) tables)."""
    rg = r.astype(np.intp)
    rg <<= 8
    rg |= g
    return rg


def luminance_bins(rg: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Quantised luminance Y * Y_LEVELS per pixel (intp: np.bincount converts any other
    index type first, which costs more than the counting)."""
    y = _Y_OF_RG.take(rg)
    y += _XYZ_LUT[1, 2].take(b)
    np.clip(y, 0.0, 1.0, out=y)
    y *= Y_LEVELS
    y += 0.5
    return y.astype(np.intp)


def cumulative_quantiles(cumulative: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Bin indices at the given quantiles (0-1) of a histogram, from its cumulative sum."""
    return np.searchsorted(cumulative, np.asarray(qs) * (cumulative[-1] - 1), side="right")


def hist_quantiles(hist: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Bin indices at the given quantiles (0-1) of a histogram."""
    return cumulative_quantiles(np.cumsum(hist), qs)


def hasler_colourfulness(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness M of uint8 R, G, B on 0-255 opponent
    channels rg = R - G and yb = (R + G) / 2 - B. Both are integer maps (2 yb is), so
    their sums and sums of squares are integers below 2**53, exact in float64 whatever
    the summation order, and the variances come out of exact integer arithmetic."""
    r16, g16, b16 = r.astype(np.int16), g.astype(np.int16), b.astype(np.int16)
    rg = (r16 - g16).astype(np.float64)
    yb2 = (r16 + g16 - 2 * b16).astype(np.float64)
    n = len(rg)
    means, stds = [], []
    for values, scale in ((rg, n), (yb2, 2 * n)):
        s1, s2 = int(values.sum()), int(values @ values)
        means.append(s1 / scale)
        stds.append(math.sqrt(n * s2 - s1 * s1) / scale)
    return float(math.hypot(*stds) + 0.3 * math.hypot(*means))


# The 8x8x8 palette-histogram bin of R and G (R // 32 * 64 + G // 32 * 8), by R * 256 + G
# (uint16: a quarter of the cache footprint of an intp table, and gathers faster).
_PALETTE_BIN_OF_RG = ((np.arange(65536) >> 13) * 64 + ((np.arange(65536) >> 5) & 7) * 8).astype(
    np.uint16
)


def rgb_entropy(rg: np.ndarray, b: np.ndarray) -> float:
    """Entropy of an 8x8x8 RGB histogram / 9 bits, from R * 256 + G and B per pixel."""
    code = _PALETTE_BIN_OF_RG.take(rg)
    code += b >> 5
    hist = np.bincount(code.astype(np.intp), minlength=512)
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum() / 9.0)
