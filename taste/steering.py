"""Steering a profile: each change makes a new immutable version that records it.

What a user can ask for, like Krea's signed reference strengths and Midjourney's
negative weights:

* exclude images of the profile, or weight them from -2 to 2 (0 leaves an image out,
  a negative weight turns it into a negative reference);
* negative references: an image or a whole board to steer away from;
* pin keywords (always in the prompt) and ban them (never in it; an avoid instead).

The new version is rebuilt from the cached embeddings of the images it keeps; then its
sub-styles' style vectors and centroids become weighted means of their members, pushed
away from the weighted mean of the negative references. Generation reads those vectors
and prompt terms through the profile document, so it honours the steering unchanged.
The steering is cumulative: a version stores all of it (``extra["steering"]``), and
steering it again starts from there.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from moodboards.models import Board, BoardImage, ImageStatus

from .descriptors import Descriptors
from .encoders import DEFAULT_ENCODER_ID, get_encoder
from .models import ImageEmbedding, TasteProfile
from .profile import ProfileInput, build_profile
from .services import bake_grade, save_version
from .vocabulary import load_vocabulary

MIN_WEIGHT, MAX_WEIGHT = -2.0, 2.0
# How far one unit of negative weight pushes a sub-style away from the negatives' mean,
# as a fraction of its distance from them (Midjourney's ::-0.5 reads as "half as much").
PUSH = 0.25
MAX_NEGATIVE_IMAGES = 500
MAX_TERMS = 20


def _embeddings(shas: Sequence[str], encoder_id: str) -> dict[str, ImageEmbedding]:
    return {
        row.sha256: row
        for row in ImageEmbedding.objects.filter(sha256__in=set(shas), encoder_id=encoder_id)
    }


def _items(images: dict[str, dict], encoder_id: str) -> list[ProfileInput]:
    """ProfileInputs for a profile's images, from the embedding cache only."""
    shas = [v["sha256"] for v in images.values()]
    base = _embeddings(shas, DEFAULT_ENCODER_ID)
    extra = _embeddings(shas, encoder_id) if encoder_id != DEFAULT_ENCODER_ID else {}
    items = []
    for key in sorted(images, key=int):
        sha = images[key]["sha256"]
        row = base.get(sha)
        if row is None or (encoder_id != DEFAULT_ENCODER_ID and sha not in extra):
            continue
        clip = extra[sha].as_array() if sha in extra else None
        items.append(
            ProfileInput(
                key=key,
                embedding=clip if clip is not None else row.as_array(),
                descriptors=Descriptors.from_dict(row.extra["descriptors"]),
                style_vector=np.asarray(row.extra["style"], dtype=np.float32),
                clip_embedding=clip,
            )
        )
    return items


def _check_weight(key: str, weight: float) -> float:
    weight = float(weight)
    if not math.isfinite(weight) or not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        raise ValidationError(f"Image weights go from -2 to 2 (image {key}: {weight}).")
    return round(weight, 3)


def _check_terms(terms: Sequence[str], what: str) -> list[str]:
    vocab = load_vocabulary().by_name
    out = []
    for raw in terms:
        term = " ".join(str(raw).split()).lower()
        if term not in vocab:
            raise ValidationError(
                f"“{term}” is not in the keyword vocabulary, so it can't be {what}."
            )
        out.append(term)
    if len(out) > MAX_TERMS:
        raise ValidationError(f"At most {MAX_TERMS} keywords at a time.")
    return out


def _negatives_from(
    images: Sequence[BoardImage], boards: Sequence[Board], weight: float
) -> list[dict]:
    """Negative references as stored: bytes, name, weight and where they came from.
    The caller fetched every image and board through the access helpers."""
    from .services import embed_images_cached

    picked: list[tuple[BoardImage, str]] = [(img, f"image {img.pk}") for img in images]
    for board in boards:
        board_images = list(board.images.filter(status=ImageStatus.READY)[:MAX_NEGATIVE_IMAGES])
        picked += [(img, f"board “{board.title}”") for img in board_images]
    if len(picked) > MAX_NEGATIVE_IMAGES:
        raise ValidationError(f"At most {MAX_NEGATIVE_IMAGES} negative reference images.")
    if picked:
        embed_images_cached([img for img, _ in picked], encoder_id=DEFAULT_ENCODER_ID)
    return [
        {"sha256": img.sha256, "name": img.original_name, "weight": weight, "source": src}
        for img, src in picked
    ]


