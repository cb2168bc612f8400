"""Board pages. Every fetch goes through `access`; every write through `services`."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST

from config import bounded, ratelimit

from . import access, export, selectors, services, url_import
from .forms import BoardForm, CaptionForm, NewBoardForm, SignupForm, TeamForm
from .models import Board, BoardImage, ImageStatus, Role
from .serving import as_file, serve_file


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


_ID_MARKER = 987654321


def _url_for_ids(name: str, *args: object) -> Callable[[int], str]:
    """`image_id -> reverse(name, args=[board_id, image_id, *rest])` at the cost of one
    `reverse`: reverse once with a marker for the image id, then fill each id in.
    Three `{% url %}` per tile were a third of the time of a 500-image board page.
    """
    head, _, tail = reverse(name, args=[*args[:1], _ID_MARKER, *args[1:]]).rpartition(
        str(_ID_MARKER)
    )
    return lambda image_id: f"{head}{image_id}{tail}"


def _grid_tiles(request: HttpRequest, board: Board, *, can_edit: bool) -> list[SafeString]:
    """The HTML of each of the grid's tiles, in board order.

    Tiles are built here rather than in a template loop: for a 500-image board the
    template engine spent ~50 ms on them, plain string formatting spends a few.
    """
    urls = _TileUrls(
        detail=_url_for_ids("image_detail", board.pk),
        thumb=_url_for_ids("image_file", board.pk, "thumb"),
        display=_url_for_ids("image_file", board.pk, "display"),
        delete=_url_for_ids("image_delete", board.pk) if can_edit else None,
    )
    csrf = csrf_input(request) if can_edit else ""
    display_max = settings.TASTEBASE_DISPLAY_MAX_SIZE
    return [
        _tile_html(image, urls, csrf, display_max) for image in selectors.board_grid_images(board)
    ]


class _TileUrls(NamedTuple):
    detail: Callable[[int], str]
    thumb: Callable[[int], str]
    display: Callable[[int], str]
    delete: Callable[[int], str] | None  # None: the viewer can't remove images


def _display_size(width: int, height: int, display_max: int) -> tuple[int, int]:
    """The served copy's size: the original's, scaled down to fit `display_max`."""
    scale = min(1.0, display_max / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _tile_html(
    image: selectors.GridImage, urls: _TileUrls, csrf: str, display_max: int
) -> SafeString:
    """One grid tile. Every stored text is escaped (`html.escape`, as Django's
    `escape` does); URLs are made by `reverse` from integer ids.

    A ready tile's link opens the lightbox (board.js reads its data-pswp-* attributes);
    without JavaScript it opens the image's own page.
    """
    name = escape(image.original_name)
    label = escape(image.caption or image.original_name)
    detail_url = urls.detail(image.id)
    if image.status == ImageStatus.READY:
        width, height = _display_size(image.width, image.height, display_max)
        picture = (
            f'<a class="tile-open" href="{detail_url}" title="{name}" '
            f'data-pswp-src="{urls.display(image.id)}" data-pswp-width="{width}" '
            f'data-pswp-height="{height}">'
            f'<img src="{urls.thumb(image.id)}" alt="{label}" '
            f'loading="lazy" width="{image.width}" height="{image.height}"></a>'
        )
    elif image.status == ImageStatus.FAILED:
        picture = (
            f'<div class="placeholder"><strong>{name}</strong>'
            f"<span>Could not process: {escape(image.error)}</span></div>"
        )
    else:
        # Say which file waits, and why: a full disk (the error), no worker yet, or
        # a worker making its thumbnail now.
        why = image.error or (
            "Making the thumbnail…" if image.heartbeat_at else "Waiting for a worker…"
        )
        picture = (
            '<div class="placeholder"><span class="spinner" aria-hidden="true"></span>'
            f'<strong>{name}</strong><small class="waiting">{escape(why)}</small></div>'
        )
    caption = (
        f"<figcaption>{escape(Truncator(image.caption).chars(80))}</figcaption>"
        if image.caption
        else ""
    )
    tools = ""
    if urls.delete is not None:
        tools = (
            '<div class="tile-tools">'
            f'<button type="button" class="tile-move" aria-label="Move {name}" '
            'aria-describedby="reorder-help" title="Drag to move, or press Enter then the arrow keys">⠿</button>'
            f'<form method="post" action="{urls.delete(image.id)}" class="tile-remove">{csrf}'
            f'<button type="submit" title="Remove from board" aria-label="Remove {name}">×</button>'
            "</form></div>"
        )
    # Safe: every stored text above is escaped, and the URLs hold integers only.
    return mark_safe(
        f'<figure class="tile {escape(image.status)}" data-id="{image.id}" data-name="{name}">'
        f"{picture}{caption}{tools}</figure>\n"
    )


# --- account ---------------------------------------------------------------------


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:  # another signup took the name or address first
            form.add_error(None, exc)
            return render(request, "registration/signup.html", {"form": form}, status=400)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Tastebase. Start with a board.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


# --- home: spaces and boards -------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    services.personal_team_for(request.user)
    teams = selectors.teams_for_user(request.user)
    editable = teams.filter(
        memberships__user=request.user, memberships__role__in=[Role.OWNER, Role.EDITOR]
    )
    show_archived = request.GET.get("archived") == "1"
    ctx = {
        "teams": teams,
        "invitation_count": selectors.pending_invitations_for(request.user).count(),
        "boards": selectors.boards_for_user(request.user, archived=show_archived),
        "show_archived": show_archived,
        "board_form": NewBoardForm(teams=editable),
        "team_form": TeamForm(),
    }
    return render(request, "moodboards/home.html", ctx)


@login_required
@require_POST
def board_create(request: HttpRequest) -> HttpResponse:
    teams = selectors.teams_for_user(request.user)
    form = NewBoardForm(request.POST, teams=teams)
    if not form.is_valid():
        messages.error(request, "Give the board a title.")
        return redirect("home")
    team, _ = access.team_for_user(request.user, form.cleaned_data["team"].pk, need=Role.EDITOR)
    board = services.board_create(
        team=team,
        user=request.user,
        title=form.cleaned_data["title"],
        description=form.cleaned_data["description"],
    )
    return redirect(board)


# --- one board ----------------------------------------------------------------------


@login_required
@require_GET
def board_detail(request: HttpRequest, board_id: int) -> HttpResponse:
    board, role = access.board_for_user(request.user, board_id)
    can_edit = access.can(role, Role.EDITOR)
    ctx = {
        "board": board,
        "role": role,
        "can_edit": can_edit,
        "can_manage": access.can(role, Role.OWNER),
        "tiles": _grid_tiles(request, board, can_edit=can_edit),
        "form": BoardForm(instance=board),
        "members": selectors.members_of(board.team),
        "max_upload_mb": settings.TASTEBASE_MAX_UPLOAD_BYTES // (1024 * 1024),
        "share_url": request.build_absolute_uri(reverse("shared_board", args=[board.share_token]))
        if board.share_token
        else "",
    }
    return render(request, "moodboards/board_detail.html", ctx)


@login_required
@require_GET
def board_grid(request: HttpRequest, board_id: int) -> HttpResponse:
    """The grid alone, for the page to refresh after uploads without a reload."""
    board, role = access.board_for_user(request.user, board_id)
    can_edit = access.can(role, Role.EDITOR)
    tiles = _grid_tiles(request, board, can_edit=can_edit)
    ctx = {"board": board, "tiles": tiles, "can_edit": can_edit}
    response = render(request, "moodboards/_grid.html", ctx)
    response["X-Processing"] = str(board.images.filter(status=ImageStatus.PROCESSING).count())
    return response


@login_required
@require_POST
def board_update(request: HttpRequest, board_id: int) -> HttpResponse:
    board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
    form = BoardForm(request.POST, instance=board)
    if form.is_valid():
        services.board_update(
            board=board,
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
        )
        messages.success(request, "Board saved.")
    else:
        messages.error(request, "A board needs a title (up to 120 characters).")
    return redirect(board)


@login_required
@require_POST
def board_archive(request: HttpRequest, board_id: int) -> HttpResponse:
    board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
    archived = request.POST.get("archived", "1") == "1"
    services.board_set_archived(board=board, archived=archived)
    messages.success(request, "Board archived." if archived else "Board restored.")
    return redirect(board)


@login_required
def board_delete(request: HttpRequest, board_id: int) -> HttpResponse:
    board, _ = access.board_for_user(request.user, board_id, need=Role.OWNER)
    if request.method == "POST":
        title = board.title
        try:
            services.board_delete(board=board)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(board)
        messages.success(request, f"Deleted “{title}” and its images.")
        return redirect("home")
    return render(request, "moodboards/board_delete.html", {"board": board})


@login_required
@require_POST
def board_share(request: HttpRequest, board_id: int) -> HttpResponse:
    board, _ = access.board_for_user(request.user, board_id, need=Role.OWNER)
    if request.POST.get("action") == "revoke":
        services.board_share_revoke(board=board)
        messages.success(request, "The link is revoked; it no longer opens the board.")
    else:
        services.board_share_enable(board=board)
        messages.success(request, "A new read-only link is ready. Earlier links stop working.")
    return redirect(reverse("board_detail", args=[board.pk]) + "#sharing")


@login_required
@require_POST
def board_upload(request: HttpRequest, board_id: int) -> JsonResponse:
    """Accepts one or many files (and ZIPs); answers with a result per file. Limited per
    user like the API's uploads (the same budget), before the files are read."""
    board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
    wait = ratelimit.hit("uploads", request.user.pk, settings.TASTEBASE_API_RATES.get("uploads"))
    if wait is not None:
        response = JsonResponse(
            {"error": f"Too many uploads; try again in {wait:.0f} s.", "results": []}, status=429
        )
        response["Retry-After"] = str(int(wait + 0.999))
        return response
    uploaded = request.FILES.getlist("files")
    if not uploaded:
        return JsonResponse({"error": "No files were sent.", "results": []}, status=400)
    files = [(f.name, f, f.size) for f in uploaded]
    results = services.board_add_files(board=board, user=request.user, files=files)
    return JsonResponse({"results": [r.as_dict() for r in results]})


