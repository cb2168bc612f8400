"""Taste search: find similar images, rank images by fit to a profile, more like a
sub-style, off-taste images on a board.

Every library query starts from `visible_images(user)` (the user's boards and their
teams' boards, archived ones left out) and hands only those images' hashes to the index,
so a search can never return an image its user may not see. Search runs in the built-in
encoder's style space (Magenta style + measured descriptors), which every analysed image
has, whichever encoder its profile used.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from moodboards.access import User
from moodboards.models import Board, BoardImage, ImageStatus

from .clustering import nearest_rows
from .descriptors import Descriptors
from .document import TasteProfileData
from .encoders import DEFAULT_ENCODER_ID
from .models import ImageEmbedding, TasteProfile
from .search_index import index_sync, nearest, vectors_for
from .vectors import is_absolute, scores, search_space
from .vocabulary import descriptor_columns, load_vocabulary

SEARCH_ENCODER = DEFAULT_ENCODER_ID
MAX_RESULTS = 200
OFF_TASTE_SCORE = 0.35  # below this fit an image on the board is flagged as off-taste...
OFF_TASTE_RELATIVE = 0.5  # ...if also below half the profile's own images' median fit
WHY_TERMS = 6  # keywords of the profile checked per ranked image
# Images never analysed have no embedding yet: a library search embeds up to this many
# of them on the way (about 50 ms each); the rest wait for their board's analysis.
EMBED_ON_SEARCH = 48
FIT_NEIGHBOURS = 3
# Never-analysed images one ranking embeds on the way (~50 ms each); the rest are left
# out of the answer until their board is analysed.
RANK_EMBED_LIMIT = 100


class SearchError(ValidationError):
    """A reason the user can act on (a bad threshold, an unknown sub-style, ...): the
    pages show it and the API answers 400 with it."""


@dataclass
class Hit:
    image: BoardImage
    score: float  # 0-1 similarity (or fit)
    agree_: list[str] = field(default_factory=list, repr=False)
    disagree_: list[str] = field(default_factory=list, repr=False)
    sub_style: int | None = None  # the profile sub-style an image fits best
    # Computes (agree, disagree) on first use: ranking a 10,000-image board explains only
    # the hits a page or the API shows (explaining all of them took seconds).
    why: Callable[[], tuple[list[str], list[str]]] | None = field(
        default=None, repr=False, compare=False
    )

    def _explain(self) -> None:
        if self.why is not None:
            self.agree_, self.disagree_ = self.why()
            self.why = None

    @property
    def agree(self) -> list[str]:
        """The profile's measured keywords this image agrees with."""
        self._explain()
        return self.agree_

    @property
    def disagree(self) -> list[str]:
        """The profile's measured keywords this image disagrees with."""
        self._explain()
        return self.disagree_


def visible_images(user: User) -> QuerySet[BoardImage]:
    """Every processed image on a non-archived board of a team the user belongs to."""
    if not user.is_authenticated:
        return BoardImage.objects.none()
    return BoardImage.objects.filter(
        board__team__memberships__user_id=user.pk,
        board__archived_at__isnull=True,
        status=ImageStatus.READY,
    )


def _absolute() -> bool:
    from .magenta import STYLE_DIM

    return is_absolute(SEARCH_ENCODER, STYLE_DIM + 1)


def _check(limit: int, min_score: float) -> None:
    if not 1 <= limit <= MAX_RESULTS:
        raise SearchError(f"Ask for 1 to {MAX_RESULTS} results.")
    if not 0.0 <= min_score <= 1.0:
        raise SearchError("The threshold is a score between 0 and 1.")


def ensure_embedded(images: Sequence[BoardImage], *, limit: int | None = None) -> None:
    """Embed (and cache) images that were never analysed, so they can be searched for;
    at most ``limit`` of them in this call (a request should not embed a whole board)."""
    have = set(
        ImageEmbedding.objects.filter(
            encoder_id=SEARCH_ENCODER, sha256__in=[i.sha256 for i in images]
        ).values_list("sha256", flat=True)
    )
    from django.core.cache import cache

    # A file that could not be read is not retried by every search for a day.
    unreadable = cache.get_many([f"tb-unreadable:{i.sha256}" for i in images])
    missing = [
        i for i in images if i.sha256 not in have and f"tb-unreadable:{i.sha256}" not in unreadable
    ]
    if limit is not None:
        missing = missing[:limit]
    if missing:
        from .services import embed_images_cached

        items, _ = embed_images_cached(missing, encoder_id=SEARCH_ENCODER)
        done = {it.key for it in items}
        failed = {f"tb-unreadable:{i.sha256}": 1 for i in missing if str(i.pk) not in done}
        if failed:
            cache.set_many(failed, timeout=24 * 3600)