def _weighted_mean(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return (weights[:, None] * vectors).sum(0) / weights.sum()


def _apply_vectors(data: dict, items: list[ProfileInput], spec: dict, encoder_id: str) -> None:
    """Sub-style vectors as weighted means of their members, pushed from the negatives."""
    by_key = {it.key: it for it in items}
    weights = spec["weights"]
    negs = spec["negatives"]
    neg_style = neg_centroid = None
    strength = 0.0
    if negs:
        rows = _embeddings([n["sha256"] for n in negs], DEFAULT_ENCODER_ID)
        space = (
            _embeddings([n["sha256"] for n in negs], encoder_id)
            if encoder_id != DEFAULT_ENCODER_ID
            else rows
        )
        usable = [n for n in negs if n["sha256"] in rows]
        if usable:
            w = np.array([abs(n["weight"]) for n in usable])
            styles = np.stack([np.asarray(rows[n["sha256"]].extra["style"]) for n in usable])
            neg_style = _weighted_mean(styles, w)
            strength = float(w.mean())
            in_space = [n for n in usable if n["sha256"] in space]
            if in_space:
                wc = np.array([abs(n["weight"]) for n in in_space])
                neg_centroid = _weighted_mean(
                    np.stack([space[n["sha256"]].as_array() for n in in_space]), wc
                )

    def moved(members: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
        keep = [m for m in members if m in by_key]
        if not keep:
            return None
        w = np.array([weights.get(m, 1.0) for m in keep], dtype=np.float64)
        style = _weighted_mean(np.stack([by_key[m].style_vector for m in keep]), w)
        centroid = _weighted_mean(np.stack([by_key[m].embedding for m in keep]), w)
        if neg_style is not None:
            style = style + PUSH * strength * (style - neg_style)
        if neg_centroid is not None and neg_centroid.shape == centroid.shape:
            centroid = centroid + PUSH * strength * (centroid - neg_centroid)
        return style, centroid

    for cluster in data["clusters"]:
        result = moved(cluster["members"])
        if result is not None:
            cluster["style_vector"] = [float(v) for v in result[0]]
            cluster["centroid"] = [float(v) for v in result[1]]
    inliers = [k for k in by_key if k not in set(data.get("outliers", []))]
    whole = moved(inliers or list(by_key))
    if whole is not None:
        data.setdefault("extra", {})["style_vector"] = [float(v) for v in whole[0]]


def _apply_terms(data: dict, pinned: list[str], banned: list[str]) -> None:
    vocab = load_vocabulary().by_name

    def keep(keywords: list[dict]) -> list[dict]:
        kept = [k for k in keywords if k["term"] not in banned]
        have = {k["term"] for k in kept}
        pins = [
            {"term": t, "facet": vocab[t].facet, "score": 1.0, "source": "pinned", "evidence": []}
            for t in pinned
            if t not in have
        ]
        return pins + kept

    data["keywords"] = keep(data["keywords"])
    for cluster in data["clusters"]:
        cluster["keywords"] = keep(cluster["keywords"])
    avoids = [a for a in data["avoids"] if a["term"] not in pinned and a["term"] not in banned]
    data["avoids"] = [
        {"term": t, "facet": vocab[t].facet, "why": "banned when steering", "because_of": ""}
        for t in banned
    ] + avoids


def profile_steer(
    *,
    profile: TasteProfile,
    user: AbstractBaseUser | None,
    weights: dict[str, float] | None = None,
    exclude: Sequence[str] = (),
    negative_images: Sequence[BoardImage] = (),
    negative_boards: Sequence[Board] = (),
    negative_weight: float = -1.0,
    pin: Sequence[str] = (),
    unpin: Sequence[str] = (),
    ban: Sequence[str] = (),
    unban: Sequence[str] = (),
) -> TasteProfile:
    """A new version of ``profile``'s board with the steering applied (or the existing
    version with exactly that steering). Bad input raises ValidationError, nothing saved."""
    weights = dict(weights or {})
    prev = dict(profile.data.get("extra", {}).get("steering") or {})
    images = dict(profile.images)
    # 1. Validate against this version's images and the vocabulary.
    unknown = [k for k in [*weights, *exclude] if str(k) not in images]
    if unknown:
        raise ValidationError(f"Not images of this version: {', '.join(map(str, unknown))}.")
    weights = {str(k): _check_weight(str(k), w) for k, w in weights.items()}
    negative_weight = _check_weight("negative", negative_weight)
    if negative_weight >= 0:
        raise ValidationError("A negative reference needs a weight below 0.")
    pin, unpin = _check_terms(pin, "pinned"), _check_terms(unpin, "unpinned")
    ban, unban = _check_terms(ban, "banned"), _check_terms(unban, "unbanned")
    if set(pin) & set(ban):
        raise ValidationError("A keyword can't be pinned and banned at once.")

    # 2. Merge with the steering this version already carries.
    removed = [str(k) for k in exclude] + [k for k, w in weights.items() if w == 0]
    negatives = list(prev.get("negatives", []))
    for key, w in weights.items():
        if w < 0:
            negatives.append(
                {**images[key], "weight": w, "source": "a negative weight on this board"}
            )
            removed.append(key)
    negatives += _negatives_from(negative_images, negative_boards, negative_weight)
    negatives = list({n["sha256"]: n for n in negatives}.values())
    kept = {k: v for k, v in images.items() if k not in set(removed)}
    merged = {**prev.get("weights", {}), **{k: w for k, w in weights.items() if w > 0}}
    merged = {k: w for k, w in merged.items() if k in kept}
    pinned = sorted((set(prev.get("pinned", [])) | set(pin)) - set(unpin) - set(ban))
    banned = sorted((set(prev.get("banned", [])) | set(ban)) - set(unban) - set(pin))
    kept_shas = {v["sha256"] for v in kept.values()}
    negatives = [n for n in negatives if n["sha256"] not in kept_shas]
    spec = {
        "from_version": profile.version,
        "base_fingerprint": prev.get("base_fingerprint", profile.fingerprint),
        "weights": merged,
        "negatives": negatives,
        "pinned": pinned,
        "banned": banned,
    }

    # 3. Rebuild from the cache and apply.
    items = _items(kept, profile.encoder_id)
    if not items:
        raise ValidationError("That would leave the profile without any image.")
    clip = None if profile.encoder_id == DEFAULT_ENCODER_ID else get_encoder(profile.encoder_id)
    document = build_profile(items, encoder_id=profile.encoder_id, clip=clip)  # type: ignore[arg-type]
    # The steered images' colour grade, baked like an analysed version's (issue 12).
    kept_images = list(BoardImage.objects.filter(pk__in=[int(k) for k in kept if k.isdigit()]))
    bake_grade(document, kept_images, items, [])
    data = document.to_dict()
    _apply_vectors(data, items, spec, profile.encoder_id)
    _apply_terms(data, pinned, banned)
    data["extra"]["steering"] = spec
    used = {it.key: kept[it.key] for it in items}

    key = {k: v for k, v in spec.items() if k != "from_version"}
    fingerprint = hashlib.sha256(
        json.dumps({**key, "images": sorted(used)}, sort_keys=True).encode()
    ).hexdigest()
    changes = {
        "previous_version": profile.version,
        "steered": True,
        "excluded": [images[k]["name"] for k in removed if weights.get(k, 0) >= 0],
        "weights": {images[k]["name"]: w for k, w in weights.items() if w > 0},
        "negative": sorted(
            {n["name"] for n in negatives} - {n["name"] for n in prev.get("negatives", [])}
        ),
        "pinned": pin,
        "banned": ban,
        "unpinned": unpin,
        "unbanned": unban,
    }
    changes = {k: v for k, v in changes.items() if v or k in ("previous_version", "steered")}
    saved = save_version(
        board=profile.board, encoder_id=profile.encoder_id, fingerprint=fingerprint,
        images=used, data=data, changes=lambda _previous: changes, created_by=user,
    )  # fmt: skip
    if saved is None:
        raise ValidationError("Could not save the steered version; please try again.")
    return saved


def steering_of(profile: TasteProfile) -> dict:
    """The steering a version carries ({} for a plain analysis), for pages and the API."""
    return dict(profile.data.get("extra", {}).get("steering") or {})