@login_required
@require_POST
def board_import_url(request: HttpRequest, board_id: int) -> HttpResponse:
    """Add an image (or a ZIP of images) by URL: fetched by the server, then checked like
    an upload. JSON for the page's script, a message and a redirect without it."""
    board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
    url = (request.POST.get("url") or "").strip()
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not url:
        if wants_json:
            return JsonResponse(
                {"error": "Paste the address of an image.", "results": []}, status=400
            )
        messages.error(request, "Paste the address of an image.")
        return redirect(board)
    results = url_import.board_add_from_url(board=board, user=request.user, url=url)
    if wants_json:
        return JsonResponse({"results": [r.as_dict() for r in results]})
    for r in results:
        if r.status == "added":
            messages.success(request, f"Added “{r.name}”.")
        else:
            messages.error(request, f"{r.name}: {r.status}. {r.message}")
    return redirect(board)


@login_required
@require_GET
def board_download(request: HttpRequest, board_id: int) -> StreamingHttpResponse:
    """The board's images as a ZIP (the served copies: location data removed)."""
    board, _ = access.board_for_user(request.user, board_id)
    response = StreamingHttpResponse(export.board_zip_chunks(board), content_type="application/zip")
    as_file(response, export.zip_filename(board), download=True)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def board_reorder(request: HttpRequest, board_id: int) -> JsonResponse:
    board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
    try:
        body = bounded.parse_json(
            request.body,
            max_bytes=settings.TASTEBASE_MAX_JSON_BYTES,
            max_depth=settings.TASTEBASE_MAX_JSON_DEPTH,
        )
    except bounded.BadJSON as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    order = body.get("order", []) if isinstance(body, dict) else None
    if not isinstance(order, list):
        return JsonResponse({"error": 'Send {"order": [image ids]}.'}, status=400)
    if len(order) > services.MAX_REORDER:
        return JsonResponse(
            {"error": f"Send at most {services.MAX_REORDER} image ids."}, status=400
        )
    ids = [bounded.object_id(i) for i in order]
    if None in ids:
        return JsonResponse({"error": "Image ids are whole numbers from 1."}, status=400)
    services.board_reorder(board=board, image_ids=ids)
    return JsonResponse({"ok": True})


