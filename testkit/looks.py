"""Real photographs rendered in distinct, named looks.

Tests, the bench and the app's demo board need boards whose *look* is known while
their *subjects* vary (and are shared across looks, so a clusterer that groups by
subject scores badly). The photographs ship inside scikit-image and scikit-learn, so
nothing is downloaded; the looks are plain numpy colour transforms. A seeded random
crop, flip and exposure jitter make many distinct images from each photograph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

# Only images bundled with the wheels: eagle, lily, skin etc. need a download.
COLOUR_SUBJECTS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "cat",
    "immunohistochemistry",
    "hubble_deep_field",
    "china",
    "flower",
)
# Greyscale photographs are colourised with a seeded gradient map so they can appear
# in colour looks too.
GREY_SUBJECTS = ("camera", "moon", "coins", "clock", "brick", "grass", "gravel")
SUBJECTS = COLOUR_SUBJECTS + GREY_SUBJECTS

OUTPUT_SHORT_SIDE = 288


@cache
def _subject_array(name: str) -> np.ndarray:
    """The photograph as float32 RGB in [0, 1] (cached: decoding is the slow part)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        arr = load_sample_image(f"{name}.jpg")
    else:
        from skimage import data

        arr = getattr(data, name)()
    arr = np.asarray(arr)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.ndim == 2:
        grey = arr.astype(np.float32) / 255.0
        # A seeded three-stop gradient map, cool shadows -> tinted mids -> warm lights,
        # so a colourised photograph carries several hues, as a colour photograph does.
        rng = np.random.default_rng(abs(hash_name(name)) % (2**32))
        lo = np.array([0.08, 0.10, 0.16]) + rng.uniform(-0.03, 0.03, 3)
        mid = np.array([0.45, 0.50, 0.42]) + rng.uniform(-0.08, 0.08, 3)
        hi = np.array([0.96, 0.88, 0.76]) + rng.uniform(-0.04, 0.04, 3)
        g = grey[..., None]
        rgb = np.where(g < 0.5, lo + (mid - lo) * (g / 0.5), mid + (hi - mid) * ((g - 0.5) / 0.5))
        return np.clip(rgb, 0, 1).astype(np.float32)
    return arr[..., :3].astype(np.float32) / 255.0


def hash_name(name: str) -> int:
    """Stable across processes (Python's str hash is salted)."""
    return int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little") ^ len(name)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def _saturate(rgb: np.ndarray, amount: float) -> np.ndarray:
    y = _luma(rgb)[..., None]
    return np.clip(y + (rgb - y) * amount, 0.0, 1.0)


def _s_curve(x: np.ndarray, strength: float) -> np.ndarray:
    """Contrast S-curve through mid grey, normalised to keep 0 and 1 fixed."""
    s = 1.0 / (1.0 + np.exp(-strength * (x - 0.5)))
    lo, hi = 1.0 / (1.0 + np.exp(strength * 0.5)), 1.0 / (1.0 + np.exp(-strength * 0.5))
    return (s - lo) / (hi - lo)


def _grain(shape: tuple[int, ...], rng: np.random.Generator, sigma: float) -> np.ndarray:
    # Monochrome grain, like film: the same noise on all channels.
    return rng.normal(0.0, sigma, shape[:2]).astype(np.float32)[..., None]


def _levels(rgb: np.ndarray) -> np.ndarray:
    """Auto-levels on luma (1st-99th percentile to 0-1), so a look's contrast comes from
    the look and not from how the photograph happened to be exposed."""
    y = _luma(rgb)
    lo, hi = np.percentile(y, [1, 99])
    return np.clip((rgb - lo) / max(hi - lo, 1e-3), 0, 1)


def _set_chroma(rgb: np.ndarray, target: float) -> np.ndarray:
    """Scale colour around luma so the mean colour magnitude reaches `target`: a look
    defines how colourful an image is, whatever the subject brought with it."""
    y = _luma(rgb)[..., None]
    current = float(np.abs(rgb - y).mean())
    gain = min(target / max(current, 1e-4), 6.0)
    return np.clip(y + (rgb - y) * gain, 0.0, 1.0)


