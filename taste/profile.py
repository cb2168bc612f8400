"""Build a taste profile from a board's per-image embeddings and descriptors.

Pure Python + numpy: no Django. The app caches per-image embeddings (by sha256 and
encoder id), hands them to `build_profile`, and stores the `TasteProfileData` document
(`taste.document`) it returns. Keyword scoring lives in `taste.keywords`, the words for
people in `taste.summary`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .calibration import medium_of
from .clustering import ClusterResult, cluster_embeddings, coherence, project_2d
from .descriptors import Descriptors
from .document import (
    PROFILE_VERSION,
    Cluster,
    MapPoint,
    PaletteColour,
    TasteProfileData,
    Tone,
)
from .encoders import DEFAULT_ENCODER_ID, Block, MagentaDescriptorEncoder
from .keywords import (
    CLUSTER_KEYWORDS,
    KEYWORDS_PER_FACET,
    avoids_for,
    clip_keywords,
    keyword_rank,
    pick_keywords,
    score_terms,
)
from .kmeans import weighted_kmeans
from .magenta import STYLE_DIM
from .summary import cluster_label, summary_text
from .vocabulary import FACETS, descriptor_columns, lab_to_hex, load_vocabulary, name_colour

if TYPE_CHECKING:
    from PIL import Image

    from .encoders import OpenClipEncoder

__all__ = ["PROFILE_VERSION", "ProfileInput", "analyze_pil_images", "build_profile", "embed_images"]

PALETTE_MIN, PALETTE_MAX = 5, 8
PALETTE_MERGE_DE = 6.0  # CIEDE2000 below which two palette colours read as one

ProgressFn = Callable[[str, int, int], None]
BUILD_STEPS = 5  # progress steps of build_profile (clustering ... summary)


@dataclass
class ProfileInput:
    key: str  # image id or file name
    embedding: np.ndarray  # the encoder's vector (cached per image)
    descriptors: Descriptors
    style_vector: np.ndarray  # raw 100-d Magenta vector
    clip_embedding: np.ndarray | None = None  # optional, for zero-shot keywords


# --- palette and tone --------------------------------------------------------------


def _palette(descriptors: Sequence[Descriptors], k_max: int = PALETTE_MAX) -> list[PaletteColour]:
    """Pool every image's Lab palette (each image weighted equally), re-cluster with
    weighted k-means, then merge colours a viewer would not tell apart."""
    from skimage import color

    points, weights = [], []
    for d in descriptors:
        for lab, share in zip(d.palette_lab, d.palette_share, strict=True):
            points.append(lab)
            weights.append(share / len(descriptors))
    if not points:
        return []
    centres_a, shares_a = weighted_kmeans(np.asarray(points), k_max, np.asarray(weights))
    centres, shares = list(centres_a), list(shares_a)
    while len(centres) > PALETTE_MIN:
        c = np.asarray(centres)
        de = color.deltaE_ciede2000(c[:, None, :], c[None, :, :])
        np.fill_diagonal(de, np.inf)
        i, j = np.unravel_index(np.argmin(de), de.shape)
        if de[i, j] >= PALETTE_MERGE_DE:
            break
        total = shares[i] + shares[j]
        centres[i] = (centres[i] * shares[i] + centres[j] * shares[j]) / total
        shares[i] = total
        del centres[j], shares[j]
    order = np.argsort(-np.asarray(shares), kind="stable")
    out = []
    for o in order:
        lab = np.asarray(centres[o])
        out.append(
            PaletteColour(
                hex=lab_to_hex(lab),
                name=name_colour(lab).name,
                share=round(float(shares[o]), 4),
                lab=[round(float(v), 2) for v in lab],
            )
        )
    return out


def _tone(descriptors: Sequence[Descriptors]) -> Tone:
    """Board Lab statistics for the LUT exporter. Std pools within- and between-image
    variance; L* quantiles are the mean of per-image quantiles (an approximation that
    avoids keeping every pixel)."""
    means = np.array([d.lab_mean for d in descriptors], dtype=np.float64)
    stds = np.array([d.lab_std for d in descriptors], dtype=np.float64)
    quants = np.array([d.l_quantiles for d in descriptors], dtype=np.float64)
    pooled = np.sqrt((stds**2).mean(0) + means.var(0))
    q = quants.mean(0)
    return Tone(
        lab_mean=[round(float(v), 3) for v in means.mean(0)],
        lab_std=[round(float(v), 3) for v in pooled],
        l_quantiles={
            f"p{p}": round(float(v), 3) for p, v in zip((5, 25, 50, 75, 95), q, strict=True)
        },
    )


# --- the build -------------------------------------------------------------------


def blocks_for(encoder_id: str, dim: int) -> tuple[Block, ...]:
    """How clustering should read an encoder's embedding (see taste.encoders.Block)."""
    if encoder_id == DEFAULT_ENCODER_ID:
        return MagentaDescriptorEncoder.blocks
    return (Block("embedding", dim),)


