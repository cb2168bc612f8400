"""Per-image tags and the keyword and colour searches.

Automatic tags are the vocabulary terms an image's own measurements license (the same
rules a profile's keywords come from, evaluated on one image), plus the medium of the
sub-style it belongs to in its board's latest profile. Manual tags are stored
(`ImageTag`). Keyword search matches both; colour search compares a hex colour with each
image's measured palette by CIEDE2000.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError

from moodboards.access import User
from moodboards.models import BoardImage

from .calibration import belief_columns
from .descriptors import Descriptors
from .encoders import DEFAULT_ENCODER_ID
from .models import ImageEmbedding, ImageTag, TasteProfile
from .search import MAX_RESULTS, Hit, SearchError, visible_images
from .vocabulary import hex_to_lab, load_vocabulary

TAG_MIN_MEMBERSHIP = 0.5
TAG_RE = re.compile(r"^[\w][\w \-'&/.]{0,58}[\w.]?$", re.UNICODE)
HEX_RE = re.compile(r"^#?([0-9a-fA-F]{6})$")
MAX_DELTA_E = 50.0


def normalise_term(term: str) -> str:
    return " ".join(str(term).split()).lower()


def _columns(vectors: np.ndarray) -> dict[str, np.ndarray]:
    """Descriptor columns straight from the cached joined embeddings (the descriptors are
    their last values, in Descriptors.VECTOR_FIELDS order): no JSON to parse."""
    desc = vectors[:, -len(Descriptors.VECTOR_FIELDS) :].astype(np.float64)
    columns = {f: desc[:, i] for i, f in enumerate(Descriptors.VECTOR_FIELDS)}
    columns.update(belief_columns(desc))  # the medium rules read the classifier's beliefs
    return columns


def _embeddings(shas: list[str]) -> tuple[list[str], np.ndarray]:
    rows = list(
        ImageEmbedding.objects.filter(encoder_id=DEFAULT_ENCODER_ID, sha256__in=shas).values_list(
            "sha256", "vector"
        )
    )
    if not rows:
        return [], np.zeros((0, 0), np.float32)
    matrix = np.stack([np.frombuffer(bytes(v), dtype="<f4") for _, v in rows])
    return [s for s, _ in rows], matrix


def _mediums(board_ids: set[int]) -> dict[int, str]:
    """Image id -> the medium of its sub-style in its board's latest profile."""
    out: dict[int, str] = {}
    for board_id in board_ids:
        latest = TasteProfile.objects.filter(board_id=board_id).order_by("-version").first()
        if latest is None:
            continue
        doc = latest.document
        for cluster in doc.clusters:
            medium = cluster.medium or doc.medium
            if medium:
                for key in cluster.members:
                    out[int(key)] = medium
    return out


def auto_tags(images: list[BoardImage]) -> dict[int, list[str]]:
    """Image id -> the terms its measurements license, strongest first."""
    shas, matrix = _embeddings(list({i.sha256 for i in images}))
    row_of = {s: r for r, s in enumerate(shas)}
    out: dict[int, list[str]] = {i.pk: [] for i in images}
    if len(shas):
        columns = _columns(matrix)
        memberships = [(t.term, t.membership(columns)) for t in load_vocabulary().licensed]
        for image in images:
            row = row_of.get(image.sha256)
            if row is None:
                continue
            carried = [(term, float(m[row])) for term, m in memberships]
            out[image.pk] = [
                t for t, m in sorted(carried, key=lambda x: -x[1]) if m >= TAG_MIN_MEMBERSHIP
            ]
    for image_id, medium in _mediums({i.board_id for i in images}).items():
        if image_id in out and medium not in out[image_id]:
            out[image_id].insert(0, medium)
    return out


def image_tags(image: BoardImage) -> dict[str, list[str]]:
    return {
        "auto": auto_tags([image])[image.pk],
        "manual": list(image.tags.values_list("term", flat=True)),
    }


def tag_add(*, image: BoardImage, user: User, term: str) -> ImageTag:
    """Tag an image by hand (editors; the caller checked the role)."""
    term = normalise_term(term)
    if not term or not TAG_RE.match(term):
        raise ValidationError("A tag is 1-60 letters, digits, spaces or - ' & / .")
    tag, _ = ImageTag.objects.get_or_create(image=image, term=term, defaults={"added_by": user})
    return tag


