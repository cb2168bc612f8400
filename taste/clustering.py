"""Group a board's images into sub-styles, with the number of groups read from the data.

Method (why this and not k-means with a fixed k, or HDBSCAN):

* Embeddings from the default encoder are mapped into a space with *absolute* units:
  descriptors into the look space (one unit = the typical difference between two
  images of the same look), the Magenta vector centred on the board mean and divided
  by its typical within-look spread. With absolute units, "is this board one style?"
  has an answer that does not depend on the board itself.
* Complete-linkage agglomerative clustering cut at a fixed distance
  (`LOOK_THRESHOLD`) then bounds every sub-style's *diameter*: no two images in one
  sub-style differ by more than ~3 typical within-look spreads. A coherent board
  therefore stays one cluster (the coherence test for k=1 is built in), a mixed board
  splits into as many groups as it has looks, and a far-away image cannot be absorbed
  into a group (complete linkage refuses), so it ends up alone.
* Groups too small to be a sub-style (a singleton on a board of 5+, or under ~8% of a
  large board) are flagged as outliers rather than forced into a neighbour.
* HDBSCAN was considered: on boards of 8-40 images its density estimate is unstable
  and it marks many ordinary images as noise; silhouette-chosen k cannot return k=1
  and, on these embeddings, prefers k=2 whenever one look (e.g. monochrome) is far
  from the rest.

Encoders without known units (OpenCLIP) use Ward linkage on board-standardised
features with k chosen by silhouette, accepting k>1 only when the silhouette shows
real structure (`MIN_SILHOUETTE`).

Everything is deterministic: agglomerative clustering has no random state, and ties
are broken by input order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from .descriptors import look_space
from .encoders import Block

LOOK_THRESHOLD = 3.0  # max within-cluster distance, in within-look units (complete linkage)
MAX_CLUSTERS = 8
MIN_SILHOUETTE = 0.25  # generic encoders: below this, the board is treated as one style


@dataclass
class ClusterResult:
    labels: np.ndarray  # (n,) int: cluster index 0..k-1 (largest first), -1 for outliers
    features: np.ndarray  # (n, d) the space clustering used (also used for the map)
    method: str

    @property
    def n_clusters(self) -> int:
        return int(self.labels.max()) + 1 if (self.labels >= 0).any() else 0

    @property
    def outliers(self) -> np.ndarray:
        return np.flatnonzero(self.labels < 0)


def prepare_features(embeddings: np.ndarray, blocks: Sequence[Block]) -> tuple[np.ndarray, bool]:
    """The clustering space and whether its units are absolute (see module docstring)."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n, dim), got shape {x.shape}")
    if not blocks:
        blocks = (Block("all", x.shape[1]),)
    if sum(b.dim for b in blocks) != x.shape[1]:
        raise ValueError(
            f"encoder blocks cover {sum(b.dim for b in blocks)} dims, embeddings have {x.shape[1]}"
        )
    parts, absolute, start = [], True, 0
    for block in blocks:
        part = x[:, start : start + block.dim]
        start += block.dim
        if block.weight == 0:
            continue
        if block.kind == "descriptors":
            part = look_space(part)
        elif block.kind == "magenta" and block.scale:
            # Centre on the board mean (the vectors share a large common offset) and
            # express the spread in within-look units, RMS over the 100 dimensions.
            part = (part - part.mean(0)) / block.scale / math.sqrt(block.dim)
        else:
            absolute = False
            part = part - part.mean(0)
            spread = float(np.sqrt((part**2).sum(1).mean()))
            part = part / spread if spread > 1e-12 else part
        parts.append(part * block.weight)
    return np.concatenate(parts, axis=1), absolute


def _min_group(n: int) -> int:
    """Smallest group that counts as a sub-style rather than outliers."""
    if n < 5:
        return 1
    return max(2, math.ceil(0.08 * n))


def _relabel(raw: np.ndarray, min_size: int) -> np.ndarray:
    """Largest group first (ties: earliest first member); small groups -> -1."""
    groups = [np.flatnonzero(raw == g) for g in np.unique(raw)]
    groups.sort(key=lambda idx: (-len(idx), idx[0]))
    labels = np.full(len(raw), -1, dtype=int)
    k = 0
    for idx in groups:
        if len(idx) >= min_size:
            labels[idx] = k
            k += 1
    return labels


