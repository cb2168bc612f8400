"""Generate pages: the recipe form with a live preview, batches and their outputs."""

from __future__ import annotations

import json
import random

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from moodboards import access as board_access
from moodboards.models import BoardImage, Role
from moodboards.serving import serve_file
from taste.access import profile_by_id_for_user

from . import access, rendering, selectors, services
from .models import Backend

MAX_ROWS = 4


# --- reading the recipe form ---------------------------------------------------------


def _id(value) -> int:
    """An id from a form or JSON field; anything else is simply not found."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("Not found") from None


def _float(value, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _ingredients(user, data) -> list[services.IngredientSpec]:
    specs = []
    for row in range(MAX_ROWS):
        profile_id = data.get(f"profile_{row}")
        if not profile_id:
            continue
        cluster = data.get(f"cluster_{row}")
        specs.append(
            services.IngredientSpec(
                profile=profile_by_id_for_user(user, _id(profile_id)),
                cluster=int(cluster) if cluster not in (None, "", "all") else None,
                weight=_float(data.get(f"weight_{row}"), 1.0),
            )
        )
    return specs


def _contents(request: HttpRequest) -> list[services.ContentSpec | BoardImage]:
    """Board images (through the access helper; the service reads them) and uploads."""
    contents: list[services.ContentSpec | BoardImage] = [
        board_access.image_by_id_for_user(request.user, _id(image_id))
        for image_id in request.POST.getlist("content_ids")
    ]
    for upload in request.FILES.getlist("content_files"):
        if upload.size > settings.TASTEBASE_MAX_UPLOAD_BYTES:
            raise ValidationError(f"{upload.name} is larger than the upload limit.")
        contents.append(services.ContentSpec(upload.name, upload.read()))
    return contents


# --- pages ------------------------------------------------------------------------------


@login_required
def generation_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create(request)
    initial = {
        "strength": 0.8,
        "count": 4,
        "cohesion": 1.0,
        "seed": random.randint(0, 99999),
        "backend": "stylize",
    }
    rows: list[dict] = []
    source = request.GET.get("from")
    if source:  # "Tweak": the form filled with an earlier recipe
        generation, _ = access.generation_for_user(
            request.user, int(source) if source.isdigit() else 0
        )
        initial.update(
            strength=generation.strength, count=generation.count, cohesion=generation.cohesion,
            seed=generation.seed, backend=generation.backend, prompt=generation.prompt,
            negative_prompt=generation.negative_prompt,
        )  # fmt: skip
        rows = [
            {"profile": i.profile_id, "cluster": i.cluster, "weight": i.weight}
            for i in generation.ingredients.all()
        ]
        initial["content_ids"] = [
            c.board_image_id for c in generation.contents.all() if c.board_image_id
        ]
    elif request.GET.get("profile"):
        profile = profile_by_id_for_user(request.user, _id(request.GET["profile"]))
        rows = [{"profile": profile.pk, "cluster": None, "weight": 1.0}]
    while len(rows) < MAX_ROWS:
        rows.append({"profile": None, "cluster": None, "weight": 1.0})
    profiles = list(selectors.profiles_for_user(request.user))
    ctx = {
        "initial": initial,
        "rows": rows,
        "profiles": profiles,
        "profile_clusters": {
            p.pk: [
                {"index": c.index, "label": c.label, "percent": round(c.weight * 100)}
                for c in p.document.clusters
            ]
            for p in profiles
        },
        "candidates": selectors.content_candidates(request.user),
        "backends": services.backend_statuses(),
    }
    return render(request, "generation/new.html", ctx)


def _create(request: HttpRequest) -> HttpResponse:
    data = request.POST
    try:
        generation = services.generation_create(
            user=request.user,
            ingredients=_ingredients(request.user, data),
            backend=data.get("backend", Backend.STYLIZE),
            strength=_float(data.get("strength"), 0.8),
            count=int(_float(data.get("count"), 4)),
            cohesion=_float(data.get("cohesion"), 1.0),
            seed=int(_float(data.get("seed"), 0)),
            prompt=data.get("prompt", ""),
            negative_prompt=data.get("negative_prompt", ""),
            contents=_contents(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(request.get_full_path())
    return redirect(generation)


@login_required
@require_GET
def generation_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "generation/list.html",
        {"generations": selectors.generations_for_user(request.user)[:100]},
    )


@login_required
@require_GET
def generation_detail(request: HttpRequest, generation_id: int) -> HttpResponse:
    generation, role = access.generation_for_user(request.user, generation_id)
    outputs = {o.index: o for o in generation.outputs.all()}
    slots = [{"index": i, "output": outputs.get(i)} for i in range(generation.count)]
    ctx = {
        "generation": generation,
        "slots": slots,
        "ingredients": generation.ingredients.select_related("profile__board"),
        "contents": generation.contents.all(),
        "can_edit": board_access.can(role, Role.EDITOR),
    }
    return render(request, "generation/detail.html", ctx)


@login_required
@require_GET
def generation_status(request: HttpRequest, generation_id: int) -> JsonResponse:
    generation, _ = access.generation_for_user(request.user, generation_id)
    return JsonResponse(
        {
            "status": generation.status,
            "done": generation.done,
            "count": generation.count,
            "percent": generation.percent,
            "error": generation.error,
            "outputs": [
                {
                    "index": o.index,
                    "ok": o.ok,
                    "error": o.error,
                    "url": f"{generation.get_absolute_url()}outputs/{o.index}/" if o.ok else None,
                    "fidelity": o.fidelity,
                    "content_fidelity": o.content_fidelity,
                }
                for o in generation.outputs.all()
            ],
        }
    )


@login_required
@require_POST
def generation_rerun(request: HttpRequest, generation_id: int) -> HttpResponse:
    generation, _ = access.generation_for_user(request.user, generation_id, need=Role.EDITOR)
    try:
        again = services.generation_rerun(generation=generation, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(generation)
    messages.success(request, "The same recipe and seed again: expect the same images.")
    return redirect(again)


@login_required
@require_POST
def output_upscale(request: HttpRequest, generation_id: int, index: int) -> HttpResponse:
    output, _ = access.output_for_user(request.user, generation_id, index, need=Role.EDITOR)
    return _start_upscale(request, output, back=output.generation)


@login_required
@require_POST
def board_image_upscale(request: HttpRequest, board_id: int, image_id: int) -> HttpResponse:
    """Upscale ×4 any board image (an editor's action on that board)."""
    image, _ = board_access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
    return _start_upscale(request, image, back=image)


def _start_upscale(request: HttpRequest, source, *, back) -> HttpResponse:
    try:
        job = services.generation_upscale(user=request.user, source=source)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    return redirect(job)


@login_required
@require_GET
def output_file(request: HttpRequest, generation_id: int, index: int) -> FileResponse:
    output, _ = access.output_for_user(request.user, generation_id, index)
    ext = output.file.name.rsplit(".", 1)[-1]
    return serve_file(
        output.file,
        f"tastebase-{generation_id}-{index + 1}.{ext}",
        download=request.GET.get("download") == "1",
    )


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """A small stylized preview for the sliders: well under a second, no page reload."""
    try:
        body = json.loads(request.body or b"{}")
        rows = body.get("ingredients", [])
        data = {}
        for i, row in enumerate(rows[:MAX_ROWS]):
            data[f"profile_{i}"] = row.get("profile")
            data[f"cluster_{i}"] = row.get("cluster")
            data[f"weight_{i}"] = row.get("weight")
        ingredients = _ingredients(request.user, data)
        image = board_access.image_by_id_for_user(request.user, _id(body.get("content")))
        strength = min(1.0, max(0.0, float(body.get("strength", 0.8))))
    except (ValueError, TypeError, AttributeError):
        return JsonResponse({"error": "Send ingredients, content and strength."}, status=400)
    if not ingredients:
        return JsonResponse({"error": "Choose a taste profile."}, status=400)
    field = image.thumbnail or image.display
    try:
        with field.open("rb") as fh:
            content = Image.open(fh)
            content.load()
        jpeg = rendering.preview_jpeg(content=content, ingredients=ingredients, strength=strength)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    except OSError:
        raise Http404("The content image is missing.") from None
    except ValueError as exc:  # e.g. a content image too small to stylize
        return JsonResponse({"error": f"No preview for this image: {exc}"}, status=400)
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response
