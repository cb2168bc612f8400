"""Writes for taste profiles: start an analysis, run it, keep the embedding cache."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from PIL import Image

from config.leases import dispatch
from moodboards.models import Board, BoardImage, ImageStatus

from .descriptors import Descriptors
from .encoders import DEFAULT_ENCODER_ID, MagentaDescriptorEncoder, OpenClipEncoder, get_encoder
from .models import Analysis, AnalysisStatus, ImageEmbedding, TasteProfile
from .profile import BUILD_STEPS, PROFILE_VERSION, ProfileInput, build_profile

log = logging.getLogger(__name__)

# Decode JPEGs at reduced scale: the style network sees 256 px and descriptors 256 px
# plus a native-resolution crop for grain; 1024 px keeps grain visible and is fast.
ANALYSIS_DECODE_SIDE = 1024


class AnalysisFailed(Exception):
    """A reason the user can act on, stored on the Analysis and shown on its page."""


# --- starting ---------------------------------------------------------------------------


def default_encoder_id() -> str:
    """The richest encoder this server has installed."""
    from .encoders import list_encoders

    for status in reversed(list_encoders()):
        if status.installed:
            return status.id
    return DEFAULT_ENCODER_ID


def analysis_start(
    *, board: Board, user: AbstractBaseUser | None, encoder_id: str | None = None
) -> Analysis:
    """Queue an analysis of the board, or return the one already under way."""
    encoder_id = encoder_id or default_encoder_id()
    if encoder_id != DEFAULT_ENCODER_ID:
        try:
            get_encoder(encoder_id)
        except (ValueError, RuntimeError) as exc:
            raise ValidationError(str(exc)) from None
    images = board.images.all()
    if not images.exists():
        raise ValidationError("The board is empty. Add some images, then analyze it.")
    if not images.filter(status=ImageStatus.READY).exists():
        raise ValidationError(
            "The board's images are still being processed. Try again in a moment."
        )
    active = board.analyses.filter(
        status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING]
    ).first()
    if active:
        return active
    try:
        with transaction.atomic():
            analysis = Analysis.objects.create(
                board=board, requested_by=user, encoder_id=encoder_id
            )
            transaction.on_commit(lambda: _enqueue(analysis.pk))
    except IntegrityError:
        # A second click raced us past the check above: use the run it started.
        return board.analyses.get(status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING])
    return analysis


def _enqueue(analysis_id: int) -> None:
    dispatch(Analysis, analysis_id)


# --- running ----------------------------------------------------------------------------


def _progress(analysis_id: int, stage: str, done: int, total: int) -> None:
    Analysis.objects.filter(pk=analysis_id).update(stage=stage, done=done, total=total)


def analysis_fail(*, analysis_id: int, reason: str) -> None:
    Analysis.objects.filter(
        pk=analysis_id, status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING]
    ).update(status=AnalysisStatus.FAILED, error=reason[:2000], finished=timezone.now())


def _load_for_analysis(image: BoardImage) -> Image.Image:
    field = image.display or image.original
    with field.open("rb") as fh:
        pil = Image.open(fh)
        pil.draft("RGB", (ANALYSIS_DECODE_SIDE, ANALYSIS_DECODE_SIDE))
        pil.load()
    if not image.display:  # the original may carry an EXIF rotation
        from PIL import ImageOps

        pil = ImageOps.exif_transpose(pil)
    return pil


def bake_grade(document, used: list[BoardImage], items: list, warnings: list[str]) -> None:
    """Recover the board's colour grade from its pixels (taste.grading). A failure here
    costs the grade backend and the .cube, not the whole analysis: it is reported."""
    from .grading import grade_document

    by_key = {str(img.pk): img for img in used}

    def load(key: str) -> Image.Image | None:
        try:
            return _load_for_analysis(by_key[key])
        except (KeyError, OSError):
            return None

    try:
        grade_document(document, load, [it.descriptors.grain for it in items])
    except (ValueError, RuntimeError, OSError) as exc:
        log.warning("Grade recovery failed: %s", exc)
        warnings.append(f"The colour grade could not be recovered ({exc}).")


def _vector_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def embed_images_cached(
    images: Sequence[BoardImage],
    *,
    encoder_id: str,
    on_progress=None,
) -> tuple[list[ProfileInput], list[str]]:
    """ProfileInputs for the images, embedding only those not in the cache.

    Returns the inputs and a warning per image that could not be read.
    """
    default: MagentaDescriptorEncoder = get_encoder(DEFAULT_ENCODER_ID)  # type: ignore[assignment]
    clip: OpenClipEncoder | None = (
        None if encoder_id == DEFAULT_ENCODER_ID else get_encoder(encoder_id)
    )  # type: ignore[assignment]
    shas = {img.sha256 for img in images}

    def cached(enc_id: str) -> dict[str, ImageEmbedding]:
        rows = ImageEmbedding.objects.filter(sha256__in=shas, encoder_id=enc_id)
        return {row.sha256: row for row in rows}

    base = cached(DEFAULT_ENCODER_ID)
    extra = cached(encoder_id) if clip else {}
    missing = [
        img for img in images if img.sha256 not in base or (clip and img.sha256 not in extra)
    ]
    total, done = len(images), len(images) - len(missing)
    warnings: list[str] = []
    unreadable: set[int] = set()
    if on_progress:
        on_progress("embedding", done, total)
    batch_size = settings.TASTEBASE_EMBED_BATCH  # images between two progress updates
    for start in range(0, len(missing), batch_size):
        batch, pils = [], []
        for image in missing[start : start + batch_size]:
            try:
                pils.append(_load_for_analysis(image))
                batch.append(image)
            except (OSError, ValueError) as exc:
                unreadable.add(image.pk)
                reason = (
                    "its file is missing from storage"
                    if isinstance(exc, FileNotFoundError)
                    else "it could not be read"
                )
                warnings.append(f"“{image.original_name}” was left out: {reason}.")
        if batch:
            need_base = [i for i, img in enumerate(batch) if img.sha256 not in base]
            if need_base:
                styles, descs = default.embed_parts([pils[i] for i in need_base])
                joined = default.join(styles, descs)
                rows = [
                    ImageEmbedding(
                        sha256=batch[i].sha256,
                        encoder_id=DEFAULT_ENCODER_ID,
                        vector=_vector_bytes(joined[j]),
                        extra={"style": styles[j].tolist(), "descriptors": descs[j].to_dict()},
                    )
                    for j, i in enumerate(need_base)
                ]
                # Another worker may have cached the same picture meanwhile: keep theirs.
                ImageEmbedding.objects.bulk_create(rows, ignore_conflicts=True)
            if clip:
                need_clip = [i for i, img in enumerate(batch) if img.sha256 not in extra]
                if need_clip:
                    vectors = clip.embed([pils[i] for i in need_clip])
                    ImageEmbedding.objects.bulk_create(
                        [
                            ImageEmbedding(
                                sha256=batch[i].sha256,
                                encoder_id=encoder_id,
                                vector=_vector_bytes(vectors[j]),
                            )
                            for j, i in enumerate(need_clip)
                        ],
                        ignore_conflicts=True,
                    )
        done += len(missing[start : start + batch_size])
        if on_progress:
            on_progress("embedding", done, total)
    base = cached(DEFAULT_ENCODER_ID)
    extra = cached(encoder_id) if clip else {}
    items = []
    for image in images:
        if image.pk in unreadable or image.sha256 not in base:
            continue
        row = base[image.sha256]
        clip_vec = extra[image.sha256].as_array() if clip and image.sha256 in extra else None
        items.append(
            ProfileInput(
                key=str(image.pk),
                embedding=clip_vec if clip_vec is not None else row.as_array(),
                descriptors=Descriptors.from_dict(row.extra["descriptors"]),
                style_vector=np.asarray(row.extra["style"], dtype=np.float32),
                clip_embedding=clip_vec,
            )
        )
    return items, warnings


def image_embed(*, image_id: int) -> bool:
    """Embed one processed upload ahead of need (the default encoder, into the cache
    Analyze Board and search read). Idempotent; an image deleted or not ready, or one
    that cannot be read, is left for the analysis to report. Returns whether the image
    has an embedding now."""
    image = BoardImage.objects.filter(pk=image_id, status=ImageStatus.READY).first()
    if image is None:
        return False
    items, _ = embed_images_cached([image], encoder_id=DEFAULT_ENCODER_ID)
    return bool(items)


def embed_when_ready(sender: object, image_id: int, **kwargs: object) -> None:
    """moodboards.signals.image_ready: queue the upload's embedding. Never raises into
    the upload: a broker outage only means the analysis embeds it later."""
    if not settings.TASTEBASE_EMBED_ON_UPLOAD:
        return
    from .tasks import embed_image

    try:
        embed_image.delay(image_id)
    except Exception as exc:  # kombu raises several types for one outage
        log.warning("Could not queue the embedding of image %s (%s)", image_id, exc)


def profile_fingerprint(images: Sequence[BoardImage], encoder_id: str) -> str:
    parts = [
        encoder_id,
        f"profile-v{PROFILE_VERSION}",
        *sorted(f"{i.pk}:{i.sha256}" for i in images),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _changes(previous: TasteProfile | None, images: dict, data: dict) -> dict:
    if previous is None:
        return {"first": True}
    old_keys, new_keys = set(previous.images), set(images)
    terms = lambda d: [k["term"] for k in d["keywords"]]  # noqa: E731
    old_terms, new_terms = terms(previous.data), terms(data)
    return {
        "previous_version": previous.version,
        "added": [images[k]["name"] for k in sorted(new_keys - old_keys, key=int)],
        "removed": [previous.images[k]["name"] for k in sorted(old_keys - new_keys, key=int)],
        "keywords_gained": [t for t in new_terms if t not in old_terms],
        "keywords_lost": [t for t in old_terms if t not in new_terms],
        "clusters": [len(previous.data["clusters"]), len(data["clusters"])],
    }


def analysis_run(*, analysis_id: int) -> Analysis | None:
    """Run (or, after a crash, resume) one analysis. Idempotent.

    Nothing is written to the profile table until the whole profile is built, and
    then in one transaction, so a killed worker leaves no half-written version.
    """
    # 1. Claim it. A finished or failed run is left alone (a duplicate delivery).
    claimed = Analysis.objects.filter(
        pk=analysis_id, status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING]
    ).update(status=AnalysisStatus.RUNNING, started=Coalesce("started", timezone.now()))
    if not claimed:
        return Analysis.objects.filter(pk=analysis_id).first()
    analysis = Analysis.objects.select_related("board").get(pk=analysis_id)
    board = analysis.board

    def progress(stage: str, done: int, total: int) -> None:
        _progress(analysis_id, stage, done, total)

    try:
        # 2. Embed what isn't cached yet.
        images = list(board.images.filter(status=ImageStatus.READY).order_by("position", "id"))
        if not images:
            raise AnalysisFailed("The board has no processed images to analyze.")
        items, warnings = embed_images_cached(
            images, encoder_id=analysis.encoder_id, on_progress=progress
        )
        if not items:
            raise AnalysisFailed("None of the board's images could be read: " + " ".join(warnings))
        used = [img for img in images if str(img.pk) in {it.key for it in items}]
        fingerprint = profile_fingerprint(used, analysis.encoder_id)

        # 3. The same images were analysed before: that version is the answer.
        existing = TasteProfile.objects.filter(board=board, fingerprint=fingerprint).first()
        if existing is not None:
            warnings.append(
                f"The board has the same images as version {existing.version}: no new version was made."
            )
        else:
            clip = (
                None
                if analysis.encoder_id == DEFAULT_ENCODER_ID
                else get_encoder(analysis.encoder_id)
            )

            def describing(stage: str, done: int, total: int) -> None:
                # One more step after the description: recovering the grade (seconds on
                # any board), so the bar does not sit at 100 % meanwhile.
                if stage != "done":
                    progress(stage, done, total + 1)

            document = build_profile(
                items, encoder_id=analysis.encoder_id, clip=clip, progress=describing
            )
            progress("grade", BUILD_STEPS, BUILD_STEPS + 1)
            bake_grade(document, used, items, warnings)
            data = document.to_dict()
            existing = _save_profile(analysis, used, fingerprint, data, warnings)
    except AnalysisFailed as exc:
        analysis_fail(analysis_id=analysis_id, reason=str(exc))
        return Analysis.objects.get(pk=analysis_id)

    # 4. Done.
    Analysis.objects.filter(pk=analysis_id).update(
        status=AnalysisStatus.DONE,
        profile=existing,
        warnings=warnings,
        stage="done",
        finished=timezone.now(),
    )
    return Analysis.objects.get(pk=analysis_id)


def _save_profile(
    analysis: Analysis, used: list[BoardImage], fingerprint: str, data: dict, warnings: list[str]
) -> TasteProfile:
    images = {str(img.pk): {"name": img.original_name, "sha256": img.sha256} for img in used}

    def changes(previous: TasteProfile | None) -> dict:
        out = _changes(previous, images, data)
        if warnings:
            out["skipped"] = warnings
        return out

    saved = save_version(
        board=analysis.board, encoder_id=analysis.encoder_id, fingerprint=fingerprint,
        images=images, data=data, changes=changes, created_by=analysis.requested_by,
    )  # fmt: skip
    if saved is None:
        raise AnalysisFailed("Could not save the profile; please try again.")
    return saved


def save_version(
    *,
    board: Board,
    encoder_id: str,
    fingerprint: str,
    images: dict,
    data: dict,
    changes: Callable[[TasteProfile | None], dict],
    created_by: AbstractBaseUser | None,
) -> TasteProfile | None:
    """Write the board's next profile version, or return the one these exact inputs
    (`fingerprint`) already made. The board row is locked so versions are numbered
    without gaps or clashes; `changes(previous)` is computed under that lock. None when
    three attempts lost a race to other writers and no version with this fingerprint
    exists (the caller says what to do)."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                Board.objects.select_for_update().filter(pk=board.pk).first()
                same = TasteProfile.objects.filter(board=board, fingerprint=fingerprint).first()
                if same:
                    return same
                previous = TasteProfile.objects.filter(board=board).order_by("-version").first()
                return TasteProfile.objects.create(
                    board=board,
                    version=(previous.version if previous else 0) + 1,
                    encoder_id=encoder_id,
                    fingerprint=fingerprint,
                    image_count=len(images),
                    data=data,
                    images=images,
                    changes=changes(previous),
                    created_by=created_by,
                )
        except IntegrityError:
            # Another writer numbered a version (or drew the same profile code) first.
            log.info("Another writer saved a profile for board %s first; re-checking", board.pk)
    return TasteProfile.objects.filter(board=board, fingerprint=fingerprint).first()
