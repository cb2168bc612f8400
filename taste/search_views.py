"""Taste search pages: the search page (similar, keyword, colour, more like a sub-style,
off-taste), ranking by fit, steering a profile and tagging images.

Thin views: objects come through the access helpers, results from taste.search /
taste.tags / taste.steering, which only ever look among the user's visible images.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from moodboards import access
from moodboards.models import Board, Role

from . import search as taste_search
from . import steering, tags
from .access import profile_by_code_for_user, profile_for_user
from .models import TasteProfile
from .search_index import backend_name
from .vocabulary import load_vocabulary

MAX_RANK_UPLOADS = 50
MAX_RANK_IMAGES = 200


def _float(value: str | None, default: float, lo: float, hi: float) -> float:
    """A number from a query string; anything else is the user's mistake, said plainly."""
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(f"“{value}” is not a number.") from None
    if not lo <= number <= hi:  # NaN fails this too
        raise ValidationError(f"Use a number from {lo:g} to {hi:g}.")
    return number


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 18 else None


def _editable_profiles(user) -> list[TasteProfile]:
    """The latest version of each board the user may steer (editors and owners)."""
    latest: dict[int, TasteProfile] = {}
    for p in (
        TasteProfile.objects.filter(
            board__team__memberships__user_id=user.pk,
            board__team__memberships__role__in=[Role.EDITOR, Role.OWNER],
            board__archived_at__isnull=True,
        )
        .select_related("board")
        .order_by("board__title", "-version")
    ):
        latest.setdefault(p.board_id, p)
    return list(latest.values())[:100]


def _visible_boards(user) -> list[Board]:
    return list(
        Board.objects.filter(team__memberships__user_id=user.pk, archived_at__isnull=True)
        .select_related("team")
        .order_by("title")
    )


