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
from taste.access import profile_by_code_for_user, profile_by_id_for_user

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


def _profile(user, value):
    """A profile version named by id or by its short code (tb-7f3a2c), as the
    recipe form and ``?profile=`` accept; access-checked either way."""
    if isinstance(value, str) and value.strip().lower().startswith("tb-"):
        return profile_by_code_for_user(user, value)
    return profile_by_id_for_user(user, _id(value))


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
                profile=_profile(user, profile_id),
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


DEFAULTS = {
    "strength": 0.8, "count": 4, "cohesion": 1.0, "backend": "auto",
    "colour": 1.0, "tone": 1.0, "texture": 1.0,
}  # fmt: skip
# What each backend reads from the form, so the page shows only what matters for it.
PROMPT_BACKENDS = {"diffusion"}
GRADE_BACKENDS = {"grade", "auto"}
NO_TASTE_BACKENDS = {"upscale"}


@login_required
def generation_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create(request)
    initial = {**DEFAULTS, "seed": random.randint(0, 99999)}
    rows: list[dict] = []
    source = request.GET.get("from")
    if source:  # "Tweak": the form filled with an earlier recipe
        generation, _ = access.generation_for_user(request.user, _id(source))
        initial.update(
            strength=generation.strength, count=generation.count, cohesion=generation.cohesion,
            seed=generation.seed, backend=generation.backend, prompt=generation.prompt,
            negative_prompt=generation.negative_prompt, colour=generation.colour,
            tone=generation.tone, texture=generation.texture,
        )  # fmt: skip
        rows = [
            {"profile": i.profile_id, "cluster": i.cluster, "weight": i.weight}
            for i in generation.ingredients.all()
        ]
        initial["content_ids"] = [
            c.board_image_id for c in generation.contents.all() if c.board_image_id
        ]
    elif request.GET.get("profile"):
        profile = _profile(request.user, request.GET["profile"])
        rows = [{"profile": profile.pk, "cluster": None, "weight": 1.0}]
    return render(request, "generation/new.html", _form_context(request, initial, rows))