def mono_contrast(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    y = _s_curve(_luma(_levels(rgb)), rng.uniform(7.0, 9.0))
    y = np.clip(y + _grain(rgb.shape, rng, 0.012)[..., 0], 0, 1)
    return np.repeat(y[..., None], 3, axis=2)


def warm_film(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = _set_chroma(_levels(rgb), rng.uniform(0.035, 0.05))
    x = 0.17 + 0.68 * x  # lifted blacks, rolled-off highlights: low contrast, faded
    x = x * np.array([1.12, 1.0, 0.78], dtype=np.float32)  # warm cast
    x = x + _grain(rgb.shape, rng, rng.uniform(0.035, 0.05))
    return np.clip(x, 0, 1)


def teal_orange(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Most of the colour comes from the grade: a luminance-driven split tone that
    # runs from teal shadows to orange highlights, like a blockbuster colourist's LUT.
    x = _set_chroma(_s_curve(_levels(rgb), 4.0), 0.02)
    y = _luma(x)[..., None]
    teal = np.array([-0.15, 0.03, 0.10], dtype=np.float32)
    orange = np.array([0.14, 0.03, -0.13], dtype=np.float32)
    return np.clip(x + (1.0 - y) * teal + y * orange, 0, 1)


def saturated_pop(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = _s_curve(_levels(rgb), rng.uniform(4.5, 5.5))
    return _set_chroma(x, rng.uniform(0.2, 0.26))


def pastel(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = _set_chroma(_levels(rgb), rng.uniform(0.05, 0.07))
    x = 0.48 + 0.52 * x  # high key, very low contrast
    tint = np.array([1.0, 0.95, 1.0], dtype=np.float32)  # a faint pink-lilac wash
    return np.clip(x * tint + 0.02, 0, 1)


def cyanotype(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    y = _s_curve(_luma(_levels(rgb)), 5.0)[..., None]
    dark = np.array([0.03, 0.15, 0.35], dtype=np.float32)
    light = np.array([0.88, 0.93, 0.97], dtype=np.float32)
    return np.clip(dark + (light - dark) * y, 0, 1)


LOOKS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "mono_contrast": mono_contrast,
    "warm_film": warm_film,
    "teal_orange": teal_orange,
    "saturated_pop": saturated_pop,
    "pastel": pastel,
    "cyanotype": cyanotype,
}


def _random_crop(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    area = rng.uniform(0.45, 0.95)
    aspect = rng.uniform(0.75, 1.35)
    ch = int(min(h, np.sqrt(area * h * w / aspect)))
    cw = int(min(w, ch * aspect))
    top = int(rng.integers(0, h - ch + 1))
    left = int(rng.integers(0, w - cw + 1))
    crop = rgb[top : top + ch, left : left + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return crop


def render(subject: str, look: str, seed: int = 0) -> Image.Image:
    """One image of `subject` in `look`; the same seed always gives the same image."""
    if look not in LOOKS:
        raise ValueError(f"unknown look {look!r}; choose from {sorted(LOOKS)}")
    rng = np.random.default_rng([hash_name(subject) % (2**31), hash_name(look) % (2**31), seed])
    crop = _random_crop(_subject_array(subject), rng)
    image = Image.fromarray((crop * 255).astype(np.uint8))
    scale = OUTPUT_SHORT_SIDE / min(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    base = np.asarray(image.resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    base = np.clip(base * rng.uniform(0.9, 1.1), 0, 1)  # exposure jitter before the look
    out = LOOKS[look](base, rng)
    return Image.fromarray((np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8))


@dataclass(frozen=True)
class BoardImage:
    key: str
    look: str
    subject: str
    image: Image.Image


def make_board(
    looks: Sequence[str],
    per_look: int,
    *,
    seed: int = 0,
    subjects: Sequence[str] = SUBJECTS,
) -> list[BoardImage]:
    """A board with `per_look` images of each look, cycling through the same subjects
    in every look, so subject and look are independent."""
    board = []
    for li, look in enumerate(looks):
        for i in range(per_look):
            subject = subjects[(i + seed) % len(subjects)]
            key = f"{look}-{i:03d}-{subject}.png"
            img = render(subject, look, seed=seed * 1000 + i * 7 + li)
            board.append(BoardImage(key=key, look=look, subject=subject, image=img))
    return board
