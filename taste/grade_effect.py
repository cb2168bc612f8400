"""How much a recovered grade does: the mean CIEDE2000 by which it moves real ungraded
photographs (taste.grading's prior), and the word the profile page uses for it.

Pure numpy + scipy + skimage, no Django.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.ndimage import map_coordinates
from skimage.color import deltaE_ciede2000, lab2rgb, rgb2lab

from .grading import grid_lab, prior

EFFECT_SAMPLES = 4096  # prior colours an effect is measured on (a few ms)
# Mean CIEDE2000 a grade moves ungraded photos by, and what to call it: below ~1 most
# people see no difference side by side; 5 and up is a look you notice at a glance.
FAINT_EFFECT = 1.0
EFFECT_WORDS = ((5.0, "strong"), (2.0, "clear"), (FAINT_EFFECT, "subtle"), (0.0, "barely any"))


@cache
def _effect_probe() -> tuple[np.ndarray, np.ndarray]:
    """A fixed spread of the prior's colours: sRGB in [0, 1] and their CIELAB."""
    lab = prior()
    lab = lab[:: max(1, len(lab) // EFFECT_SAMPLES)].astype(np.float64)
    rgb = np.clip(lab2rgb(lab[None])[0], 0.0, 1.0)
    return rgb, rgb2lab(rgb[None])[0]


def grade_effect(table: np.ndarray) -> float:
    """How much a grade table (Lab at sRGB nodes, as `Grade.table` gives) moves real
    ungraded photographs' colours: mean CIEDE2000 over the prior's. A board whose
    grade was shrunk to almost nothing (`taste.grading.shrink_gain`) shows ~0, and its
    page says so instead of offering a LUT that quietly does nothing."""
    rgb, lab = _effect_probe()
    coords = (rgb * (table.shape[0] - 1)).T
    # The displacement is interpolated, not the table: the sRGB lattice is curved in
    # Lab, and interpolating Lab outputs would "move" colours an identity leaves alone.
    shift = table - grid_lab(table.shape[0])
    out = lab + np.stack(
        [map_coordinates(shift[..., c], coords, order=1, mode="nearest") for c in range(3)], -1
    )
    return float(deltaE_ciede2000(lab, out).mean())


def effect_word(effect: float) -> str:
    """'strong', 'clear', 'subtle' or 'barely any' (EFFECT_WORDS)."""
    return next(word for floor, word in EFFECT_WORDS if effect >= floor)
