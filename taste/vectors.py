"""The search space: one fixed transform of an encoder's embedding, and exact search in it.

Pure numpy, no Django. Clustering reads a board relative to the board itself (it centres
each block on the board's mean); a library search needs one space for every image, so
here the blocks are scaled by the same absolute units clustering uses (within-look
spreads for the Magenta block, the whitened look space for descriptors) and left
uncentred: Euclidean distance does not care about a common offset. Encoders with no
known units (OpenCLIP) are compared by cosine, i.e. L2 on unit vectors.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from functools import cache
from importlib.resources import files

import numpy as np

from .calibration import CALIBRATION_FILE, calibration
from .profile import blocks_for

# Bump when the transform's code changes: the index is keyed by it (with a fingerprint
# of the calibration and the weight below, so a re-fit re-indexes by itself) and
# rebuilt lazily.
SPACE_VERSION = 3
# The Magenta block's weight in the search space (clustering uses the encoder's own),
# chosen on the tuning part of bench/realdata's real media images only
# (`bench/search.py --choose-weight`: the mean of same-medium precision@5 and rank-by-fit
# MAP on tune, encoder v4: 0.936 at 0, 0.941 at 1.0, 0.935 at 2.0). On the validation
# part at 1.0: precision@5 0.86, MAP 0.76 (at 2.0, the weight chosen before on figures
# that mixed in validation images: 0.86, 0.70).
MAGENTA_SEARCH_WEIGHT = 1.0
# Since space 2 the descriptor block is the taste engine's calibrated space
# (taste.calibration, fitted on the tuning part only). On the tuning images the mean
# distance to an image's 3 nearest same-medium images is ~1.7, to its 3 nearest of
# another medium ~2.9, between two random images ~5.0.
# score = exp(-(d / SCORE_SCALE)^2 / 2): 0.78 at 1.8, 0.57 at 2.7, 0.07 at 5.7.
SCORE_SCALE = 2.5


@cache
def _calibration_fingerprint() -> str:
    return hashlib.sha256((files("taste") / "data" / CALIBRATION_FILE).read_bytes()).hexdigest()


def space_id(encoder_id: str) -> str:
    """The key of an encoder's search space: never mix two in one search. It changes
    with the transform's code version, the calibration and the Magenta weight."""
    tag = hashlib.sha256(
        f"{_calibration_fingerprint()}|{MAGENTA_SEARCH_WEIGHT!r}".encode()
    ).hexdigest()[:8]
    return f"{encoder_id}|s{SPACE_VERSION}-{tag}"


def is_absolute(encoder_id: str, dim: int) -> bool:
    return any(b.kind in ("magenta", "descriptors") for b in blocks_for(encoder_id, dim))


def search_space(embeddings: np.ndarray, encoder_id: str) -> np.ndarray:
    """(n, dim) cached embeddings -> (n, d) float32 search vectors."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    blocks = blocks_for(encoder_id, x.shape[1])
    if sum(b.dim for b in blocks) != x.shape[1]:
        raise ValueError(f"{encoder_id} embeddings have {sum(b.dim for b in blocks)} values")
    parts, start = [], 0
    for block in blocks:
        part = x[:, start : start + block.dim]
        start += block.dim
        if block.weight == 0:
            continue
        if block.kind == "descriptors":
            part = calibration().space(part)
        elif block.kind == "magenta" and block.scale:
            part = part / block.scale / math.sqrt(block.dim) * MAGENTA_SEARCH_WEIGHT
            parts.append(part)
            continue
        else:
            norms = np.linalg.norm(part, axis=1, keepdims=True)
            part = part / np.maximum(norms, 1e-12)
        parts.append(part * block.weight)
    return np.concatenate(parts, axis=1).astype(np.float32)


def scores(distances: np.ndarray, *, absolute: bool = True) -> np.ndarray:
    """Distances -> similarity in [0, 1], the number the pages show and thresholds use."""
    d = np.asarray(distances, dtype=np.float64)
    if absolute:
        return np.exp(-0.5 * (d / SCORE_SCALE) ** 2)
    return np.clip(1.0 - d**2 / 2.0, 0.0, 1.0)  # cosine similarity of unit vectors


def distance_for_score(score: float, *, absolute: bool = True) -> float:
    """The largest distance that still scores at least ``score`` (for index queries)."""
    score = min(max(score, 1e-9), 1.0)
    if absolute:
        return SCORE_SCALE * math.sqrt(-2.0 * math.log(score))
    return math.sqrt(max(0.0, 2.0 * (1.0 - score)))


def exact_nearest(
    matrix: np.ndarray,
    query: np.ndarray,
    k: int,
    rows: np.ndarray | None = None,
    norms: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, distances) of the k rows of ``matrix`` nearest ``query``, nearest
    first; ``rows`` restricts the search to those rows (what the user may see);
    ``norms`` are the rows' squared lengths, when the caller keeps them."""
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
    n = len(matrix) if rows is None else len(rows)
    if n == 0 or k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    # |a-b|^2 = |a|^2 - 2ab + |b|^2: one matrix-vector product. When most rows are
    # visible it is cheaper to score them all and pick the visible ones than to copy
    # the visible rows out first.
    if rows is not None and len(rows) * 4 < len(matrix):
        sub = matrix[rows]
        sub_norms = norms[rows] if norms is not None else np.einsum("ij,ij->i", sub, sub)
        d2 = sub_norms - 2.0 * (sub @ q) + float(q @ q)
    else:
        all_norms = norms if norms is not None else np.einsum("ij,ij->i", matrix, matrix)
        d2 = all_norms - 2.0 * (matrix @ q) + float(q @ q)
        if rows is not None:
            d2 = d2[rows]
    k = min(k, n)
    top = np.argpartition(d2, k - 1)[:k] if k < n else np.arange(n)
    top = top[np.argsort(d2[top], kind="stable")]
    dist = np.sqrt(np.maximum(d2[top], 0.0)).astype(np.float32)
    return (rows[top] if rows is not None else top), dist


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blobs: Sequence[bytes], dim: int | None = None) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim or 0), np.float32)
    return np.frombuffer(b"".join(bytes(b) for b in blobs), dtype="<f4").reshape(len(blobs), -1)