def _silhouette_k(features: np.ndarray, max_k: int) -> np.ndarray:
    from sklearn.metrics import silhouette_score

    z = linkage(features, method="ward")
    best_labels, best_score = np.zeros(len(features), dtype=int), MIN_SILHOUETTE
    for k in range(2, max_k + 1):
        labels = fcluster(z, k, criterion="maxclust") - 1
        if len(np.unique(labels)) < 2:
            continue
        score = silhouette_score(features, labels)
        if score > best_score + 1e-9:
            best_labels, best_score = labels, score
    return best_labels


def cluster_embeddings(
    embeddings: np.ndarray,
    blocks: Sequence[Block] = (),
    *,
    threshold: float = LOOK_THRESHOLD,
) -> ClusterResult:
    """Cluster (n, dim) embeddings into sub-styles; see the module docstring."""
    features, absolute = prepare_features(embeddings, blocks)
    n = len(features)
    if n == 0:
        return ClusterResult(np.zeros(0, dtype=int), features, "empty")
    if n < 3 or float(np.ptp(features, axis=0).max(initial=0.0)) < 1e-9:
        # One or two images, or all identical: one group, nothing to compare against.
        return ClusterResult(np.zeros(n, dtype=int), features, "trivial")

    min_size = _min_group(n)
    if absolute:
        z = linkage(features, method="complete")
        raw = fcluster(z, threshold, criterion="distance") - 1
        if len(np.unique(raw)) > MAX_CLUSTERS:
            # A very eclectic board: keep the tree's top MAX_CLUSTERS branches.
            raw = fcluster(z, MAX_CLUSTERS, criterion="maxclust") - 1
        method = "complete-linkage-threshold"
    else:
        raw = _silhouette_k(features, min(MAX_CLUSTERS, n - 1))
        method = "ward-silhouette"

    labels = _relabel(raw, min_size)
    if (labels >= 0).sum() < 0.5 * n:
        # No style holds even half the board: calling most images outliers would be
        # absurd, so report one broad group (the profile shows low coherence).
        labels = np.zeros(n, dtype=int)
        method += "+eclectic"
    return ClusterResult(labels, features, method)


def coherence(features: np.ndarray) -> float:
    """0-1: how tightly the images sit together (1 = identical looks).

    RMS distance from the centroid, mapped so that one within-look unit is ~0.6."""
    if len(features) < 2:
        return 1.0
    rms = float(np.sqrt(((features - features.mean(0)) ** 2).sum(1).mean()))
    return float(1.0 / (1.0 + (rms / 1.5) ** 2))


def adjusted_rand(labels_true: Sequence[object], labels_pred: Sequence[int]) -> float:
    """ARI with outliers counted as their own singleton groups (bench and tests)."""
    from sklearn.metrics import adjusted_rand_score

    pred = np.asarray(labels_pred).copy()
    out = np.flatnonzero(pred < 0)
    pred[out] = pred.max(initial=0) + 1 + np.arange(len(out))
    return float(adjusted_rand_score(list(labels_true), pred))


def project_2d(features: np.ndarray) -> np.ndarray:
    """(n, 2) map coordinates in [0, 1]: PCA of the clustering space (deterministic;
    sign fixed by sklearn's svd_flip). Axes keep their relative scale so distances on
    the map mean something; the longer axis spans 0-1."""
    n = len(features)
    if n == 0:
        return np.zeros((0, 2))
    centred = features - features.mean(0)
    if n == 1 or float(np.abs(centred).max()) < 1e-12:
        return np.full((n, 2), 0.5)
    from sklearn.decomposition import PCA

    k = min(2, n, features.shape[1])
    coords = PCA(n_components=k, svd_solver="full").fit_transform(centred)
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((n, 2 - coords.shape[1]))])
    lo, hi = coords.min(0), coords.max(0)
    span = float((hi - lo).max())
    if span < 1e-12:
        return np.full((n, 2), 0.5)
    out = (coords - lo) / span
    out += (1.0 - (hi - lo) / span) / 2.0  # centre the shorter axis
    return np.clip(out, 0.0, 1.0)