def _hits_for(user: User, neighbours, min_score: float, limit: int, skip: set[str]) -> list[Hit]:
    """Neighbours (by bytes) -> the user's images carrying those bytes, best first."""
    absolute = _absolute()
    wanted = [n for n in neighbours if n.sha256 not in skip]
    score_of = {
        n.sha256: float(s)
        for n, s in zip(
            wanted, scores([n.distance for n in wanted], absolute=absolute), strict=True
        )
    }
    keep = {sha for sha, s in score_of.items() if s >= min_score}
    images = (
        visible_images(user)
        .filter(sha256__in=keep)
        .select_related("board", "board__team")
        .order_by("board_id", "position", "id")
    )
    hits = [Hit(image=img, score=round(score_of[img.sha256], 4)) for img in images]
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]


def visible_shas(user: User) -> QuerySet:
    return visible_images(user).order_by().values_list("sha256", flat=True)


def unindexed(user: User) -> QuerySet[BoardImage]:
    """The user's images that have no style embedding yet (never analysed)."""
    return visible_images(user).exclude(
        sha256__in=ImageEmbedding.objects.filter(encoder_id=SEARCH_ENCODER).values("sha256")
    )


def _prepare_library(user: User) -> QuerySet:
    """The visible hashes, with a first batch of never-analysed images embedded and
    everything embedded in the index."""
    pending = list(unindexed(user).order_by("-id")[: EMBED_ON_SEARCH * 2])
    if pending:
        ensure_embedded(pending, limit=EMBED_ON_SEARCH)
    visible = visible_shas(user)
    index_sync(SEARCH_ENCODER, visible)
    return visible


def similar_to_image(
    *, user: User, image: BoardImage, limit: int = 24, min_score: float = 0.0
) -> list[Hit]:
    """Images the user can see that look like ``image`` (by style), with their score.
    The caller fetched ``image`` through the access helpers."""
    _check(limit, min_score)
    ensure_embedded([image])
    query = vectors_for(SEARCH_ENCODER, [image.sha256]).get(image.sha256)
    if query is None:
        raise SearchError("This image could not be read, so it can't be searched for.")
    visible = _prepare_library(user)
    found = nearest(SEARCH_ENCODER, query, visible, k=limit * 2 + 1)
    return _hits_for(user, found, min_score, limit, skip={image.sha256})


# --- fit to a profile -----------------------------------------------------------------------