@login_required
@require_http_methods(["GET"])
def search_page(request: HttpRequest) -> HttpResponse:
    """One page, several questions, chosen by the query string: ?similar=IMAGE,
    ?q=KEYWORD, ?colour=HEX&delta_e=N, ?more=CODE&cluster=K, ?off=CODE."""
    g = request.GET
    ctx: dict = {"backend": backend_name(), "vocabulary": load_vocabulary().names, "g": g}
    hits, status = None, 200
    try:
        min_score = _float(g.get("min_score"), 0.0, 0.0, 1.0)
        ctx["min_score"] = min_score
        if g.get("similar"):
            image_id = _int(g["similar"])
            if image_id is None:
                raise ValidationError("Choose an image to find similar ones.")
            image = access.image_by_id_for_user(request.user, image_id)
            _, role = access.board_for_user(request.user, image.board_id)
            ctx.update(
                query_image=image, image_tags=tags.image_tags(image),
                can_tag=access.can(role, Role.EDITOR), title=f"Like “{image.original_name}”",
            )  # fmt: skip
            hits = taste_search.similar_to_image(
                user=request.user, image=image, limit=48, min_score=min_score
            )
            ctx["steerable"] = _editable_profiles(request.user)
        elif g.get("q"):
            ctx["title"] = f"Keyword “{g['q']}”"
            hits = tags.search_keyword(user=request.user, term=g["q"])
        elif g.get("colour"):
            delta_e = _float(g.get("delta_e"), 10.0, 0.1, tags.MAX_DELTA_E)
            ctx.update(title=f"Colour {g['colour']} within ΔE {delta_e:g}", delta_e=delta_e)
            hits = tags.search_colour(
                user=request.user, hex_colour=g["colour"], max_delta_e=delta_e
            )
        elif g.get("more"):
            profile = profile_by_code_for_user(request.user, g["more"])
            cluster = _int(g.get("cluster")) or 0
            ctx.update(
                profile=profile,
                title=f"More like sub-style {cluster + 1} of {profile.board.title} v{profile.version}",
            )
            hits = taste_search.more_like_sub_style(
                user=request.user, profile=profile, cluster=cluster, limit=48, min_score=min_score
            )
        elif g.get("off"):
            profile = profile_by_code_for_user(request.user, g["off"])
            ctx.update(
                profile=profile, title=f"Off-taste on {profile.board.title} (v{profile.version})"
            )
            hits = taste_search.off_taste(profile=profile, board=profile.board)
    except ValidationError as exc:
        ctx["error"] = " ".join(exc.messages)
        status = 400
    ctx["hits"] = hits
    ctx["pending"] = taste_search.unindexed(request.user).count()
    if hits:
        # "Rank these results by a profile": the profiles the user can see, newest first.
        ctx["rank_profiles"] = list(
            TasteProfile.objects.filter(
                board__team__memberships__user_id=request.user.pk, board__archived_at__isnull=True
            )
            .select_related("board")
            .order_by("board__title", "-version")[:100]
        )
        ctx["hit_ids"] = ",".join(str(h.image.pk) for h in hits)
    return render(request, "taste/search.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile_rank(request: HttpRequest, board_id: int, version: int) -> HttpResponse:
    """Rank a board (GET ?board=ID) or uploaded files (POST) by fit to this version or
    one of its sub-styles (?cluster=K), best first, with why."""
    profile, _ = profile_for_user(request.user, board_id, version)
    ctx: dict = {
        "profile": profile,
        "board": profile.board,
        "boards": _visible_boards(request.user),
    }
    status = 200
    try:
        raw_cluster = request.POST.get("cluster") or request.GET.get("cluster")
        cluster = _int(raw_cluster)
        if raw_cluster and cluster is None:
            raise ValidationError("Choose a sub-style from the list.")
        ctx["cluster"] = cluster
        if request.method == "POST":
            files = request.FILES.getlist("files")
            if not files or len(files) > MAX_RANK_UPLOADS:
                raise ValidationError(f"Choose 1 to {MAX_RANK_UPLOADS} image files to rank.")
            ctx["ranked_files"] = taste_search.rank_pil_images(
                profile=profile, named=_read_uploads(files), cluster=cluster
            )
        elif request.GET.get("images"):
            ids = [_int(v) for v in request.GET["images"].split(",")[:MAX_RANK_IMAGES]]
            if None in ids:
                raise ValidationError("Image ids are whole numbers, separated by commas.")
            ctx["hits"] = taste_search.rank_images(
                profile=profile,
                images=[access.image_by_id_for_user(request.user, i) for i in dict.fromkeys(ids)],
                cluster=cluster,
            )
            ctx["ranked_results"] = True
        elif _int(request.GET.get("board")):
            other, _ = access.board_for_user(request.user, _int(request.GET["board"]))
            ctx["ranked_board"] = other
            ctx["hits"] = taste_search.rank_images(
                profile=profile, images=list(other.images.filter(status="ready")[:500]),
                cluster=cluster,
            )  # fmt: skip
    except ValidationError as exc:
        ctx["error"] = " ".join(exc.messages)
        status = 400
    return render(request, "taste/rank.html", ctx, status=status)


def _read_uploads(files) -> list:
    from PIL import Image, ImageOps, UnidentifiedImageError

    named, bad = [], []
    for upload in files:
        try:
            with Image.open(upload) as im:
                if im.width * im.height > 80_000_000:
                    raise ValueError
                named.append((upload.name, ImageOps.exif_transpose(im).convert("RGB")))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            bad.append(upload.name)
    if bad:
        raise ValidationError(f"Not a readable image: {', '.join(bad)}.")
    return named


@login_required
@require_POST
def profile_steer(request: HttpRequest, board_id: int, version: int) -> HttpResponse:
    """One steering change from the profile page's form: a new version, or the reason."""
    profile, role = profile_for_user(request.user, board_id, version)
    access.check_role(role, Role.EDITOR)
    return _steer(request, profile)


@login_required
@require_POST
def profile_steer_by_code(request: HttpRequest) -> HttpResponse:
    """The same, for a profile chosen by code (the search page's "steer away")."""
    profile = profile_by_code_for_user(request.user, request.POST.get("profile", ""))
    access.board_for_user(request.user, profile.board_id, need=Role.EDITOR)
    return _steer(request, profile)


def _image_key_by_name(profile: TasteProfile, name: str) -> str:
    """The image of this version with that file name (as the board shows it), or ""."""
    name = name.strip()
    if not name:
        return ""
    keys = [k for k, v in profile.images.items() if v["name"] == name] or [
        k for k, v in profile.images.items() if v["name"].casefold() == name.casefold()
    ]
    if not keys:
        raise ValidationError(f"No image of this version is named “{name[:100]}”.")
    if len(keys) > 1:
        raise ValidationError(
            f"{len(keys)} images are named “{name[:100]}”: weight one from its own page."
        )
    return keys[0]


def _steer(request: HttpRequest, profile: TasteProfile) -> HttpResponse:
    p = request.POST
    try:
        kwargs: dict = {}
        key = p.get("image") or _image_key_by_name(profile, p.get("image_name", ""))
        if key:
            kwargs["weights"] = {key: _float(p.get("weight"), 1.0, -2.0, 2.0)}
        if _int(p.get("negative_image")):
            kwargs["negative_images"] = [
                access.image_by_id_for_user(request.user, _int(p["negative_image"]))
            ]
        if _int(p.get("negative_board")):
            kwargs["negative_boards"] = [
                access.board_for_user(request.user, _int(p["negative_board"]))[0]
            ]
        for name in ("pin", "ban", "unpin", "unban"):
            if p.get(name, "").strip():
                kwargs[name] = [p[name]]
        if not kwargs:
            raise ValidationError("Choose what to change.")
        steered = steering.profile_steer(profile=profile, user=request.user, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(profile)
    if steered.pk != profile.pk:
        messages.success(
            request, f"Version {steered.version} ({steered.code}) is the steered taste."
        )
    return redirect(steered)


@login_required
@require_POST
def image_tag(request: HttpRequest, board_id: int, image_id: int) -> HttpResponse:
    image, _ = access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
    term = request.POST.get("term", "")
    try:
        if request.POST.get("remove"):
            tags.tag_remove(image=image, term=term)
        else:
            tags.tag_add(image=image, user=request.user, term=term)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(f"{reverse('search')}?similar={image.pk}")


@login_required
@require_http_methods(["GET"])
def rank_results(request: HttpRequest) -> HttpResponse:
    """The search page's "rank these results by": to the chosen profile's rank page."""
    profile = profile_by_code_for_user(request.user, request.GET.get("profile", ""))
    url = reverse("profile_rank", args=[profile.board_id, profile.version])
    images = ",".join(v for v in request.GET.get("images", "").split(",") if v.isdigit())
    return redirect(f"{url}?images={images}")
