"""Group a board's images into sub-styles, with the number of groups read from the data.

Method (why this and not k-means with a fixed k, a global distance cut, or HDBSCAN):

* Embeddings from the default encoder are mapped into a space with *absolute* units:
  descriptors into the calibrated space of taste.calibration (medium measures whitened
  by their within-medium covariance, grade columns by their within-grade covariance,
  plus the medium classifier's log-beliefs; all measured on real third-party images, so
  one unit = the typical difference between two real images of one medium or grade),
  the Magenta vector centred on the board mean and divided by its typical within-look
  spread, at the calibrated weight. With absolute units, "is this board one style?" has
  an answer that does not depend on the board itself.
* Ward's agglomerative tree proposes the splits. Ward's merge height between groups A
  and B is sqrt(2) * |mean_A - mean_B| / sqrt(1/n_A + 1/n_B): the distance between the
  two groups' mean looks divided by its standard error, in within-look units, i.e. a
  two-sample test statistic. The tree is cut top-down: a group is split when
  - the split is *significant*: Ward height >= SPLIT_HEIGHT (two groups of 6+ images
    whose means differ by more than chance variation between images of one look), and
  - the difference *matters*: the two halves' mean looks are at least MIN_SEPARATION
    within-look units apart. Without this, any large board of one look would split,
    because the standard error shrinks with n while the look does not change.
  So a coherent board stays one cluster (the k=1 case is built in), a mixed board splits
  into as many groups as it has looks, and an image far from everything else (its
  height grows with its distance) ends up alone.
* Groups too small to be a sub-style (a singleton on a board of 5+, or under ~8% of a
  large board) are flagged as outliers rather than forced into a neighbour.
* Considered and measured (bench/analyze.py, every 2/3/4-look combination): a fixed
  complete-linkage diameter cut (the previous method: one threshold cannot fit looks
  whose spreads differ, ARI ~0.77); BIC-selected Gaussian mixtures (consistent, so on
  a 96-image board of one look they find non-Gaussian structure and split it); HDBSCAN
  (on boards of 8-40 images its density estimate is unstable and it marks many ordinary
  images as noise); silhouette-chosen k (cannot return k=1).

Encoders without known units (OpenCLIP) use Ward linkage on board-standardised
features with k chosen by silhouette, accepting k>1 only when the silhouette shows
real structure (`MIN_SILHOUETTE`).

Everything is deterministic: agglomerative clustering has no random state, ties are
broken by input order, and the map's repulsion step has no randomness either.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage, to_tree
from scipy.spatial import cKDTree

from .calibration import Calibration, calibration
from .encoders import Block

# Top-down Ward cut (see the module docstring), in within-look units. These are the
# nominal values; the ones in use are fitted with the calibration on real boards
# (taste/data/calibration.json: split_height, min_separation; bench/realfit.py).
SPLIT_HEIGHT = 5.0
MIN_SEPARATION = 1.6
MAX_CLUSTERS = 8
MIN_SILHOUETTE = 0.25  # generic encoders: below this, the board is treated as one style
# Boards larger than this are split on a sample of this many images, and every image then
# joins the nearest of the sample's groups: Ward's tree needs all n²/2 distances (10,000
# images: 400 MB and most of a minute), while a group of a few hundred sampled images
# already fixes its mean far more precisely than the split thresholds ask (the Ward
# height grows with the square root of the group sizes).
TREE_SAMPLE = 2000
# The split thresholds were fitted on real boards of 12-48 images. The significance test
# (Ward's height, a two-sample statistic) grows with the square root of the group sizes,
# so on a larger board ever smaller differences pass it and one look splits by subject
# (a 10,000-image board of four looks: 20 % of it in scraps flagged as outliers). Above
# this size the test is taken at this many images with the board's proportions, so the
# answer does not depend on how many pictures of each look a board holds.
CALIBRATED_BOARD = 48


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


def prepare_features(
    embeddings: np.ndarray, blocks: Sequence[Block], cal: Calibration | None = None
) -> tuple[np.ndarray, bool]:
    """The clustering space and whether its units are absolute (see module docstring).
    `cal` is the calibration to apply (default: the installed one; the fit passes its
    candidates)."""
    cal = cal or calibration()
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
        weight = cal.weights["magenta"] if block.kind == "magenta" else block.weight
        if weight == 0:
            continue
        if block.kind == "descriptors":
            part = cal.space(part)
        elif block.kind == "magenta" and block.scale:
            # Centre on the board mean (the vectors share a large common offset) and
            # express the spread in within-look units, RMS over the 100 dimensions.
            part = (part - part.mean(0)) / block.scale / math.sqrt(block.dim)
        else:
            absolute = False
            part = part - part.mean(0)
            spread = float(np.sqrt((part**2).sum(1).mean()))
            part = part / spread if spread > 1e-12 else part
        parts.append(part * weight)
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


def _ward_top_down(
    features: np.ndarray, split_height: float, min_separation: float, max_clusters: int
) -> np.ndarray:
    """Cut Ward's tree from the root down: split a group while the split is significant
    (merge height) and large enough to matter (distance between the halves' means);
    highest splits first, so at most `max_clusters` groups keep the tree's top branches.
    """
    root = to_tree(linkage(features, method="ward"))
    heap: list[tuple[float, int, object]] = [(-root.dist, root.id, root)]
    groups: list[list[int]] = []
    while heap:
        neg_height, _, node = heapq.heappop(heap)
        split = False
        room = len(groups) + len(heap) + 2 <= max_clusters
        if room and not node.is_leaf() and -neg_height >= split_height:
            left, right = node.left.pre_order(), node.right.pre_order()
            gap = np.linalg.norm(features[left].mean(0) - features[right].mean(0))
            split = bool(gap >= min_separation)
        if split:
            for child in (node.left, node.right):
                heapq.heappush(heap, (-child.dist, child.id, child))
        else:
            groups.append(node.pre_order())
    raw = np.zeros(len(features), dtype=int)
    for g, members in enumerate(groups):
        raw[members] = g
    return raw


def sample_rows(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Indices of at most `size` of n images, sorted: all of them on a board that small,
    else a seeded random draw (deterministic; a stride could alias with a board whose
    uploads alternate between looks)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def nearest_rows(x: np.ndarray, centres: np.ndarray, k: int = 1, chunk: int = 2048) -> np.ndarray:
    """(n, k) indices of each row's k nearest centres, in chunks so the distance matrix
    of a 10,000-image board never exists whole."""
    c2 = (centres**2).sum(1)
    out = np.empty((len(x), k), dtype=np.intp)
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk]
        d2 = c2[None, :] - 2.0 * part @ centres.T
        if k == 1:
            out[start : start + len(part), 0] = d2.argmin(1)
        else:
            near = np.argpartition(d2, k - 1, axis=1)[:, :k]
            order = np.take_along_axis(d2, near, 1).argsort(1, kind="stable")
            out[start : start + len(part)] = np.take_along_axis(near, order, 1)
    return out


SAMPLE_VOTERS = 5  # sampled neighbours whose groups decide an unsampled image's


def _nearest_group(features: np.ndarray, sample: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Extend the sample's groups to the whole board: a sampled image keeps its group;
    every other image takes the group most of its SAMPLE_VOTERS nearest sampled images
    are in (ties: the nearest one's). Neighbours, not the nearest group mean: a broad
    look's edge is often nearer a small tight group's mean than its own, and by means
    a quarter of a 4,000-image board moved into groups too small to count (outliers)."""
    k = min(SAMPLE_VOTERS, len(sample))
    near = raw[nearest_rows(features, features[sample], k=k)]  # (n, k) group ids
    groups = int(raw.max()) + 1
    votes = np.zeros((len(features), groups), dtype=np.int64)
    np.add.at(votes, (np.repeat(np.arange(len(features)), k), near.ravel()), 1)
    top = votes.max(1, keepdims=True)
    tied = votes == top
    first_choice = near[:, 0]
    out = np.where(tied[np.arange(len(features)), first_choice], first_choice, votes.argmax(1))
    out[sample] = raw
    return out


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
    split_height: float | None = None,
    min_separation: float | None = None,
    cal: Calibration | None = None,
) -> ClusterResult:
    """Cluster (n, dim) embeddings into sub-styles; see the module docstring. The cut's
    thresholds default to the calibrated ones (taste/data/calibration.json)."""
    cal = cal or calibration()
    features, absolute = prepare_features(embeddings, blocks, cal)
    if split_height is None:
        split_height = cal.split_height
    if min_separation is None:
        min_separation = cal.min_separation
    n = len(features)
    if n == 0:
        return ClusterResult(np.zeros(0, dtype=int), features, "empty")
    if n < 3 or float(np.ptp(features, axis=0).max(initial=0.0)) < 1e-9:
        # One or two images, or all identical: one group, nothing to compare against.
        return ClusterResult(np.zeros(n, dtype=int), features, "trivial")

    min_size = _min_group(n)
    sample = sample_rows(n, TREE_SAMPLE)
    if absolute:
        tested = split_height * math.sqrt(max(1.0, len(sample) / CALIBRATED_BOARD))
        raw = _ward_top_down(features[sample], tested, min_separation, MAX_CLUSTERS)
        method = "ward-top-down"
    else:
        raw = _silhouette_k(features[sample], min(MAX_CLUSTERS, len(sample) - 1))
        method = "ward-silhouette"
    if len(sample) < n:
        raw = _nearest_group(features, sample, raw)
        method += f"+sample{len(sample)}"

    labels = _relabel(raw, min_size)
    if absolute and cal.outlier_distance:
        labels = _flag_far_images(features, labels, cal.outlier_distance)
    if (labels >= 0).sum() < 0.5 * n:
        # No style holds even half the board: calling most images outliers would be
        # absurd, so report one broad group (the profile shows low coherence).
        labels = np.zeros(n, dtype=int)
        method += "+eclectic"
    return ClusterResult(labels, features, method)