def _float(value, default: float) -> float:
    """For showing a refused form again: what was sent, or the default if it was no number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number == number and abs(number) != float("inf") else default


def _posted_recipe(data) -> tuple[dict, list[dict]]:
    """The form as it was sent, to show it again with the reason it was refused."""
    initial = {
        "strength": _float(data.get("strength"), DEFAULTS["strength"]),
        "count": int(_float(data.get("count"), DEFAULTS["count"])),
        "cohesion": _float(data.get("cohesion"), DEFAULTS["cohesion"]),
        "seed": int(_float(data.get("seed"), 0)),
        "backend": data.get("backend", DEFAULTS["backend"]),
        "prompt": data.get("prompt", ""),
        "negative_prompt": data.get("negative_prompt", ""),
        "content_ids": [int(i) for i in data.getlist("content_ids") if str(i).isdigit()],
    }
    for name in ("colour", "tone", "texture"):
        if data.get(name) is not None:
            initial[name] = _float(data.get(name), 1.0)
    rows = []
    for row in range(MAX_ROWS):
        profile = data.get(f"profile_{row}")
        if profile and str(profile).isdigit():
            cluster = data.get(f"cluster_{row}")
            rows.append(
                {
                    "profile": int(profile),
                    "cluster": int(cluster) if str(cluster).isdigit() else None,
                    "weight": _float(data.get(f"weight_{row}"), 1.0),
                }
            )
    return initial, rows


def _form_context(request: HttpRequest, initial: dict, rows: list[dict]) -> dict:
    """The Generate page: only what this user can use, shown as the backend needs it."""
    user = request.user
    visible = list(selectors.profiles_for_user(user))
    # A run belongs to a team where the user is an editor: offer only those profiles.
    editable_teams = {
        p.board.team_id for p in visible if services.can_generate_in(user, p.board.team)
    }
    profiles = [p for p in visible if p.board.team_id in editable_teams]
    rows = list(rows)
    if not rows:
        rows = [{"profile": None, "cluster": None, "weight": 1.0}]
    filled = len(rows)
    while len(rows) < MAX_ROWS:
        rows.append({"profile": None, "cluster": None, "weight": 1.0})
    for i, row in enumerate(rows):
        row["hidden"] = i >= filled
    statuses = services.backend_statuses()
    backends = [
        {
            "id": b.id,
            "name": _backend_name(b.id, b.label),
            "note": b.label.partition(" (")[2].rstrip(")"),
            "needs_content": b.needs_content,
            "uses_prompt": b.id in PROMPT_BACKENDS,
            "uses_grade": b.id in GRADE_BACKENDS,
            "uses_taste": b.id not in NO_TASTE_BACKENDS,
        }
        for b in statuses
        if b.installed
    ]
    if initial.get("backend") not in {b["id"] for b in backends} and backends:
        initial["backend"] = backends[0]["id"]
    chosen = next((b for b in backends if b["id"] == initial.get("backend")), None)
    return {
        "initial": initial,
        "rows": rows,
        "profiles": profiles,
        "viewer_only": bool(visible) and not profiles,
        "profile_clusters": {
            p.pk: [
                {"index": c.index, "label": c.label, "percent": round(c.weight * 100)}
                for c in p.document.clusters
            ]
            for p in profiles
        },
        "candidate_groups": selectors.content_candidates_by_board(user),
        "backends": backends,
        "chosen": chosen,
        "missing_backends": [_backend_name(b.id, b.label) for b in statuses if not b.installed],
        "max_rows": MAX_ROWS,
        # The run belongs to a team the user chooses; its members see the results.
        "teams": selectors.teams_to_generate_in(user),
    }


def _backend_name(backend_id: str, label: str) -> str:
    """'Stylize (style transfer onto your images, CPU)' -> 'Stylize'."""
    return label.split(" (", 1)[0]


def _create(request: HttpRequest) -> HttpResponse:
    try:
        generation = services.generation_create(user=request.user, **_recipe(request))
    except ValidationError as exc:
        # Show the form again as it was sent, with the reason: nothing is lost but the
        # uploaded files (a browser can't be handed those back).
        messages.error(request, " ".join(exc.messages))
        initial, rows = _posted_recipe(request.POST)
        response = render(request, "generation/new.html", _form_context(request, initial, rows))
        response.status_code = 400
        return response
    return redirect(generation)


def _sliders(data) -> dict[str, float]:
    """The grade backend's colour / tone / texture sliders (0-1, default 1)."""
    return {
        name: float(bounded.number(data.get(name), name=name.capitalize(), lo=0, hi=1, default=1.0))
        for name in ("colour", "tone", "texture")
    }


