"""Real sample photographs that ship inside installed packages (no downloads).

Used for the demo board, tests and benchmarks, so behaviour that depends on image
content is exercised with real pictures rather than flat colour squares.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return load


def _sklearn(index: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_images

        return load_sample_images().images[index]

    return load


# name -> loader; colour photographs first (they make the nicest demo board).
SAMPLES: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "chelsea-the-cat": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "rocket": _skimage("rocket"),
    "china-temple": _sklearn(0),
    "flower": _sklearn(1),
    "cat": _skimage("cat"),
    "hubble-deep-field": _skimage("hubble_deep_field"),
    "immunohistochemistry": _skimage("immunohistochemistry"),
    "retina": _skimage("retina"),
    "camera": _skimage("camera"),
    "moon": _skimage("moon"),
    "brick": _skimage("brick"),
    "gravel": _skimage("gravel"),
    "grass": _skimage("grass"),
    "coins": _skimage("coins"),
    "horse": _skimage("horse"),
    "clock": _skimage("clock"),
    "page": _skimage("page"),
    "text": _skimage("text"),
}


def sample_image(name: str) -> Image.Image:
    array = SAMPLES[name]()
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    return Image.fromarray(array)


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, fmt, **params)
    return out.getvalue()


def sample_jpeg(name: str, *, quality: int = 90) -> bytes:
    return encode(sample_image(name), "JPEG", quality=quality)