def leave_one_out_distances(features: np.ndarray) -> np.ndarray:
    """Each image's distance to the mean of the others (of one group)."""
    n = len(features)
    if n < 2:
        return np.zeros(n)
    others = (features.sum(0) - features) / (n - 1)
    return np.linalg.norm(features - others, axis=1)


def _flag_far_images(features: np.ndarray, labels: np.ndarray, limit: float) -> np.ndarray:
    """A single image unlike the rest of its sub-style (a pixel-art sprite on a board of
    photographs) moves a Ward merge too little to split off on its own, so it is tested
    directly: farther from the others' mean than `limit` (the calibration's 99.5th
    percentile of that distance on real one-look boards) makes it an outlier. One image
    per group at most, the farthest, and only in groups of 5 or more."""
    labels = labels.copy()
    for c in range(int(labels.max()) + 1 if (labels >= 0).any() else 0):
        idx = np.flatnonzero(labels == c)
        if len(idx) < 5:
            continue
        d = leave_one_out_distances(features[idx])
        far = int(d.argmax())
        if d[far] > limit:
            labels[idx[far]] = -1
    return _relabel_kept(labels)


def _relabel_kept(labels: np.ndarray) -> np.ndarray:
    """Keep group order (largest first) after flagging; renumber 0..k-1."""
    out = labels.copy()
    kept = (
        [c for c in range(int(labels.max()) + 1) if (labels == c).any()]
        if (labels >= 0).any()
        else []
    )
    for new, old in enumerate(kept):
        out[labels == old] = new
    return out


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


