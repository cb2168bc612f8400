"""Keywords and avoids: which vocabulary terms a group of images earns, with evidence.

Descriptor-licensed terms are earned by measurement (`taste.vocabulary` rules); with an
OpenCLIP encoder, rule-less terms are ranked zero-shot against the group's centroid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .calibration import BELIEF_TYPICAL
from .descriptors import REFERENCE_TYPICAL
from .document import Avoid, Evidence, Keyword
from .vocabulary import Term, Vocabulary

if TYPE_CHECKING:
    from .encoders import OpenClipEncoder

KEYWORD_MIN_SCORE = 0.5  # a term must be carried by (softly) half the images
KEYWORDS_PER_FACET = 4
CLUSTER_KEYWORDS = 6
AVOID_HOLD_SCORE = 0.6  # only confidently held terms generate avoids
AVOID_MAX_PRESENT = 0.15  # ...and only for terms the board really lacks
MAX_AVOIDS = 8
EVIDENCE_IMAGES = 12  # image keys listed per evidence item


@dataclass
class _Scored:
    term: Term
    score: float
    membership: np.ndarray  # per image in the scored subset


def score_terms(
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
    typical = {**REFERENCE_TYPICAL, **BELIEF_TYPICAL}
    shown = [(cond.field, cond.describe()) for cond in scored.term.rule]
    shown += [(name, "measured") for name in scored.term.shows]
    return [
        Evidence(
            measurement=name,
            value=float(np.median(columns[name][idx])),
            typical=typical[name],
            rule=rule,
            images=carriers[:EVIDENCE_IMAGES],
            share=share,
        )
        for name, rule in shown
    ]


def pick_keywords(
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


def clip_keywords(
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


def avoids_for(
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


def keyword_rank(k: Keyword, vocab: Vocabulary) -> float:
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
