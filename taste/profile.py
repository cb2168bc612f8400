"""Build a taste profile from a board's per-image embeddings and descriptors.

Pure Python + numpy: no Django. The app caches per-image embeddings (by sha256 and
encoder id), hands them to `build_profile`, and stores `TasteProfileData.to_dict()`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .clustering import ClusterResult, cluster_embeddings, coherence, project_2d
from .descriptors import REFERENCE_TYPICAL, Descriptors, weighted_kmeans
from .encoders import DEFAULT_ENCODER_ID, Block, MagentaDescriptorEncoder
from .magenta import STYLE_DIM
from .vocabulary import (
    FACETS,
    Term,
    Vocabulary,
    descriptor_columns,
    lab_to_hex,
    load_vocabulary,
    name_colour,
)

if TYPE_CHECKING:
    from PIL import Image

    from .encoders import OpenClipEncoder

PROFILE_VERSION = 1
KEYWORD_MIN_SCORE = 0.5  # a term must be carried by (softly) half the images
KEYWORDS_PER_FACET = 4
CLUSTER_KEYWORDS = 6
AVOID_HOLD_SCORE = 0.6  # only confidently held terms generate avoids
AVOID_MAX_PRESENT = 0.15  # ...and only for terms the board really lacks
MAX_AVOIDS = 8
EVIDENCE_IMAGES = 12  # image keys listed per evidence item
PALETTE_MIN, PALETTE_MAX = 5, 8
PALETTE_MERGE_DE = 6.0  # CIEDE2000 below which two palette colours read as one

ProgressFn = Callable[[str, int, int], None]


# --- data ---------------------------------------------------------------------------


@dataclass
class ProfileInput:
    key: str  # image id or file name
    embedding: np.ndarray  # the encoder's vector (cached per image)
    descriptors: Descriptors
    style_vector: np.ndarray  # raw 100-d Magenta vector
    clip_embedding: np.ndarray | None = None  # optional, for zero-shot keywords


@dataclass
class Evidence:
    measurement: str  # a Descriptors field, or "clip_similarity"
    value: float  # board (or cluster) median
    typical: float  # a typical photograph's value (or the vocabulary mean similarity)
    rule: str  # e.g. "< 3"
    images: list[str]  # keys of images that carry it (up to EVIDENCE_IMAGES)
    share: float  # fraction of the images that carry it


@dataclass
class Keyword:
    term: str
    facet: str
    score: float  # 0-1
    source: str  # "descriptors" or "clip"
    evidence: list[Evidence]


@dataclass
class Avoid:
    term: str
    facet: str
    why: str
    because_of: str  # the held keyword whose opposite this is


@dataclass
class PaletteColour:
    hex: str
    name: str
    share: float
    lab: list[float]


@dataclass
class Cluster:
    index: int
    label: str  # a short name built from its top keywords
    weight: float  # share of the board's images
    members: list[str]
    representatives: list[str]  # 4-6 keys closest to the centroid
    keywords: list[Keyword]
    palette: list[PaletteColour]
    style_vector: list[float]  # raw mean Magenta vector (100 floats) for the transformer
    centroid: list[float]  # mean embedding in the encoder's space
    coherence: float
    is_outlier_group: bool = False


@dataclass
class Tone:
    lab_mean: list[float]
    lab_std: list[float]
    l_quantiles: dict[str, float]  # p5, p25, p50, p75, p95


@dataclass
class MapPoint:
    key: str
    x: float
    y: float
    cluster: int  # -1 for outliers


@dataclass
class TasteProfileData:
    version: int
    encoder_id: str
    n_images: int
    clusters: list[Cluster]
    outliers: list[str]
    keywords: list[Keyword]
    avoids: list[Avoid]
    palette: list[PaletteColour]
    tone: Tone
    summary: str
    map: list[MapPoint]
    coherence: float
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TasteProfileData:
        def kw(d: dict[str, Any]) -> Keyword:
            return Keyword(
                d["term"], d["facet"], d["score"], d["source"],
                [Evidence(**e) for e in d["evidence"]],
            )  # fmt: skip

        def pal(items: list[dict[str, Any]]) -> list[PaletteColour]:
            return [PaletteColour(**p) for p in items]

        clusters = [
            Cluster(
                **{**c, "keywords": [kw(k) for k in c["keywords"]], "palette": pal(c["palette"])}
            )
            for c in data["clusters"]
        ]
        return cls(
            version=data["version"],
            encoder_id=data["encoder_id"],
            n_images=data["n_images"],
            clusters=clusters,
            outliers=list(data["outliers"]),
            keywords=[kw(k) for k in data["keywords"]],
            avoids=[Avoid(**a) for a in data["avoids"]],
            palette=pal(data["palette"]),
            tone=Tone(**data["tone"]),
            summary=data["summary"],
            map=[MapPoint(**m) for m in data["map"]],
            coherence=data["coherence"],
            method=data["method"],
            extra=dict(data.get("extra", {})),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.floating | float):
        v = float(value)
        return round(v, 6) if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# --- keywords -------------------------------------------------------------------------


@dataclass
class _Scored:
    term: Term
    score: float
    membership: np.ndarray  # per image in the scored subset


def _score_terms(
    vocab: Vocabulary, columns: dict[str, np.ndarray], idx: np.ndarray
) -> dict[str, _Scored]:
    sub = {f: v[idx] for f, v in columns.items()}
    out = {}
    for term in vocab.licensed:
        m = term.membership(sub)
        out[term.term] = _Scored(term, float(m.mean()), m)
    return out


def _evidence(
    scored: _Scored, columns: dict[str, np.ndarray], idx: np.ndarray, keys: Sequence[str]
) -> list[Evidence]:
    carriers = [keys[i] for i, m in zip(idx, scored.membership, strict=True) if m >= 0.5]
    share = float((scored.membership >= 0.5).mean())
    return [
        Evidence(
            measurement=cond.field,
            value=float(np.median(columns[cond.field][idx])),
            typical=REFERENCE_TYPICAL[cond.field],
            rule=cond.describe(),
            images=carriers[:EVIDENCE_IMAGES],
            share=share,
        )
        for cond in scored.term.rule
    ]


def _pick_keywords(
    scored: dict[str, _Scored],
    columns: dict[str, np.ndarray],
    idx: np.ndarray,
    keys: Sequence[str],
    *,
    per_facet: int,
    contrast_with: dict[str, _Scored] | None = None,
    limit: int | None = None,
) -> list[Keyword]:
    """Terms carried by most images, best first within each facet.

    With `contrast_with` (the rest of the board), terms that distinguish this group
    rank higher than terms every group shares: a cluster's keywords say how it differs.
    """
    ranked = []
    for name, s in scored.items():
        if s.score < KEYWORD_MIN_SCORE:
            continue
        rank = s.score * s.term.priority
        if contrast_with is not None and name in contrast_with:
            rank += s.score - contrast_with[name].score
        # Among equally held terms prefer the more specific ones (more conditions).
        rank += 0.01 * len(s.term.rule)
        ranked.append((rank, name))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    counts: dict[str, int] = {}
    out = []
    for _, name in ranked:
        s = scored[name]
        if counts.get(s.term.facet, 0) >= per_facet:
            continue
        counts[s.term.facet] = counts.get(s.term.facet, 0) + 1
        out.append(
            Keyword(
                term=name,
                facet=s.term.facet,
                score=round(s.score, 4),
                source="descriptors",
                evidence=_evidence(s, columns, idx, keys),
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out


def _clip_keywords(
    clip: OpenClipEncoder,
    vocab: Vocabulary,
    clip_vectors: np.ndarray,
    idx: np.ndarray,
    keys: Sequence[str],
    *,
    top: int = 6,
) -> tuple[list[Keyword], dict[str, float]]:
    """Zero-shot: rank rule-less vocabulary terms against the group's centroid.

    Descriptor-licensed terms are never added this way: they must be earned by
    measurement. Returns the keywords and every term's z-score (used for avoids)."""
    text = clip.embed_text(vocab.names)
    vectors = clip_vectors[idx]
    centroid = vectors.mean(0)
    centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
    sims = text @ centroid
    mu, sd = float(sims.mean()), float(sims.std()) or 1.0
    z = (sims - mu) / sd
    per_image = vectors @ text.T  # (m, terms)
    img_mu, img_sd = per_image.mean(1, keepdims=True), per_image.std(1, keepdims=True) + 1e-9
    per_image_z = (per_image - img_mu) / img_sd
    zscores = {t.term: float(z[i]) for i, t in enumerate(vocab.terms)}
    out = []
    for i in np.argsort(-z, kind="stable"):
        term = vocab.terms[int(i)]
        if term.licensed or z[i] < 1.5:
            continue
        carriers = [keys[idx[j]] for j in np.flatnonzero(per_image_z[:, i] > 1.0)]
        out.append(
            Keyword(
                term=term.term,
                facet=term.facet,
                # z of 1.5 -> 0.5, z of 3 -> ~0.9: "how far above the vocabulary's mean"
                score=round(float(1.0 / (1.0 + math.exp(-1.5 * (z[i] - 1.5)))), 4),
                source="clip",
                evidence=[
                    Evidence(
                        measurement="clip_similarity",
                        value=float(sims[i]),
                        typical=mu,
                        rule=f"z = {z[i]:.2f} over the vocabulary",
                        images=carriers[:EVIDENCE_IMAGES],
                        share=len(carriers) / max(len(idx), 1),
                    )
                ],
            )
        )
        if len(out) >= top:
            break
    return out, zscores