# --- images -------------------------------------------------------------------------


@login_required
@require_GET
def image_detail(request: HttpRequest, board_id: int, image_id: int) -> HttpResponse:
    image, role = access.image_for_user(request.user, board_id, image_id)
    neighbours = list(selectors.board_images(image.board).values_list("id", flat=True))
    index = neighbours.index(image.pk)
    ctx = {
        "board": image.board,
        "image": image,
        "can_edit": access.can(role, Role.EDITOR),
        "form": CaptionForm(initial={"caption": image.caption}),
        "prev_id": neighbours[index - 1] if index > 0 else None,
        "next_id": neighbours[index + 1] if index + 1 < len(neighbours) else None,
    }
    return render(request, "moodboards/image_detail.html", ctx)


@login_required
@require_POST
def image_update(request: HttpRequest, board_id: int, image_id: int) -> HttpResponse:
    image, _ = access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
    form = CaptionForm(request.POST)
    if form.is_valid():
        services.image_update(image=image, caption=form.cleaned_data["caption"])
        messages.success(request, "Note saved.")
    else:
        messages.error(request, "Notes are up to 2000 characters.")
    return redirect(image)


@login_required
@require_POST
def image_delete(request: HttpRequest, board_id: int, image_id: int) -> HttpResponse:
    image, _ = access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
    board = image.board
    services.image_delete(image=image)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"ok": True})
    messages.success(request, "Image removed from the board.")
    return redirect(board)