def _recipe(request: HttpRequest) -> dict:
    """The form's recipe, every field checked before any picture is read."""
    data = request.POST
    recipe = {
        "team": _chosen_team(request),
        "ingredients": _ingredients(request.user, data),
        "backend": data.get("backend") or services.AUTO,
        "strength": float(bounded.number(data.get("strength"), name="Strength", lo=0, hi=1, default=0.8)),
        **_sliders(data),
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
    generations = list(
        selectors.generations_for_user(request.user).prefetch_related("contents")[:100]
    )
    for g in generations:
        g.title = generation_title(g)
    return render(request, "generation/list.html", {"generations": generations})


def generation_title(generation) -> str:
    """What was made from what: 'Autumn campaign v2 on coffee.jpg and 3 more',
    'Upscale ×4 of coffee.jpg', 'Autumn v2 + Night market v1 (sub-style 2)'."""
    contents = [c.name for c in generation.contents.all()]
    on = ""
    if contents:
        on = contents[0] if len(contents) == 1 else f"{contents[0]} and {len(contents) - 1} more"
    if generation.backend == Backend.UPSCALE:
        return f"Upscale ×4 of {on or 'an image'}"
    tastes = []
    for i in generation.ingredients.all():
        part = f"{i.profile.board.title} v{i.profile.version}"
        if i.cluster is not None:
            part += f" (sub-style {i.cluster + 1})"
        tastes.append(part)
    taste = " + ".join(tastes[:3]) + (f" + {len(tastes) - 3} more" if len(tastes) > 3 else "")
    if on:
        return f"{taste} on {on}" if taste else on
    return f"{taste}, from a prompt" if generation.prompt else taste or "Generation"


@login_required
@require_GET
def generation_detail(request: HttpRequest, generation_id: int) -> HttpResponse:
    generation, role = access.generation_for_user(request.user, generation_id)
    outputs = {o.index: o for o in generation.outputs.all()}
    slots = [{"index": i, "output": outputs.get(i)} for i in range(generation.count)]
    queue = scheduling.queue_state(generation)
    ctx = {
        "generation": generation,
        "title": generation_title(generation),
        "backend_name": _backend_name(generation.backend, generation.get_backend_display()),
        "slots": slots,
        "ingredients": generation.ingredients.select_related("profile__board"),
        "contents": generation.contents.all(),
        "can_edit": board_access.can(role, Role.EDITOR),
        "eta": _progress(generation)[1],
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
    percent, eta, step = _progress(generation)
    return JsonResponse(
        {
            "status": generation.status,
            "status_label": generation.get_status_display(),
            "done": generation.done,
            "count": generation.count,
            "percent": percent,
            "eta_seconds": eta,
            "step": step,
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


def _progress(generation) -> tuple[int, int | None, str]:
    """(percent, seconds left or None, what the worker is on): finished slots, plus the
    tiles of the slot being rendered (an upscale reports them), timed from the start."""
    from django.utils import timezone

    from . import progress

    if not generation.is_active:
        return 100, None, ""
    done = float(generation.done)
    step = ""
    if generation.status == "running":
        current = progress.current(generation.pk)
        if current and current.get("total") and current.get("index") == generation.done:
            done += current["done"] / current["total"]
            step = f"tile {current['done']} of {current['total']}"
        elif generation.count > 1:
            step = f"image {generation.done + 1} of {generation.count}"
    fraction = min(1.0, done / generation.count) if generation.count else 0.0
    eta = None
    if generation.started and 0.02 < fraction < 1:
        elapsed = (timezone.now() - generation.started).total_seconds()
        eta = round(elapsed * (1 - fraction) / fraction)
    return int(100 * fraction), eta, step


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


PREVIEW_UPLOAD_BYTES = 3 * 1024 * 1024  # the page sends a copy scaled down to 512 px


def _preview_upload(data_url: str) -> Image.Image:
    """An uploaded picture the page scaled down and sent as a data: URL, checked like an
    upload (full decode, pixel limit)."""
    import base64
    import binascii

    from moodboards import imaging

    head, _, payload = str(data_url).partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise ValidationError("Send the picture as a data:image/…;base64 URL.")
    if len(payload) > PREVIEW_UPLOAD_BYTES * 4 // 3 + 4:
        raise ValidationError("The preview picture is too large.")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The preview picture is not valid base64.") from None
    try:
        return imaging.open_first_frame(raw, max_pixels=settings.TASTEBASE_MAX_IMAGE_PIXELS)
    except imaging.ImageRejected as exc:
        raise ValidationError(str(exc)) from None


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """A small stylized preview for the sliders: well under a second, no page reload.
    The content is a board image (`content`: its id) or an uploaded one (`content_data`)."""
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
        backend = body.get("backend") or services.AUTO
        if backend not in (services.AUTO, Backend.GRADE, Backend.STYLIZE):
            raise ValidationError("Previews are made by the auto, grade and stylize backends.")
        sliders = _sliders(body)
        if backend == Backend.GRADE and any(not i.profile.document.grade for i in ingredients):
            raise ValidationError("This profile version has no recovered grade: analyse again.")
        upload = body.get("content_data")
        image = (
            None
            if upload
            else board_access.image_by_id_for_user(request.user, _id(body.get("content")))
        )
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    try:
        if upload:
            content = _preview_upload(upload)
        else:
            field = image.thumbnail or image.display
            with field.open("rb") as fh:
                content = Image.open(fh)
                content.load()
        jpeg = rendering.preview_jpeg(
            content=content, ingredients=ingredients, strength=strength, backend=backend,
            sliders=sliders,
        )  # fmt: skip
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    except OSError:
        raise Http404("The content image is missing.") from None
    except ValueError as exc:  # e.g. a content image too small to stylize
        return JsonResponse({"error": f"No preview for this image: {exc}"}, status=400)
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def server_status(request: HttpRequest) -> HttpResponse:
    """For the server's administrators: which encoders and backends are installed and,
    for what is missing, how to add it. End users never see these instructions."""
    from django.core.exceptions import PermissionDenied

    from taste.encoders import list_encoders

    if not request.user.is_staff:
        raise PermissionDenied("Only the server's administrators see its status.")
    return render(
        request,
        "generation/status.html",
        {"encoders": list_encoders(), "backends": services.backend_statuses()},
    )
