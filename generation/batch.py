"""Cohesion <-> diversity: the style vector of every item in a batch.

Cohesion 1 gives every item the profile's blended look (a consistent set).
Cohesion 0 spreads items across the sub-styles in proportion to their weights, with
seeded variation around each sub-style, scaled by how far apart the sub-styles are
(a tight board varies a little, a wide one a lot). In between, each item slides
linearly from its diverse vector toward the blend, so the slider is continuous and
the same seed keeps the same layout as it moves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from taste.magenta import STYLE_DIM

from .stylize import blend_style

MAX_BATCH = 16
# Variation around a sub-style, in units of the clusters' spread around the blend.
JITTER = 0.35
# A single-look profile has no spread to measure: vary by this fraction of the
# vector's own per-dimension magnitude instead (small: the look must survive).
SINGLE_LOOK_JITTER = 0.04

Cluster = tuple[np.ndarray, float]


def _apportion(weights: np.ndarray, count: int) -> np.ndarray:
    """Largest-remainder split of ``count`` items by weight (Hamilton's method)."""
    quota = weights / weights.sum() * count
    seats = np.floor(quota).astype(int)
    order = np.argsort(-(quota - seats), kind="stable")
    seats[order[: count - seats.sum()]] += 1
    return seats


def plan_batch(
    clusters: Sequence[Cluster],
    *,
    count: int,
    cohesion: float,
    seed: int,
) -> list[np.ndarray]:
    """One raw 100-d style vector per item, deterministic for ``seed``."""
    if not 1 <= count <= MAX_BATCH:
        raise ValueError(f"count must be in [1, {MAX_BATCH}], got {count}")
    if not 0.0 <= cohesion <= 1.0:
        raise ValueError(f"cohesion must be in [0, 1], got {cohesion}")
    if len(clusters) == 0:
        raise ValueError("plan_batch needs at least one cluster")
    vectors = [np.asarray(v, dtype=np.float64).reshape(-1) for v, _ in clusters]
    weights = np.asarray([w for _, w in clusters], dtype=np.float64)
    blended = blend_style(vectors, weights).astype(np.float64)  # validates weights too
    stack = np.stack(vectors)
    if stack.shape[1] != STYLE_DIM:
        raise ValueError(f"style vectors must have {STYLE_DIM} values")
    if cohesion == 1.0:
        return [blended.astype(np.float32) for _ in range(count)]

    rng = np.random.default_rng(seed)
    # 1. Which sub-style each item starts from: proportional to weight, order shuffled
    #    so a short batch does not always open with the biggest cluster.
    seats = _apportion(weights, count)
    assignment = rng.permutation(np.repeat(np.arange(len(stack)), seats))

    # 2. Per-dimension spread of the clusters around the blend (weighted).
    share = weights / weights.sum()
    spread = np.sqrt((share[:, None] * (stack - blended) ** 2).sum(0))
    if (share > 0).sum() < 2 or not np.any(spread > 0):
        spread = SINGLE_LOOK_JITTER / JITTER * np.abs(blended)

    # 3. Diverse vector per item, then slide toward the blend by cohesion.
    noise = rng.standard_normal((count, STYLE_DIM))
    diverse = stack[assignment] + JITTER * spread * noise
    items = cohesion * blended + (1.0 - cohesion) * diverse
    return [v.astype(np.float32) for v in items]