def tag_remove(*, image: BoardImage, term: str) -> bool:
    deleted, _ = ImageTag.objects.filter(image=image, term=normalise_term(term)).delete()
    return bool(deleted)


def search_keyword(*, user: User, term: str, limit: int = 48) -> list[Hit]:
    """Visible images carrying a keyword: measured (vocabulary rules, scored by how
    clearly the image carries it) or tagged by hand (score 1)."""
    term = normalise_term(term)
    if not term:
        raise SearchError("Type a keyword.")
    if not 1 <= limit <= MAX_RESULTS:
        raise SearchError(f"Ask for 1 to {MAX_RESULTS} results.")
    vocab = load_vocabulary().by_name
    # Ids and hashes only: a library of 100,000 images is not loaded as objects.
    rows = list(visible_images(user).order_by().values_list("id", "sha256", "board_id"))
    visible_ids = {r[0] for r in rows}
    score: dict[int, float] = {}
    rule = vocab.get(term)
    if rule is not None and rule.licensed:
        shas, matrix = _embeddings(list({r[1] for r in rows}))
        if shas:
            by_sha = dict(zip(shas, rule.membership(_columns(matrix)), strict=True))
            for image_id, sha, _ in rows:
                value = float(by_sha.get(sha, 0.0))
                if value >= TAG_MIN_MEMBERSHIP:
                    score[image_id] = value
    for image_id, medium in _mediums({r[2] for r in rows}).items():
        if medium == term and image_id in visible_ids:
            score[image_id] = 1.0
    tagged = ImageTag.objects.filter(term=term, image__in=visible_images(user).values("id"))
    for image_id in tagged.values_list("image_id", flat=True):
        score[image_id] = 1.0
    if not score and term not in vocab:
        raise SearchError(
            f"“{term}” is neither a keyword of the vocabulary nor a tag on your images."
        )
    return _top_hits(score, limit)


def _top_hits(
    score: dict[int, float], limit: int, notes: dict[int, list[str]] | None = None
) -> list[Hit]:
    """The best ``limit`` scores as Hits, fetching only those images."""
    top = sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    images = BoardImage.objects.select_related("board").in_bulk([k for k, _ in top])
    notes = notes or {}
    return [
        Hit(image=images[k], score=round(v, 4), agree_=notes.get(k, []))
        for k, v in top
        if k in images
    ]


@dataclass
class ColourMatch:
    delta_e: float
    share: float  # of the image's pixels in palette colours within the ΔE


def search_colour(
    *, user: User, hex_colour: str, max_delta_e: float = 10.0, limit: int = 48
) -> list[Hit]:
    """Visible images with a palette colour within ``max_delta_e`` (CIEDE2000) of
    ``hex_colour``, the ones where it covers most of the picture first."""
    from skimage.color import deltaE_ciede2000

    match = HEX_RE.match(str(hex_colour).strip())
    if not match:
        raise SearchError("Give the colour as a hex code, like #c0392b.")
    if not 0.0 < max_delta_e <= MAX_DELTA_E:
        raise SearchError(f"ΔE is a colour difference between 0 and {MAX_DELTA_E:g}.")
    if not 1 <= limit <= MAX_RESULTS:
        raise SearchError(f"Ask for 1 to {MAX_RESULTS} results.")
    target = hex_to_lab("#" + match.group(1))
    rows = list(visible_images(user).order_by().values_list("id", "sha256"))
    palettes = {
        sha: (lab, share)
        for sha, lab, share in ImageEmbedding.objects.filter(
            encoder_id=DEFAULT_ENCODER_ID, sha256__in=visible_images(user).values("sha256")
        ).values_list(
            "sha256", "extra__descriptors__palette_lab", "extra__descriptors__palette_share"
        )
        if lab
    }
    found: dict[str, ColourMatch] = {}
    for sha, (lab, share) in palettes.items():
        de = deltaE_ciede2000(np.asarray(lab, dtype=np.float64), target[None, :])
        near = de <= max_delta_e
        if near.any():
            found[sha] = ColourMatch(float(de.min()), float(np.asarray(share)[near].sum()))
    score = {image_id: found[sha].share for image_id, sha in rows if sha in found}
    notes = {image_id: [f"ΔE {found[sha].delta_e:.1f}"] for image_id, sha in rows if sha in found}
    return _top_hits(score, limit, notes)