def _avoids(
    vocab: Vocabulary,
    keywords: Sequence[Keyword],
    scored: dict[str, _Scored],
    clip_z: dict[str, float] | None,
) -> list[Avoid]:
    by_name = vocab.by_name
    out: list[Avoid] = []
    seen = {k.term for k in keywords}

    def rank(k: Keyword) -> float:
        return k.score * (by_name[k.term].priority if k.term in by_name else 1.0)

    for kw in sorted(keywords, key=rank, reverse=True):
        term = by_name.get(kw.term)
        if term is None or kw.score < AVOID_HOLD_SCORE:
            continue
        for name in term.avoids:
            if name in seen or name not in by_name:
                continue
            lacking = name not in scored or scored[name].score <= AVOID_MAX_PRESENT
            if name not in scored and clip_z is not None:
                lacking = clip_z.get(name, 0.0) < 0.5
            if not lacking:
                continue
            seen.add(name)
            present = scored[name].score if name in scored else None
            out.append(
                Avoid(
                    term=name,
                    facet=by_name[name].facet,
                    why=_avoid_reason(kw, name, present, vocab),
                    because_of=kw.term,
                )
            )
            if len(out) >= MAX_AVOIDS:
                return out
    return out


def _rank(k: Keyword, vocab: Vocabulary) -> float:
    term = vocab.by_name.get(k.term)
    return k.score * (term.priority if term else 1.0)


