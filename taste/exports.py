"""Exports a profile hands to other tools: prompt text, palettes (.ase, .gpl) and a
3-D LUT (.cube) that grades any image toward the profile's colour and tone.

The LUT has to work on images we have not seen, so it maps from a *typical
photograph* (NEUTRAL, below) to the profile: chroma a*/b* by a Reinhard-style
mean/std transfer in CIELAB, lightness by a monotone (PCHIP) curve through the L*
quantiles, p5..p95 of the typical photo -> the profile's. A profile equal to the
typical photo therefore gives an identity LUT, and ``strength`` (0-1) blends from
identity so a strong board never produces a destructive grade.
"""

from __future__ import annotations

import math
import re
import struct
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from scipy.interpolate import PchipInterpolator
from skimage.color import lab2rgb, rgb2lab

# The files a profile exports, and their media types (the page and the API serve the same).
EXPORTS = {
    "prompt.txt": "text/plain; charset=utf-8",
    "palette.ase": "application/octet-stream",
    "palette.gpl": "text/plain; charset=utf-8",
    "look.cube": "text/plain; charset=utf-8",
    "lut-preview.jpg": "image/jpeg",
    "look-hald.png": "image/png",
}
# The same LUTs for one sub-style: look-s1.cube, look-s1-hald.png, ... (1-based).
SUB_STYLE_EXPORT = re.compile(r"look-s([1-9][0-9]?)(\.cube|-hald\.png)")
HALD_LEVEL = 8  # 512x512 px, 64 nodes per axis: what darktable and G'MIC ship


def export_type(name: str) -> str | None:
    """The media type of an export name, or None when there is no such export."""
    if name in EXPORTS:
        return EXPORTS[name]
    match = SUB_STYLE_EXPORT.fullmatch(name)
    if match is None:
        return None
    return EXPORTS["look.cube"] if match.group(2) == ".cube" else EXPORTS["look-hald.png"]


def sub_style_of(name: str) -> int | None:
    """The 0-based sub-style a LUT export is for (None: the whole profile)."""
    match = SUB_STYLE_EXPORT.fullmatch(name)
    return int(match.group(1)) - 1 if match else None


CUBE_SIZE = 33
QUANTILES = (5, 25, 50, 75, 95)
MAX_CHROMA_SCALE = 1.6  # more would posterise skin and skies
MIN_CHROMA_SCALE = 0.05  # a monochrome board may go (almost) fully grey
MAX_CAST = 25.0  # a*/b* units: the largest colour cast the LUT may add


# --- prompts ----------------------------------------------------------------------------


