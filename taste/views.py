"""Analyze Board and taste profile pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from moodboards import access
from moodboards.models import Role
from moodboards.serving import as_file

from . import selectors, services
from .access import analysis_for_user, profile_for_user
from .encoders import list_encoders
from .exports import EXPORTS


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
        }
    )


@login_required
@require_GET
def profile_detail(request: HttpRequest, board_id: int, version: int) -> HttpResponse:
    profile, role = profile_for_user(request.user, board_id, version)
    board = profile.board
    ctx = selectors.profile_page_context(profile, selectors.thumb_urls(profile))
    ctx.update(
        {
            "board": board,
            "profile": profile,
            "versions": selectors.profiles_of(board),
            "can_edit": access.can(role, Role.EDITOR),
            "encoders": list_encoders(),
            "active": selectors.active_analysis(board),
        }
    )
    return render(request, "taste/profile_detail.html", ctx)


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


@login_required
@require_GET
def profile_export(request: HttpRequest, board_id: int, version: int, name: str) -> HttpResponse:
    profile, _ = profile_for_user(request.user, board_id, version)
    if name not in EXPORTS:
        raise Http404("Not found")
    response = HttpResponse(selectors.profile_export(profile, name), content_type=EXPORTS[name])
    # The LUT preview is shown on the profile page; the rest are files to keep.
    download = name != "lut-preview.jpg" or request.GET.get("download") == "1"
    return as_file(response, selectors.profile_export_filename(profile, name), download=download)