def _fmt(value: float) -> str:
    if abs(value) >= 10:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _avoid_reason(kw: Keyword, avoided: str, present: float | None, vocab: Vocabulary) -> str:
    term = vocab.by_name.get(kw.term)
    phrase = term.phrase if term else kw.term
    ev = kw.evidence[0] if kw.evidence else None
    measured = (
        f" ({ev.measurement.replace('_', ' ')} {_fmt(ev.value)} against {_fmt(ev.typical)} "
        f"for a typical photo; {ev.share:.0%} of images)"
        if ev and kw.source == "descriptors"
        else ""
    )
    if present is None:
        lack = ""
    elif present < 0.01:
        lack = f" and none of its images reads as {avoided}"
    else:
        lack = f" and only {present:.0%} of it reads as {avoided}"
    return f"The board reads as {phrase}{measured}{lack}."


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


# --- summary ---------------------------------------------------------------------------

_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _phrases(keywords: Sequence[Keyword], vocab: Vocabulary, facet: str, n: int) -> list[str]:
    by_name = vocab.by_name
    out = []
    for k in keywords:
        if k.facet == facet and len(out) < n:
            out.append(by_name[k.term].phrase if k.term in by_name else k.term)
    return out


def cluster_label(keywords: Sequence[Keyword], vocab: Vocabulary | None = None) -> str:
    vocab = vocab or load_vocabulary()
    parts: list[str] = []
    for facet in ("colour", "tone", "texture", "mood"):
        parts += _phrases(keywords, vocab, facet, 1)
        if len(parts) >= 3:
            break
    return ", ".join(parts) if parts else "mixed"


