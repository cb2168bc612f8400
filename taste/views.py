"""Analyze Board and taste profile pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from moodboards import access
from moodboards.models import Board, Role
from moodboards.serving import as_file

from . import selectors, services
from .access import analysis_for_user, profile_for_user
from .encoders import list_encoders
from .exports import export_type, sub_style_of
from .steering import steering_of
from .vocabulary import load_vocabulary


@login_required
@require_POST
def analysis_start(request: HttpRequest, board_id: int) -> HttpResponse:
    board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
    try:
        analysis = services.analysis_start(
            board=board, user=request.user, encoder_id=request.POST.get("encoder") or None
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(board)
    return redirect(analysis)


@login_required
@require_GET
def analysis_detail(request: HttpRequest, board_id: int, analysis_id: int) -> HttpResponse:
    analysis = analysis_for_user(request.user, analysis_id, board_id=board_id)
    if analysis.status == "done" and analysis.profile_id:
        for note in analysis.warnings:
            messages.info(request, note)
        return redirect(analysis.profile)
    return render(
        request, "taste/analysis_detail.html", {"analysis": analysis, "board": analysis.board}
    )


@login_required
@require_GET
def analysis_status(request: HttpRequest, board_id: int, analysis_id: int) -> JsonResponse:
    analysis = analysis_for_user(request.user, analysis_id, board_id=board_id)
    return JsonResponse(
        {
            "status": analysis.status,
            "stage": analysis.stage,
            "done": analysis.done,
            "total": analysis.total,
            "percent": analysis.percent,
            "error": analysis.error,
            "profile_url": analysis.profile.get_absolute_url() if analysis.profile_id else None,
            # The analysis page itself: once done it redirects to the profile and shows
            # the run's notes (e.g. "no new version was made"), which a jump straight to
            # the profile would lose.
            "done_url": analysis.get_absolute_url(),
            "eta_seconds": _eta(analysis.started, analysis.percent),
        }
    )


def _eta(started, percent: int) -> int | None:
    """Seconds left, from the time spent so far and the share done; None until known."""
    from django.utils import timezone

    if not started or percent <= 2 or percent >= 100:
        return None
    elapsed = (timezone.now() - started).total_seconds()
    return round(elapsed * (100 - percent) / percent)


# Boards with more images than this steer an image by typing its file name: a <select>
# of 10,000 names is 580 KB of page and unusable on a phone.
STEER_SELECT_MAX = 300


@login_required
@require_GET
def profile_detail(request: HttpRequest, board_id: int, version: int) -> HttpResponse:
    profile, role = profile_for_user(request.user, board_id, version)
    board = profile.board
    ctx = selectors.profile_page_context(profile, selectors.thumb_urls(profile))
    steer_by_name = len(profile.images) > STEER_SELECT_MAX
    ctx.update(
        {
            "board": board,
            "profile": profile,
            "versions": selectors.profiles_of(board),
            "can_edit": access.can(role, Role.EDITOR),
            "encoders": list_encoders(),
            "active": selectors.active_analysis(board),
            "steering": steering_of(profile),
            "vocabulary": load_vocabulary().names,
            "steer_by_name": steer_by_name,
            "image_names": []
            if steer_by_name
            else sorted(((k, v["name"]) for k, v in profile.images.items()), key=lambda kv: kv[1]),
            "steer_boards": (
                Board.objects.filter(
                    team__memberships__user_id=request.user.pk, archived_at__isnull=True
                ).order_by("title")
                if access.can(role, Role.EDITOR)
                else []
            ),
        }
    )
    ctx["previous"] = next((v for v in ctx["versions"] if v.version < profile.version), None)
    return render(request, "taste/profile_detail.html", ctx)


@login_required
@require_GET
def profile_card(request: HttpRequest, board_id: int, version: int, name: str) -> HttpResponse:
    """The taste card as a picture for a deck: taste-card.png or taste-card.pdf."""
    profile, _ = profile_for_user(request.user, board_id, version)
    fmt = name.removeprefix("taste-card.")
    if not name.startswith("taste-card.") or fmt not in selectors.CARD_FORMATS:
        raise Http404("Not found")
    response = HttpResponse(
        selectors.profile_card(profile, fmt), content_type=selectors.CARD_FORMATS[fmt]
    )
    download = request.GET.get("download", "1") == "1"
    return as_file(response, selectors.card_filename(profile, fmt), download=download)


@login_required
@require_GET
def profile_compare(request: HttpRequest, board_id: int, version: int) -> HttpResponse:
    """Two versions side by side: `version` against `?with=N` (default: the one before)."""
    newer, _ = profile_for_user(request.user, board_id, version)
    versions = list(selectors.profiles_of(newer.board))
    other = request.GET.get("with", "")
    if other.isdigit():
        older, _ = profile_for_user(request.user, board_id, int(other))
    else:
        older = next((v for v in versions if v.version < newer.version), None)
        if older is None:
            messages.info(
                request, "This is the first version: there is nothing to compare it with."
            )
            return redirect(newer)
    if older.version > newer.version:
        older, newer = newer, older
    sides = []
    for p in (older, newer):
        page = selectors.profile_page_context(p, selectors.thumb_urls(p))
        sides.append({"profile": p, **page})
    ctx = {
        "board": newer.board,
        "older": older,
        "newer": newer,
        "sides": sides,
        "diff": selectors.profile_compare(older, newer),
        "versions": versions,
    }
    return render(request, "taste/profile_compare.html", ctx)


@login_required
@require_GET
def profile_json(request: HttpRequest, board_id: int, version: int) -> JsonResponse:
    profile, _ = profile_for_user(request.user, board_id, version)
    response = JsonResponse(selectors.profile_json(profile), json_dumps_params={"indent": 2})
    if request.GET.get("download") == "1":
        response["Content-Disposition"] = (
            f'attachment; filename="taste-profile-{board_id}-v{version}.json"'
        )
    return response


def _export_strength(request: HttpRequest) -> float | None:
    """LUTs export at full strength; ``?strength=`` in [0, 1] weakens them (None: bad)."""
    raw = request.GET.get("strength")
    if raw is None or raw == "":
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None  # NaN fails both comparisons


@login_required
@require_GET
def profile_export(request: HttpRequest, board_id: int, version: int, name: str) -> HttpResponse:
    profile, _ = profile_for_user(request.user, board_id, version)
    media_type = export_type(name)
    sub_style = sub_style_of(name)
    if media_type is None or (
        sub_style is not None and not profile.document.has_sub_style(sub_style)
    ):
        raise Http404("Not found")
    strength = _export_strength(request)
    if strength is None:
        return HttpResponseBadRequest(
            "strength is a number from 0 to 1 (default 1, full strength)."
        )
    body = selectors.profile_export(profile, name, strength=strength)
    response = HttpResponse(body, content_type=media_type)
    # The LUT preview is shown on the profile page; the rest are files to keep.
    download = name != "lut-preview.jpg" or request.GET.get("download") == "1"
    return as_file(response, selectors.profile_export_filename(profile, name), download=download)