def _term(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        return str(item.get("term") or item.get("label") or item.get("name") or "")
    return str(getattr(item, "term", "") or "")


def _unique(items: Iterable[Any], exclude: set[str] = frozenset()) -> list[str]:
    seen, out = set(exclude), []
    for item in items:
        term = " ".join(_term(item).replace(",", " ").split())
        if term and term.lower() not in seen:
            seen.add(term.lower())
            out.append(term)
    return out


def prompt_text(
    keywords: Sequence[Any], avoids: Sequence[Any], *, max_terms: int = 24
) -> tuple[str, str]:
    """(positive, negative) prompts. Items are strings, dicts with "term", or objects
    with ``.term`` (taste.profile.Keyword / Avoid). Order is kept (the profile ranks
    them); duplicates and commas inside terms are dropped; a term never appears on
    both sides, since that cancels out in classifier-free guidance."""
    if max_terms < 1:
        raise ValueError("max_terms must be >= 1")
    positive = _unique(keywords)[:max_terms]
    negative = _unique(avoids, exclude={t.lower() for t in positive})[:max_terms]
    return ", ".join(positive), ", ".join(negative)


# --- palettes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Swatch:
    name: str
    rgb: tuple[int, int, int]


def _swatches(palette: Sequence[Any]) -> list[Swatch]:
    out = []
    for i, colour in enumerate(palette):
        get = colour.get if isinstance(colour, Mapping) else lambda k, c=colour: getattr(c, k, None)
        hex_ = str(get("hex") or "")
        if not re.fullmatch(r"#?[0-9a-fA-F]{6}", hex_):
            raise ValueError(f"palette colour {i} has no valid hex ({hex_!r})")
        hex_ = hex_.lstrip("#")
        rgb = (int(hex_[0:2], 16), int(hex_[2:4], 16), int(hex_[4:6], 16))
        out.append(Swatch(name=str(get("name") or f"#{hex_.upper()}"), rgb=rgb))
    if not out:
        raise ValueError("the palette is empty")
    return out


def _ase_string(text: str) -> bytes:
    data = (text + "\0").encode("utf-16-be")
    return struct.pack(">H", len(data) // 2) + data


def palette_ase(palette: Sequence[Any], *, group: str | None = None) -> bytes:
    """Adobe Swatch Exchange: 'ASEF', version 1.0, then blocks (big-endian). Colours
    are RGB float32 "global" swatches, optionally inside a named group."""
    blocks: list[bytes] = []

    def block(kind: int, body: bytes) -> None:
        blocks.append(struct.pack(">HI", kind, len(body)) + body)

    if group:
        block(0xC001, _ase_string(group))
    for swatch in _swatches(palette):
        r, g, b = (c / 255.0 for c in swatch.rgb)
        block(0x0001, _ase_string(swatch.name) + b"RGB " + struct.pack(">fffH", r, g, b, 0))
    if group:
        block(0xC002, b"")
    return b"ASEF" + struct.pack(">HHI", 1, 0, len(blocks)) + b"".join(blocks)


def palette_gpl(palette: Sequence[Any], *, name: str = "Tastebase") -> str:
    """GIMP/Inkscape/Krita palette text."""
    swatches = _swatches(palette)
    clean = " ".join(name.split()) or "Tastebase"
    lines = ["GIMP Palette", f"Name: {clean}", f"Columns: {min(len(swatches), 8)}", "#"]
    lines += [f"{r:3d} {g:3d} {b:3d}\t{s.name}" for s in swatches for r, g, b in [s.rgb]]
    return "\n".join(lines) + "\n"


# --- tone statistics and the LUT ----------------------------------------------------------


@dataclass(frozen=True)
class ToneStats:
    lab_mean: tuple[float, float, float]
    lab_std: tuple[float, float, float]
    l_quantiles: tuple[float, float, float, float, float]  # p5, p25, p50, p75, p95

    @classmethod
    def from_profile(cls, tone: Mapping[str, Any] | Any) -> ToneStats:
        """From taste.profile.Tone (or its dict): quantiles as a dict p5..p95 or a list."""
        get = tone.get if isinstance(tone, Mapping) else lambda k: getattr(tone, k)
        q = get("l_quantiles")
        if isinstance(q, Mapping):
            q = [q[f"p{p}"] for p in QUANTILES]
        mean, std = [float(v) for v in get("lab_mean")], [float(v) for v in get("lab_std")]
        quant = [float(v) for v in q]
        if len(mean) != 3 or len(std) != 3 or len(quant) != 5:
            raise ValueError("tone needs 3 Lab means, 3 Lab stds and 5 L* quantiles")
        if not all(math.isfinite(v) for v in mean + std + quant):
            raise ValueError("tone statistics must be finite")
        return cls(tuple(mean), tuple(std), tuple(quant))  # type: ignore[arg-type]


# A typical photograph (measured on scikit-image's colour photos, rounded): the
# "from" side of the grade. Its a*/b* mean is slightly warm, as daylight photos are.
NEUTRAL = ToneStats(
    lab_mean=(50.0, 4.0, 8.0),
    lab_std=(22.0, 10.0, 13.0),
    l_quantiles=(8.0, 30.0, 50.0, 68.0, 88.0),
)


def tone_curve(target: ToneStats, neutral: ToneStats = NEUTRAL) -> PchipInterpolator:
    """Monotone L* -> L* curve taking the neutral quantiles to the target's."""
    x = np.array(neutral.l_quantiles, dtype=np.float64)
    y = np.clip(np.array(target.l_quantiles, dtype=np.float64), 0.0, 100.0)
    y = np.maximum.accumulate(y) + np.arange(5) * 1e-3  # strictly increasing for PCHIP
    # End points extend the outer segments' slopes, so lifted blacks (a matte board)
    # and rolled-off whites survive instead of being pinned to 0 and 100.
    lo = np.clip(y[0] - x[0] * (y[1] - y[0]) / (x[1] - x[0]), 0.0, y[0] - 1e-3)
    hi = np.clip(y[4] + (100 - x[4]) * (y[4] - y[3]) / (x[4] - x[3]), y[4] + 1e-3, 100.0)
    return PchipInterpolator(np.r_[0.0, x, 100.0], np.r_[lo, y, hi])


def grade_lab(
    lab: np.ndarray, target: ToneStats, *, strength: float, neutral: ToneStats = NEUTRAL
) -> np.ndarray:
    """Apply the profile's grade to (..., 3) Lab values."""
    curve = tone_curve(target, neutral)
    out = np.empty_like(lab, dtype=np.float64)
    out[..., 0] = curve(np.clip(lab[..., 0], 0.0, 100.0))
    for c in (1, 2):
        ratio = target.lab_std[c] / max(neutral.lab_std[c], 1e-6)
        k = float(np.clip(ratio, MIN_CHROMA_SCALE, MAX_CHROMA_SCALE))
        cast = float(np.clip(target.lab_mean[c] - neutral.lab_mean[c], -MAX_CAST, MAX_CAST))
        out[..., c] = neutral.lab_mean[c] + (lab[..., c] - neutral.lab_mean[c]) * k + cast
    return lab + strength * (out - lab)


def _identity_grid(size: int) -> np.ndarray:
    """(size, size, size, 3) RGB grid indexed [r, g, b]."""
    axis = np.linspace(0.0, 1.0, size)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.stack([r, g, b], axis=-1)


def build_lut(
    tone: ToneStats | Mapping[str, Any] | Any,
    *,
    strength: float = 0.8,
    size: int = CUBE_SIZE,
) -> np.ndarray:
    """(size, size, size, 3) float32 LUT indexed [r, g, b], values in [0, 1]."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    if not 2 <= size <= 65:
        raise ValueError(f"LUT size must be in [2, 65], got {size}")
    target = tone if isinstance(tone, ToneStats) else ToneStats.from_profile(tone)
    grid = _identity_grid(size)
    if strength == 0.0:
        return grid.astype(np.float32)
    lab = rgb2lab(grid.reshape(-1, 1, 3))
    graded = grade_lab(lab, target, strength=strength)
    with warnings.catch_warnings():
        # Out-of-gamut results are clipped to the sRGB cube, which is what we want.
        warnings.simplefilter("ignore")
        rgb = lab2rgb(graded)
    return np.clip(rgb.reshape(size, size, size, 3), 0.0, 1.0).astype(np.float32)


def cube_text(lut: np.ndarray, *, title: str = "Tastebase") -> str:
    """Adobe/Resolve .cube text: red varies fastest, then green, then blue."""
    size = lut.shape[0]
    if lut.shape != (size, size, size, 3):
        raise ValueError(f"LUT must be (n, n, n, 3), got {lut.shape}")
    clean = " ".join(title.replace('"', "'").split()) or "Tastebase"
    header = [
        f'TITLE "{clean}"',
        f"LUT_3D_SIZE {size}",
        "DOMAIN_MIN 0.0 0.0 0.0",
        "DOMAIN_MAX 1.0 1.0 1.0",
    ]
    # [r, g, b] -> [b, g, r] so a C-order flatten puts red innermost.
    rows = np.clip(lut, 0.0, 1.0).transpose(2, 1, 0, 3).reshape(-1, 3)
    body = "\n".join(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in rows.tolist())
    return "\n".join(header) + "\n" + body + "\n"


def read_cube(text: str) -> np.ndarray:
    """Parse .cube text into a LUT indexed [r, g, b] (DOMAIN_* must be 0..1)."""
    size, rows = None, []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head = line.split()[0].upper()
        if head == "LUT_3D_SIZE":
            size = int(line.split()[1])
        elif head in ("DOMAIN_MIN", "DOMAIN_MAX"):
            want = 0.0 if head == "DOMAIN_MIN" else 1.0
            if any(float(v) != want for v in line.split()[1:4]):
                raise ValueError("only 0..1 domains are supported")
        elif head == "LUT_1D_SIZE":
            raise ValueError("1-D LUTs are not supported")
        elif head[0].isdigit() or head[0] in "-+.":
            rows.append([float(v) for v in line.split()[:3]])
        # TITLE and unknown keywords are ignored, as the spec allows.
    if size is None:
        raise ValueError("missing LUT_3D_SIZE")
    if len(rows) != size**3:
        raise ValueError(f"expected {size**3} rows, got {len(rows)}")
    return np.asarray(rows, dtype=np.float32).reshape(size, size, size, 3).transpose(2, 1, 0, 3)


def apply_lut_array(rgb: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Trilinear look-up of (..., 3) float RGB in [0, 1]."""
    n = lut.shape[0]
    pos = np.clip(rgb, 0.0, 1.0) * (n - 1)
    i0 = np.minimum(np.floor(pos).astype(np.intp), n - 2)
    f = (pos - i0).astype(np.float32)
    r0, g0, b0 = i0[..., 0], i0[..., 1], i0[..., 2]
    fr, fg, fb = f[..., 0:1], f[..., 1:2], f[..., 2:3]
    out = np.zeros(rgb.shape, dtype=np.float32)
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dg, wg in ((0, 1 - fg), (1, fg)):
            for db, wb in ((0, 1 - fb), (1, fb)):
                out += wr * wg * wb * lut[r0 + dr, g0 + dg, b0 + db]
    return out


def apply_cube(image: Image.Image, lut: np.ndarray) -> Image.Image:
    """Grade an image with a LUT (before/after previews); alpha is kept as is."""
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    out = Image.fromarray((apply_lut_array(rgb, lut) * 255.0 + 0.5).astype(np.uint8), "RGB")
    if alpha is not None:
        out.putalpha(alpha)
    return out


# --- the recovered grade as LUT files --------------------------------------------------


def grade_rgb_lut(table: np.ndarray, *, strength: float = 1.0, size: int = CUBE_SIZE) -> np.ndarray:
    """A recovered grade (taste.grading table: Lab output at sRGB nodes) as an
    (size, size, size, 3) sRGB LUT, at full strength unless asked otherwise."""
    from . import grading

    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    if not 2 <= size <= 65:
        raise ValueError(f"LUT size must be in [2, 65], got {size}")
    lab = grading.graded_lab(grading.resample(table, size), strength=strength, colour=1, tone=1)
    return grading.rgb_table(lab)


def hald_png(lut: np.ndarray) -> bytes:
    """A HaldCLUT PNG (darktable, RawTherapee, G'MIC): level L holds L² nodes per axis
    in an L³ x L³ image, red fastest, then green, then blue, row by row."""
    import io

    nodes = lut.shape[0]
    level = round(nodes**0.5)
    if level * level != nodes:
        raise ValueError(f"a Hald image needs a square number of nodes per axis, got {nodes}")
    side = level**3
    pixels = np.clip(lut, 0.0, 1.0).transpose(2, 1, 0, 3).reshape(side, side, 3)
    buf = io.BytesIO()
    Image.fromarray((pixels * 255.0 + 0.5).astype(np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


def read_hald(data: bytes) -> np.ndarray:
    """A HaldCLUT PNG back into a LUT indexed [r, g, b] (for checking round trips)."""
    import io

    image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32) / 255.0
    side = image.shape[0]
    nodes = round(side ** (2 / 3))
    if image.shape[:2] != (side, side) or nodes**3 != side * side:
        raise ValueError("not a HaldCLUT image")
    return image.reshape(nodes, nodes, nodes, 3).transpose(2, 1, 0, 3)