# The map: points closer than this (in the [0, 1] map frame) are pushed apart, so no
# two images hide each other on the profile page (a 560 x 360 px plot area, 6 px
# dots). The spacing shrinks on large boards so a few hundred points still fit.
MAP_MIN_SPACING = 0.025
MAP_SPACING_PER_SQRT_N = 0.4
MAP_MIN_SHORT_SIDE = 0.5  # the shorter map axis spans at least this much of the longer
MAP_NEIGHBOURS = 5  # local distance scale: median distance to the 5th nearest image
MAP_SMACOF_ITERS = 40
# Larger boards are laid out on this many landmark images (the MDS needs every pairwise
# distance: 10,000 images would take GBs); every other image is placed among its
# MAP_NEIGHBOURS nearest landmarks, weighted by closeness.
MAP_LANDMARKS = 1200


def project_2d(features: np.ndarray) -> np.ndarray:
    """(n, 2) map coordinates in [0, 1]; deterministic, ~0.1 s for 500 images (boards
    over MAP_LANDMARKS images: steps 1-2 on a sample, the rest placed among it).

    1. Distances in the clustering space are log-compressed beyond the local scale
       (log1p(d / s), s = typical distance to a near neighbour): images of one look keep
       their relative positions, while a far-away look (monochrome among colour looks)
       no longer squashes every other group into a corner.
    2. Classical MDS of those distances, refined by a few SMACOF iterations: classical
       MDS keeps only the two largest directions, so groups that differ in a third are
       drawn on top of each other; stress majorisation pulls them apart.
    3. The longer axis spans 0-1, the shorter at least MAP_MIN_SHORT_SIDE.
    4. A small repulsion step spreads points closer than the spacing (near-identical
       images of one tight look) into a compact patch around where they were, so the
       groups stay where they are and every point can be hovered."""
    n = len(features)
    if n == 0:
        return np.zeros((0, 2))
    centred = features - features.mean(0)
    spacing = min(MAP_MIN_SPACING, MAP_SPACING_PER_SQRT_N / math.sqrt(n))
    if n == 1:
        return np.full((1, 2), 0.5)
    if float(np.abs(centred).max()) < 1e-12:
        # Identical images (duplicates): a small sunflower patch around the centre,
        # so each copy can still be hovered.
        golden = math.pi * (3.0 - math.sqrt(5.0))
        i = np.arange(n)
        radius = spacing * 0.6 * np.sqrt(i + 0.5)
        return 0.5 + np.stack([radius * np.cos(golden * i), radius * np.sin(golden * i)], 1)
    landmarks = sample_rows(n, MAP_LANDMARKS)
    coords = _compressed_mds(centred[landmarks])
    if len(landmarks) < n:
        coords = _place_among(centred, centred[landmarks], coords)
    return _spread(_normalise_map(coords), spacing)