def _summary(
    *,
    n: int,
    keywords: Sequence[Keyword],
    avoids: Sequence[Avoid],
    palette: Sequence[PaletteColour],
    clusters: Sequence[Cluster],
    outliers: Sequence[str],
    board_coherence: float,
    vocab: Vocabulary,
) -> str:
    # Wording varies with the board (seeded by its keywords) but is reproducible.
    seed = int(hashlib.sha256("|".join(k.term for k in keywords).encode()).hexdigest(), 16)

    def pick(options: Sequence[str], salt: int) -> str:
        return options[(seed >> (salt * 3)) % len(options)]

    colour = _phrases(keywords, vocab, "colour", 3)
    tone = _phrases(keywords, vocab, "tone", 3)
    texture = _phrases(keywords, vocab, "texture", 2)
    comp = _phrases(keywords, vocab, "composition", 2)
    mood = _phrases(keywords, vocab, "mood", 3)
    sentences = []

    real = [c for c in clusters if not c.is_outlier_group]
    lead = colour[:2] + tone[:2]
    look = _join(lead)
    if n == 1:
        # One picture is a reference, not yet a taste: say so rather than "a board of 1".
        sentences.append(
            f"A single reference so far: {look}." if look else "A single reference so far."
        )
    elif len(real) <= 1:
        tight = "tight, consistent" if board_coherence >= 0.5 else "loosely related"
        if look:
            sentences.append(
                pick(
                    [
                        f"A {tight} board of {n} images: {look}.",
                        f"These {n} references hold together as one {tight} look: {look}.",
                        f"One look runs through all {n} images, {look}; the set is {tight}.",
                    ],
                    0,
                )
            )
        else:
            sentences.append(f"A {tight} board of {n} images without a strong colour or tone.")
    else:
        k = _NUMBERS.get(len(real), str(len(real)))
        groups = "; ".join(f"{c.label} ({c.weight:.0%})" for c in real)
        sentences.append(
            pick(
                [
                    f"A board of {n} images that splits into {k} distinct looks: {groups}.",
                    f"The {n} images fall into {k} sub-styles: {groups}.",
                    f"Rather than one look, these {n} references hold {k}: {groups}.",
                ],
                0,
            )
        )
        if look:
            sentences.append(f"What they share: {look}.")
    if texture:
        sentences.append(
            pick(
                [
                    f"Surfaces show {_join(texture)}.",
                    f"Texture: {_join(texture)}.",
                    f"In texture it reads as {_join(texture)}.",
                ],
                2,
            )
        )
    if comp:
        sentences.append(
            pick(
                [
                    f"Composition: {_join(comp)}.",
                    f"The framing is {_join(comp)}.",
                    f"Compositionally, {_join(comp)}.",
                ],
                3,
            )
        )
    if mood:
        sentences.append(
            pick(
                [
                    f"The overall mood is {_join(mood)}.",
                    f"It feels {_join(mood)}.",
                    f"Emotionally it lands as {_join(mood)}.",
                ],
                4,
            )
        )
    if palette:
        names = [p.name for p in palette[:4]]
        sentences.append(
            pick(
                [
                    f"The palette is led by {names[0]}"
                    + (f", with {_join(names[1:])}." if len(names) > 1 else "."),
                    f"Key colours: {_join(names)}.",
                    f"Colour-wise it draws on {_join(names)}.",
                ],
                5,
            )
        )
    if avoids:
        terms = [a.term for a in avoids[:4]]
        sentences.append(
            pick(
                [
                    f"Steer clear of {_join(terms)}.",
                    f"Avoid {_join(terms)}.",
                    f"It has no place for {_join(terms)}.",
                ],
                6,
            )
        )
    if outliers:
        count = len(outliers)
        sentences.append(
            f"{'One image' if count == 1 else f'{count} images'} "
            f"({_join(outliers[:3])}{', …' if count > 3 else ''}) "
            f"{'sits' if count == 1 else 'sit'} outside these looks."
        )
    return " ".join(sentences)


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
    total_steps = 5

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
    board_scored = _score_terms(vocab, columns, inliers)
    keywords = _pick_keywords(board_scored, columns, inliers, keys, per_facet=KEYWORDS_PER_FACET)
    clip_z: dict[str, float] | None = None
    clip_vectors = None
    if clip is not None:
        clip_vectors = _clip_vectors(items, clip)
        clip_kw, clip_z = _clip_keywords(clip, vocab, clip_vectors, inliers, keys)
        keywords += clip_kw
    keywords.sort(key=lambda k: (FACETS.index(k.facet), -_rank(k, vocab)))
    avoids = _avoids(vocab, keywords, board_scored, clip_z)

    # 3. Per-cluster description.
    report("sub-styles", 2)
    clusters = []
    for c in range(result.n_clusters):
        idx = np.flatnonzero(labels == c)
        rest = np.setdiff1d(inliers, idx)
        scored = _score_terms(vocab, columns, idx)
        contrast = _score_terms(vocab, columns, rest) if len(rest) else None
        kws = _pick_keywords(
            scored, columns, idx, keys, per_facet=2, contrast_with=contrast,
            limit=CLUSTER_KEYWORDS,
        )  # fmt: skip
        if clip is not None and clip_vectors is not None:
            kws += _clip_keywords(clip, vocab, clip_vectors, idx, keys, top=3)[0]
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
    summary = _summary(
        n=n,
        keywords=sorted(keywords, key=lambda k: -_rank(k, vocab)),
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
    items, clip = embed_images(named_images, encoder_id)
    return build_profile(items, encoder_id=encoder_id, clip=clip, progress=progress)