def _representatives(features: np.ndarray, idx: np.ndarray, keys: Sequence[str]) -> list[str]:
    sub = features[idx]
    d = np.linalg.norm(sub - sub.mean(0), axis=1)
    n = len(idx)
    count = min(n, max(4, min(6, math.ceil(n / 4))))
    return [keys[idx[i]] for i in np.argsort(d, kind="stable")[:count]]


def build_profile(
    items: Sequence[ProfileInput],
    *,
    encoder_id: str,
    clip: OpenClipEncoder | None = None,
    progress: ProgressFn | None = None,
) -> TasteProfileData:
    """Cluster, describe and summarise a board. Deterministic for the same inputs."""
    from threadpoolctl import threadpool_limits

    # Every matrix here is tiny (hundreds of rows). Multi-threaded BLAS/OpenMP pools only
    # add wake-up and spin costs, and on a 2-core worker that also runs onnxruntime they
    # made a 200-image build 10x slower (1.2 s instead of 0.1 s). One thread is fastest.
    with threadpool_limits(limits=1):
        return _build_profile(items, encoder_id=encoder_id, clip=clip, progress=progress)


def _build_profile(
    items: Sequence[ProfileInput],
    *,
    encoder_id: str,
    clip: OpenClipEncoder | None,
    progress: ProgressFn | None,
) -> TasteProfileData:
    if not items:
        raise ValueError("the board has no images to analyse")
    keys = [it.key for it in items]
    if len(set(keys)) != len(keys):
        raise ValueError("image keys must be unique")
    embeddings = np.stack([np.asarray(it.embedding, dtype=np.float32).ravel() for it in items])
    styles = np.stack([np.asarray(it.style_vector, dtype=np.float32).ravel() for it in items])
    if styles.shape[1] != STYLE_DIM:
        raise ValueError(f"style vectors must have {STYLE_DIM} values, got {styles.shape[1]}")
    descriptors = [it.descriptors for it in items]
    n = len(items)
    vocab = load_vocabulary()
    total_steps = BUILD_STEPS

    def report(stage: str, step: int) -> None:
        if progress is not None:
            progress(stage, step, total_steps)

    # 1. Sub-styles.
    report("clustering", 0)
    result: ClusterResult = cluster_embeddings(
        embeddings, blocks_for(encoder_id, embeddings.shape[1])
    )
    labels = result.labels
    inliers = np.flatnonzero(labels >= 0)
    outlier_keys = [keys[i] for i in result.outliers]

    # 2. Board keywords from measurements (outliers do not speak for the board).
    report("keywords", 1)
    columns = descriptor_columns(descriptors)
    vectors = np.stack([d.as_vector() for d in descriptors])
    board_scored = score_terms(vocab, columns, inliers)
    keywords = pick_keywords(board_scored, columns, inliers, keys, per_facet=KEYWORDS_PER_FACET)
    clip_z: dict[str, float] | None = None
    clip_vectors = None
    if clip is not None:
        clip_vectors = _clip_vectors(items, clip)
        clip_kw, clip_z = clip_keywords(clip, vocab, clip_vectors, inliers, keys)
        keywords += clip_kw
    keywords.sort(key=lambda k: (FACETS.index(k.facet), -keyword_rank(k, vocab)))
    avoids = avoids_for(vocab, keywords, board_scored, clip_z)

    # 3. Per-cluster description.
    report("sub-styles", 2)
    clusters = []
    for c in range(result.n_clusters):
        idx = np.flatnonzero(labels == c)
        rest = np.setdiff1d(inliers, idx)
        scored = score_terms(vocab, columns, idx)
        contrast = score_terms(vocab, columns, rest) if len(rest) else None
        kws = pick_keywords(
            scored, columns, idx, keys, per_facet=2, contrast_with=contrast,
            limit=CLUSTER_KEYWORDS,
        )  # fmt: skip
        if clip is not None and clip_vectors is not None:
            kws += clip_keywords(clip, vocab, clip_vectors, idx, keys, top=3)[0]
        clusters.append(
            Cluster(
                index=c,
                label=cluster_label(kws, vocab),
                weight=round(len(idx) / n, 4),
                members=[keys[i] for i in idx],
                representatives=_representatives(result.features, idx, keys),
                keywords=kws,
                palette=_palette([descriptors[i] for i in idx], k_max=6),
                style_vector=[float(v) for v in styles[idx].mean(0)],
                centroid=[float(v) for v in embeddings[idx].mean(0)],
                coherence=round(coherence(result.features[idx]), 4),
                medium=medium_of(vectors[idx])[0],
            )
        )

    # 4. Palette, tone, map.
    report("palette", 3)
    palette = _palette([descriptors[i] for i in inliers])
    tone = _tone([descriptors[i] for i in inliers])
    coords = project_2d(result.features)
    board_coherence = round(coherence(result.features[inliers]), 4)

    # 5. Summary.
    report("summary", 4)
    summary = summary_text(
        n=n,
        keywords=sorted(keywords, key=lambda k: -keyword_rank(k, vocab)),
        avoids=avoids,
        palette=palette,
        clusters=clusters,
        outliers=outlier_keys,
        board_coherence=board_coherence,
        vocab=vocab,
    )
    report("done", 5)
    return TasteProfileData(
        version=PROFILE_VERSION,
        encoder_id=encoder_id,
        n_images=n,
        clusters=clusters,
        outliers=outlier_keys,
        keywords=keywords,
        avoids=avoids,
        palette=palette,
        tone=tone,
        summary=summary,
        map=[
            MapPoint(
                keys[i],
                round(float(coords[i, 0]), 4),
                round(float(coords[i, 1]), 4),
                int(labels[i]),
            )
            for i in range(n)
        ],
        coherence=board_coherence,
        method=result.method,
        medium=medium_of(vectors[inliers])[0],
        extra={"style_vector": [float(v) for v in styles[inliers].mean(0)]},
    )