def _place_among(x: np.ndarray, marks: np.ndarray, mark_coords: np.ndarray) -> np.ndarray:
    """Map coordinates for every row of `x`: the inverse-square-distance weighted mean of
    its nearest landmarks' places (a landmark keeps its own place exactly)."""
    k = min(MAP_NEIGHBOURS, len(marks))
    near = nearest_rows(x, marks, k=k)
    d2 = ((x[:, None, :] - marks[near]) ** 2).sum(2)
    w = 1.0 / np.maximum(d2, 1e-18)
    w /= w.sum(1, keepdims=True)
    return (w[:, :, None] * mark_coords[near]).sum(1)


def _compressed_mds(x: np.ndarray) -> np.ndarray:
    """Steps 1-2 of `project_2d`. Signs are fixed so the largest-magnitude entry of each
    axis is positive (deterministic)."""
    from scipy.linalg import eigh
    from scipy.spatial.distance import pdist, squareform

    n = len(x)
    d = squareform(pdist(x))
    # Local scale: the typical distance to a point's few nearest neighbours.
    kth = min(n - 1, MAP_NEIGHBOURS)
    scale = float(np.median(np.partition(d, kth, axis=1)[:, kth]))
    if scale > 1e-12:
        d = np.log1p(d / scale)
    d2 = d**2
    b = -0.5 * (d2 - d2.mean(0)[None] - d2.mean(1)[:, None] + d2.mean())
    values, vectors = eigh(b, subset_by_index=[max(0, n - 2), n - 1])
    order = np.argsort(-values, kind="stable")
    values, vectors = np.maximum(values[order], 0.0), vectors[:, order]
    coords = vectors * np.sqrt(values)[None]
    if coords.shape[1] == 2:
        coords = _smacof(d, coords)
    signs = np.sign(coords[np.abs(coords).argmax(0), np.arange(coords.shape[1])])
    coords = coords * np.where(signs == 0, 1.0, signs)[None]
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((n, 2 - coords.shape[1]))])
    return coords


def _smacof(target: np.ndarray, coords: np.ndarray, iters: int = MAP_SMACOF_ITERS) -> np.ndarray:
    """Metric stress majorisation (Guttman transform, unit weights) from `coords`
    towards the `target` distances. Deterministic (no random start)."""
    n = len(coords)
    for _ in range(iters):
        sq = (coords**2).sum(1)
        dist = np.sqrt(np.maximum(sq[:, None] + sq[None] - 2.0 * coords @ coords.T, 0.0))
        ratio = np.where(dist > 1e-9, target / np.maximum(dist, 1e-9), 0.0)
        np.fill_diagonal(ratio, 0.0)
        coords = (ratio.sum(1)[:, None] * coords - ratio @ coords) / n
    return coords


def _normalise_map(coords: np.ndarray) -> np.ndarray:
    """Longer axis to 0-1, shorter axis to at least MAP_MIN_SHORT_SIDE, both centred."""
    lo, hi = coords.min(0), coords.max(0)
    span = hi - lo
    longest = float(span.max())
    if longest < 1e-12:
        return np.full(coords.shape, 0.5)
    scale = np.maximum(span / longest, MAP_MIN_SHORT_SIDE) / np.maximum(span, 1e-12 * longest)
    out = (coords - lo) * scale
    out += (1.0 - out.max(0)) / 2.0
    return np.clip(out, 0.0, 1.0)


def _spread(coords: np.ndarray, spacing: float, rounds: int = 200) -> np.ndarray:
    """Push apart pairs closer than `spacing` (each moves half the shortfall, along the
    line between them; coincident points along a fixed, index-derived direction), then
    re-fit the frame; repeat until no pair is too close or `rounds` run out."""
    n = len(coords)
    coords = coords.copy()
    golden = math.pi * (3.0 - math.sqrt(5.0))
    target = spacing * 1.05  # a little slack so re-fitting the frame keeps the spacing
    for _ in range(rounds):
        pairs = cKDTree(coords).query_pairs(target, output_type="ndarray")
        if len(pairs) == 0:
            break
        i, j = pairs[:, 0], pairs[:, 1]
        delta = coords[j] - coords[i]
        dist = np.hypot(delta[:, 0], delta[:, 1])
        same = dist < 1e-9
        angle = golden * (i[same] * n + j[same])
        delta[same] = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        dist[same] = 1.0
        step = (target - np.where(same, 0.0, dist)) / 2.0
        move = delta / dist[:, None] * step[:, None]
        shift = np.zeros_like(coords)
        np.add.at(shift, i, -move)
        np.add.at(shift, j, move)
        coords = _normalise_map(coords + shift)
    return coords
