"""Real photographs from scikit-image (bundled, no download) and taste vectors built
from them with the real Magenta predictor."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from generation.stylize import _predictor


@pytest.fixture(scope="session")
def mono_style() -> np.ndarray:
    """A monochrome board: the mean style of greyscale photographs."""
    predictor = _predictor()
    greys = [data.camera(), data.moon(), data.coins()]
    return np.mean([predictor.predict(Image.fromarray(g).convert("RGB")) for g in greys], axis=0)


@pytest.fixture(scope="session")
def colour_style(astronaut: Image.Image, coffee: Image.Image) -> np.ndarray:
    predictor = _predictor()
    return np.mean([predictor.predict(astronaut), predictor.predict(coffee)], axis=0)


def _saturation(image: Image.Image) -> float:
    """Mean HSV saturation, 0-1."""
    return float(np.asarray(image.convert("HSV"), dtype=np.float32)[..., 1].mean() / 255.0)


def _gradient_energy(image: Image.Image) -> float:
    """Mean absolute luminance gradient: how much fine detail an image carries."""
    lum = np.asarray(image.convert("L"), dtype=np.float32)
    return float(np.abs(np.diff(lum, axis=0)).mean() + np.abs(np.diff(lum, axis=1)).mean())


@pytest.fixture(scope="session")
def saturation():
    return _saturation


@pytest.fixture(scope="session")
def gradient_energy():
    return _gradient_energy