def _clip_vectors(items: Sequence[ProfileInput], clip: OpenClipEncoder) -> np.ndarray:
    vectors = []
    for it in items:
        v = it.clip_embedding if it.clip_embedding is not None else it.embedding
        vectors.append(np.asarray(v, dtype=np.float32).ravel())
    x = np.stack(vectors)
    text_dim = clip.embed_text(["probe"]).shape[1]
    if x.shape[1] != text_dim:
        raise ValueError(
            f"zero-shot keywords need {clip.id} image embeddings ({text_dim}-d); the items "
            f"carry {x.shape[1]}-d vectors. Set ProfileInput.clip_embedding."
        )
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


# --- convenience for scripts -----------------------------------------------------------


def embed_images(
    named_images: Sequence[tuple[str, Image.Image]],
    encoder_id: str = DEFAULT_ENCODER_ID,
) -> tuple[list[ProfileInput], OpenClipEncoder | None]:
    """ProfileInputs for (key, image) pairs. The Magenta style vector and descriptors are
    always computed (profiles need them); an OpenCLIP encoder id adds CLIP embeddings."""
    from .encoders import OpenClipEncoder, get_encoder

    default = get_encoder(DEFAULT_ENCODER_ID)
    assert isinstance(default, MagentaDescriptorEncoder)
    images = [im for _, im in named_images]
    styles, descriptors = default.embed_parts(images)
    joined = default.join(styles, descriptors)
    clip = None
    clip_vectors: np.ndarray | None = None
    if encoder_id != DEFAULT_ENCODER_ID:
        encoder = get_encoder(encoder_id)
        if not isinstance(encoder, OpenClipEncoder):
            raise ValueError(f"encoder {encoder_id!r} is not supported here")
        clip, clip_vectors = encoder, encoder.embed(images)
    items = []
    for i, (key, _) in enumerate(named_images):
        embedding = clip_vectors[i] if clip_vectors is not None else joined[i]
        items.append(
            ProfileInput(
                key=key,
                embedding=embedding,
                descriptors=descriptors[i],
                style_vector=styles[i],
                clip_embedding=clip_vectors[i] if clip_vectors is not None else None,
            )
        )
    return items, clip


def analyze_pil_images(
    named_images: Sequence[tuple[str, Image.Image]],
    encoder_id: str = DEFAULT_ENCODER_ID,
    *,
    progress: ProgressFn | None = None,
) -> TasteProfileData:
    """Embed (key, PIL image) pairs and build their profile in one call."""
    from .grading import grade_document

    items, clip = embed_images(named_images, encoder_id)
    document = build_profile(items, encoder_id=encoder_id, clip=clip, progress=progress)
    images = dict(named_images)
    grade_document(document, images.get, [it.descriptors.grain for it in items])
    return document