# A member's browser may keep an image a few minutes (the grid is fast to revisit); a
# member removed from the team loses the copies within that time.
MEMBER_CACHE = "private, max-age=300"
# A share-link visitor's browser keeps nothing: a revoked link (or an archived board)
# must stop showing the images at once, not a day later.
SHARED_CACHE = "no-store"


def _serve(
    image: BoardImage, kind: str, *, download: bool = False, cache: str = MEMBER_CACHE
) -> FileResponse:
    field = {"thumb": image.thumbnail, "display": image.display}.get(kind)
    if field is None:
        raise Http404("Not found")
    if not field:
        raise Http404("This image is still being processed.")
    stem = image.original_name.rsplit("/", 1)[-1].rsplit("›", 1)[-1].strip().rsplit(".", 1)[0]
    filename = f"{stem or 'image'}.{field.name.rsplit('.', 1)[-1]}"
    response = serve_file(field, filename, download=download)
    response["Cache-Control"] = cache
    return response


@login_required
@require_GET
def image_file(request: HttpRequest, board_id: int, image_id: int, kind: str) -> FileResponse:
    image, _ = access.image_for_user(request.user, board_id, image_id)
    return _serve(image, kind, download=request.GET.get("download") == "1")


# --- read-only secret links ------------------------------------------------------------


@require_GET
def shared_board(request: HttpRequest, token: str) -> HttpResponse:
    board = access.board_for_share_token(token)
    display_max = settings.TASTEBASE_DISPLAY_MAX_SIZE
    images = [
        (image, *_display_size(image.width, image.height, display_max))
        for image in selectors.board_images(board).filter(status=ImageStatus.READY)
    ]
    ctx = {"board": board, "images": images, "token": token}
    response = render(request, "moodboards/shared_board.html", ctx)
    # The token is in the URL: don't leak it to other sites through Referer.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = SHARED_CACHE
    return response


@require_GET
def shared_image_file(request: HttpRequest, token: str, image_id: int, kind: str) -> FileResponse:
    image = access.image_for_share_token(token, image_id)
    return _serve(image, kind, download=request.GET.get("download") == "1", cache=SHARED_CACHE)