@dataclass
class ProfileTarget:
    """A profile version (or one sub-style) as points in the search space."""

    doc: TasteProfileData
    cluster: int | None
    centroids: np.ndarray  # (k, d), one per sub-style considered
    indices: list[int]  # which sub-style each row is
    members: list[np.ndarray] = field(default_factory=list)  # each sub-style's vectors

    @classmethod
    def from_vectors(
        cls,
        doc: TasteProfileData,
        cluster: int | None,
        vectors: dict[str, np.ndarray],
        weights: dict[str, float] | None = None,
    ) -> ProfileTarget:
        """``vectors``: image key -> search vector of the images the profile was built
        from; ``weights``: steering weights (members weighted, as generation does)."""
        if cluster is not None and not doc.has_sub_style(cluster):
            raise SearchError(f"This profile has no sub-style {cluster + 1}.")
        weights = weights or {}
        chosen = [cluster] if cluster is not None else [c.index for c in doc.clusters]
        rows, indices, member_rows = [], [], []
        for index in chosen:
            members = [m for m in doc.clusters[index].members if m in vectors]
            w = np.array([max(float(weights.get(m, 1.0)), 0.0) for m in members])
            if not members or w.sum() <= 0:
                continue
            stack = np.stack([vectors[m] for m in members])
            rows.append((w[:, None] * stack).sum(0) / w.sum())
            indices.append(index)
            member_rows.append(stack[w > 0])
        if not rows:
            raise SearchError("The profile's images are no longer in the embedding cache.")
        return cls(doc, cluster, np.stack(rows).astype(np.float32), indices, member_rows)

    @classmethod
    def of(cls, profile: TasteProfile, cluster: int | None = None) -> ProfileTarget:
        sha_of = {k: v["sha256"] for k, v in profile.images.items()}
        by_sha = vectors_for(SEARCH_ENCODER, sha_of.values())
        vectors = {k: by_sha[sha] for k, sha in sha_of.items() if sha in by_sha}
        weights = (profile.data.get("extra", {}).get("steering") or {}).get("weights", {})
        return cls.from_vectors(profile.document, cluster, vectors, weights)

    def fit(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score, best sub-style) per row of ``vectors``: the mean distance to the
        sub-style's FIT_NEIGHBOURS nearest images (a sub-style is rarely a round blob,
        and on bench/realdata this ranks a medium's images first more often than the
        distance to the centroid: average precision 0.54 against 0.49)."""
        columns = [_mean_nearest(vectors, members) for members in self.members]
        d = np.stack(columns, axis=1)
        best = np.argmin(d, axis=1)
        s = scores(d[np.arange(len(vectors)), best], absolute=_absolute())
        return s, np.asarray(self.indices)[best]


FIT_CHUNK = 512  # rows of a ranking compared at once: 512 x 3,000 members is 12 MB


def _mean_nearest(vectors: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Per row of ``vectors``: the mean distance to its FIT_NEIGHBOURS nearest
    ``members``, leaving itself out (an image of the profile is not its own neighbour,
    else every image of the board would fit and none would ever be off-taste); 0 when
    the sub-style is that one image alone.

    In chunks, so ranking a 10,000-image board against a 3,000-image sub-style never
    holds their full (n, m, d) difference array (that took 23 GB): candidates come
    from taste.clustering.nearest_rows (the dot-product form of the distances, in
    float64), and the nearest few are measured exactly, so the self-match test
    (distance < 1e-6) stays exact."""
    m = len(members)
    k = min(FIT_NEIGHBOURS, max(m - 1, 1))
    take = min(m, k + 4)  # a few spares for self-matches (an image on the board twice)
    members64 = members.astype(np.float64)
    out = np.empty(len(vectors))
    for start in range(0, len(vectors), FIT_CHUNK):
        v = vectors[start : start + FIT_CHUNK].astype(np.float64)
        if take < m:
            cand = nearest_rows(v, members64, k=take)
        else:
            cand = np.broadcast_to(np.arange(m), (len(v), m))
        d = np.linalg.norm(v[:, None, :] - members64[cand], axis=2)
        self_match = d < 1e-6
        alone = self_match.sum(axis=1) == m
        d = np.where(self_match, np.inf, d)
        nearest = np.sort(d, axis=1)[:, :k]
        nearest = np.where(np.isinf(nearest), np.nan, nearest)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: handled below
            mean = np.nanmean(nearest, axis=1)
        out[start : start + len(v)] = np.where(alone | np.isnan(mean), 0.0, mean)
    return out


def explain(doc: TasteProfileData, cluster: int | None, desc: Descriptors) -> tuple[list, list]:
    """The profile's measured keywords this image agrees and disagrees with, each as
    "term: measurement value (rule)"."""
    vocab = load_vocabulary().by_name
    keywords = doc.clusters[cluster].keywords if cluster is not None else doc.keywords
    agree, disagree = [], []
    values = descriptor_columns([desc])  # descriptor fields and the medium beliefs
    for kw in [k for k in keywords if k.term in vocab and vocab[k.term].licensed][:WHY_TERMS]:
        term = vocab[kw.term]
        carried = float(term.membership(values)[0])
        cond = term.rule[0]
        measured = cond.field.replace("_", " ").replace("medium ", "belief in ")
        text = f"{kw.term}: {measured} {values[cond.field][0]:.3g} ({cond.describe()})"
        (agree if carried >= 0.5 else disagree).append(text)
    return agree, disagree


