"""Generate pages: the recipe form with a live preview, batches and their outputs."""

from __future__ import annotations

import random

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from config import bounded
from moodboards import access as board_access
from moodboards import imaging
from moodboards.models import BoardImage, Role
from moodboards.serving import serve_file
from taste.access import profile_by_id_for_user

from . import access, rendering, scheduling, selectors, services
from .models import MAX_SEED, MAX_WEIGHT, Backend

MAX_ROWS = 4
MAX_PROMPT = 2000


# --- reading the recipe form ---------------------------------------------------------


def _id(value) -> int:
    """An id from a form or JSON field; anything else is simply not found."""
    parsed = bounded.object_id(value)
    if parsed is None:
        raise Http404("Not found")
    return parsed


def _cluster(value) -> int | None:
    """A sub-style index from the form ("all" or empty: the whole profile)."""
    if value in (None, "", "all"):
        return None
    return int(bounded.number(value, name="Sub-style", lo=0, hi=999, integer=True))


def _ingredients(user, data) -> list[services.IngredientSpec]:
    """The recipe rows, each number checked (ValidationError with the reason)."""
    specs = []
    for row in range(MAX_ROWS):
        profile_id = data.get(f"profile_{row}")
        if not profile_id:
            continue
        specs.append(
            services.IngredientSpec(
                profile=profile_by_id_for_user(user, _id(profile_id)),
                cluster=_cluster(data.get(f"cluster_{row}")),
                weight=float(
                    bounded.number(
                        data.get(f"weight_{row}"), name="Weight", lo=0, hi=MAX_WEIGHT, default=1.0
                    )
                ),
            )
        )
    return specs


def _content_upload(upload) -> services.ContentSpec:
    """An uploaded picture, not read yet: its size and header pixel count are checked
    first; the service reads it when its turn comes."""
    if upload.size > settings.TASTEBASE_MAX_UPLOAD_BYTES:
        raise ValidationError(f"{upload.name} is larger than the upload limit.")

    def read() -> bytes:
        upload.seek(0)
        return upload.read()

    return services.ContentSpec(upload.name, reader=read, pixels=imaging.header_pixels(upload))


def _contents(request: HttpRequest) -> list[services.ContentSpec | BoardImage]:
    """Board images (through the access helper; the service reads them) and uploads,
    counted before any is fetched or read."""
    ids = request.POST.getlist("content_ids")
    uploads = request.FILES.getlist("content_files")
    if len(ids) + len(uploads) > services.MAX_CONTENTS:
        raise ValidationError(
            f"Use at most {services.MAX_CONTENTS} content images "
            f"({len(ids) + len(uploads)} were sent)."
        )
    contents: list[services.ContentSpec | BoardImage] = [
        board_access.image_by_id_for_user(request.user, _id(image_id)) for image_id in ids
    ]
    contents += [_content_upload(upload) for upload in uploads]
    services.check_content_budget(contents)
    return contents


def _chosen_team(request: HttpRequest):
    """The team the user chose for the run, or None for the default."""
    value = request.POST.get("team")
    if not value:
        return None
    team, _ = board_access.team_for_user(request.user, _id(value), need=Role.EDITOR)
    return team


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
        generation, _ = access.generation_for_user(request.user, _id(source))
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
        # The run belongs to a team the user chooses; its members see the results.
        "teams": selectors.teams_to_generate_in(request.user),
    }
    return render(request, "generation/new.html", ctx)


def _create(request: HttpRequest) -> HttpResponse:
    try:
        generation = services.generation_create(user=request.user, **_recipe(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(request.get_full_path())
    return redirect(generation)


def _recipe(request: HttpRequest) -> dict:
    """The form's recipe, every field checked before any picture is read."""
    data = request.POST
    recipe = {
        "team": _chosen_team(request),
        "ingredients": _ingredients(request.user, data),
        "backend": data.get("backend") or Backend.STYLIZE,
        "strength": float(bounded.number(data.get("strength"), name="Strength", lo=0, hi=1, default=0.8)),
        "count": bounded.number(data.get("count"), name="Batch", lo=1, hi=services.MAX_BATCH, default=4, integer=True),
        "cohesion": float(bounded.number(data.get("cohesion"), name="Cohesion", lo=0, hi=1, default=1.0)),
        "seed": bounded.number(data.get("seed"), name="Seed", lo=0, hi=MAX_SEED, default=0, integer=True),
        "prompt": data.get("prompt", "")[:MAX_PROMPT],
        "negative_prompt": data.get("negative_prompt", "")[:MAX_PROMPT],
    }  # fmt: skip
    recipe["contents"] = _contents(request)
    return recipe


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
    queue = scheduling.queue_state(generation)
    ctx = {
        "generation": generation,
        "slots": slots,
        "ingredients": generation.ingredients.select_related("profile__board"),
        "contents": generation.contents.all(),
        "can_edit": board_access.can(role, Role.EDITOR),
        "queue": queue,
        "estimate": scheduling.describe_seconds(
            scheduling.estimate_seconds(generation.backend, generation.work_pixels)
        )
        if generation.is_active
        else "",
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
            "queue": queue.as_dict() if (queue := scheduling.queue_state(generation)) else None,
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
def generation_delete(request: HttpRequest, generation_id: int) -> HttpResponse:
    """Delete a run and its images (editors of its team)."""
    generation, _ = access.generation_for_user(request.user, generation_id, need=Role.EDITOR)
    services.generation_delete(generation=generation)
    messages.success(request, f"Generation {generation_id} and its images were deleted.")
    return redirect("generation_list")


@login_required
@require_POST
def output_upscale(request: HttpRequest, generation_id: int, index: int) -> HttpResponse:
    output, _ = access.output_for_user(request.user, generation_id, index, need=Role.EDITOR)
    try:
        job = services.generation_upscale(user=request.user, source=output)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(output.generation)
    return redirect(job)


@login_required
@require_POST
def board_image_upscale(request: HttpRequest, board_id: int, image_id: int) -> HttpResponse:
    """Upscale ×4 any board image (an editor's action on that board)."""
    image, _ = board_access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
    try:
        job = services.generation_upscale(user=request.user, source=image)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(image)
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
        body = bounded.parse_json(
            request.body,
            max_bytes=settings.TASTEBASE_MAX_JSON_BYTES,
            max_depth=settings.TASTEBASE_MAX_JSON_DEPTH,
        )
    except bounded.BadJSON as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    if not isinstance(body, dict) or not isinstance(body.get("ingredients", []), list):
        return JsonResponse({"error": "Send {ingredients: [...], content, strength}."}, status=400)
    rows = body.get("ingredients", [])
    if len(rows) > MAX_ROWS or not all(isinstance(row, dict) for row in rows):
        return JsonResponse({"error": f"Send up to {MAX_ROWS} ingredients."}, status=400)
    data = {}
    for i, row in enumerate(rows):
        data[f"profile_{i}"] = row.get("profile")
        data[f"cluster_{i}"] = row.get("cluster")
        data[f"weight_{i}"] = row.get("weight")
    try:
        ingredients = _ingredients(request.user, data)
        strength = float(
            bounded.number(body.get("strength"), name="Strength", lo=0, hi=1, default=0.8)
        )
        if not ingredients:
            raise ValidationError("Choose a taste profile.")
        services.validate_ingredients(ingredients)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    image = board_access.image_by_id_for_user(request.user, _id(body.get("content")))
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
