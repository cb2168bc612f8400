"""Weighted k-means for palettes (taste.descriptors per image, taste.profile per board):
deterministic, small k, few iterations, bitwise reproducible.

Pure numpy, no Django.
"""

from __future__ import annotations

import numpy as np


def _squared_distances(columns: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """((points - centre) ** 2).sum(1) from the points' (d, n) contiguous columns. For
    rows of fewer than 8 values numpy sums left to right, as this loop does, so the
    result is bitwise the same, several times faster than a reduction over rows of 3."""
    if len(columns) >= 8:  # numpy sums longer rows pairwise
        return ((columns.T - centre) ** 2).sum(1)
    total = (columns[0] - centre[0]) ** 2
    for column, x in zip(columns[1:], centre[1:], strict=True):
        total += (column - x) ** 2
    return total


def weighted_kmeans(
    points: np.ndarray, k: int, weights: np.ndarray | None = None, *, iters: int = 15
) -> tuple[np.ndarray, np.ndarray]:
    """Small deterministic weighted Lloyd's k-means: (centres, weight shares), largest first.

    Used for palettes (one image: ~2k pixels; a board: ~1k palette colours). sklearn's
    KMeans costs ~20 ms per call in setup alone and its OpenMP pool contends with the
    encoder's threads; for these sizes this loop takes ~1 ms. Seeding is weighted
    k-means++ with a fixed generator, so the same input always gives the same palette.
    """
    points = np.asarray(points, dtype=np.float64)
    n = len(points)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    k = min(k, n)
    columns = np.ascontiguousarray(points.T)
    rng = np.random.default_rng(0)
    first = int(rng.choice(n, p=w / w.sum()))
    centres = [points[first]]
    d2 = _squared_distances(columns, centres[0])
    for _ in range(1, k):
        total = (d2 * w).sum()
        if total <= 1e-9:  # fewer distinct colours than k
            break
        idx = int(rng.choice(n, p=d2 * w / total))
        centres.append(points[idx])
        d2 = np.minimum(d2, _squared_distances(columns, points[idx]))
    c = np.array(centres, dtype=np.float64)
    p2 = _squared_distances(columns, np.zeros(len(columns)))[:, None]
    twice = 2.0 * points  # `2.0 * points @ c.T` multiplies first, so this is the same
    weighted = [w * points[:, ch] for ch in range(points.shape[1])]  # the same every pass

    def assign(c: np.ndarray) -> np.ndarray:
        d2 = twice @ c.T
        np.subtract(p2, d2, out=d2)  # in place, the same operations in the same order
        d2 += (c**2).sum(1)[None]
        return d2.argmin(1)

    labels = assign(c)
    for _ in range(iters):
        mass = np.bincount(labels, weights=w, minlength=len(c))
        nonzero = mass > 0
        sums = np.array([np.bincount(labels, weights=v, minlength=len(c)) for v in weighted])
        if nonzero.all():  # the usual case: divide straight into the centres
            np.divide(sums, mass, out=c.T)
        else:
            c[nonzero] = (sums[:, nonzero] / mass[nonzero]).T
        previous, labels = labels, assign(c)
        if (labels == previous).all():
            # Converged: the same labels give bitwise the same centres, so every further
            # pass would repeat this one.
            break
    mass = np.bincount(labels, weights=w, minlength=len(c))
    keep = mass > 0
    c, share = c[keep], mass[keep] / mass.sum()
    order = np.argsort(-share, kind="stable")
    return c[order], share[order]