def rank_vectors(
    target: ProfileTarget, vectors: np.ndarray, descriptors: Sequence[Descriptors]
) -> list[tuple[float, int, list[str], list[str]]]:
    """(score, sub-style, agrees, disagrees) per image, in input order."""
    if len(vectors) == 0:
        return []
    s, best = target.fit(vectors)
    out = []
    for score, sub, desc in zip(s, best, descriptors, strict=True):
        agree, disagree = explain(target.doc, target.cluster, desc)
        out.append((round(float(score), 4), int(sub), agree, disagree))
    return out


def rank_images(
    *, profile: TasteProfile, images: Sequence[BoardImage], cluster: int | None = None
) -> list[Hit]:
    """Board images (already access-checked) by fit to a profile version or one of its
    sub-styles, best first, with the measurements that agree and disagree (worked out
    for the hits that are looked at)."""
    target = ProfileTarget.of(profile, cluster)
    ensure_embedded(images, limit=RANK_EMBED_LIMIT)
    shas = [i.sha256 for i in images]
    vectors = vectors_for(SEARCH_ENCODER, shas)
    extra = dict(
        ImageEmbedding.objects.filter(encoder_id=SEARCH_ENCODER, sha256__in=shas).values_list(
            "sha256", "extra"
        )
    )
    usable = [i for i in images if i.sha256 in vectors and i.sha256 in extra]
    if not usable:
        return []
    s, best = target.fit(np.stack([vectors[i.sha256] for i in usable]))

    def why(sha: str) -> Callable[[], tuple[list[str], list[str]]]:
        return lambda: explain(
            target.doc, target.cluster, Descriptors.from_dict(extra[sha]["descriptors"])
        )

    hits = [
        Hit(image=img, score=round(float(sc), 4), sub_style=int(sub), why=why(img.sha256))
        for img, sc, sub in zip(usable, s, best, strict=True)
    ]
    hits.sort(key=lambda h: -h.score)
    return hits


def rank_pil_images(
    *, profile: TasteProfile, named: Sequence[tuple[str, object]], cluster: int | None = None
) -> list[tuple[str, float, int, list[str], list[str]]]:
    """Uploaded pictures (name, PIL image) by fit, best first: nothing is stored."""
    from .profile import embed_images

    target = ProfileTarget.of(profile, cluster)
    if not named:
        return []
    items, _ = embed_images(list(named), SEARCH_ENCODER)  # type: ignore[arg-type]
    vectors = search_space(np.stack([it.embedding for it in items]), SEARCH_ENCODER)
    ranked = rank_vectors(target, vectors, [it.descriptors for it in items])
    out = [(it.key, *r) for it, r in zip(items, ranked, strict=True)]
    out.sort(key=lambda r: -r[1])
    return out


def off_taste(*, profile: TasteProfile, board: Board) -> list[Hit]:
    """The board's images that don't fit the profile (worst first): those scoring below
    OFF_TASTE_SCORE and below half of what the profile's own images typically score
    (each against the others): a loose, mixed board is judged by its own spread."""
    images = list(board.images.filter(status=ImageStatus.READY))
    hits = rank_images(profile=profile, images=images)
    own = {v["sha256"] for v in profile.images.values()}
    member_scores = [h.score for h in hits if h.image.sha256 in own]
    limit = OFF_TASTE_SCORE
    if member_scores:
        limit = min(limit, OFF_TASTE_RELATIVE * float(np.median(member_scores)))
    return sorted([h for h in hits if h.score < limit], key=lambda h: h.score)


def more_like_sub_style(
    *,
    user: User,
    profile: TasteProfile,
    cluster: int,
    limit: int = 24,
    min_score: float = 0.0,
) -> list[Hit]:
    """Images from the user's whole library close to one sub-style of a profile,
    leaving out the images the profile was built from."""
    _check(limit, min_score)
    target = ProfileTarget.of(profile, cluster)
    visible = _prepare_library(user)
    own = {v["sha256"] for v in profile.images.values()}
    found = nearest(SEARCH_ENCODER, target.centroids[0], visible, k=limit + len(own))
    return _hits_for(user, found, min_score, limit, skip=own)
