"""The REST API. Every fetch goes through the access helpers, every write through a
service: the same rules and the same code paths as the pages.

Base classes set authentication, permissions, throttles, pagination and the error
handler explicitly, so the API behaves the same whatever REST_FRAMEWORK says.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import http_date, quote_etag
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import generics, parsers, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import access as generation_access
from generation import services as generation_services
from generation.models import Backend, Generation
from generation.selectors import generations_for_user
from generation.views import EXPORTS
from moodboards import access, services
from moodboards.models import Role
from moodboards.selectors import board_images, boards_for_user, members_of, teams_for_user
from moodboards.serving import as_file, serve_file
from taste import selectors as taste_selectors
from taste import services as taste_services
from taste.access import analysis_for_user, profile_by_id_for_user, profile_for_user

from . import selectors
from . import serializers as s
from . import services as token_services
from .authentication import ApiTokenAuthentication
from .errors import api_exception_handler
from .forms import TokenForm
from .models import ApiToken
from .pagination import Pagination
from .schema import TastebaseAutoSchema, api_schema
from .serializers import MAX_ID
from .throttling import TokenRateThrottle, UploadRateThrottle


class JSONParser(parsers.JSONParser):
    """DRF's parser, plus: a document nested deeper than the decoder's recursion limit
    is the client's mistake (a 400), not a RecursionError answered as a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


class PassthroughRenderer(BaseRenderer):
    """Lets file downloads be negotiated (Accept: image/*); errors still render JSON."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data) if not isinstance(data, bytes) else data


class ApiMixin:
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [TokenRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    pagination_class = Pagination
    schema = TastebaseAutoSchema()

    def get_exception_handler(self):
        return api_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # An id no database can hold is an id that does not exist (not a 500).
        for value in kwargs.values():
            if isinstance(value, int) and value > MAX_ID:
                raise NotFound("Not found.")

    def ctx(self) -> dict:
        return {"request": self.request}


class ApiView(ApiMixin, APIView):
    pass


class ApiListView(ApiMixin, generics.ListAPIView):
    pass


def _int_param(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    field = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    try:
        return field.run_validation(value)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None


def _accepted(data: dict, status_url: str) -> Response:
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": status_url})


# --- me and teams -----------------------------------------------------------------------------


class MeView(ApiView):
    @api_schema(responses=s.MeSerializer, summary="The user the token belongs to")
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class TeamListView(ApiListView):
    serializer_class = s.TeamSerializer

    def get_queryset(self):
        services.personal_team_for(self.request.user)
        return teams_for_user(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "roles": selectors.roles_of(self.request.user)}

    @api_schema(summary="Your teams, your private space first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @api_schema(
        request=s.TeamCreateSerializer,
        responses={201: s.TeamSerializer},
        summary="Create a team (you become its owner)",
    )
    def post(self, request):
        body = s.TeamCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team = services.team_create(user=request.user, name=body.validated_data["name"])
        data = s.TeamSerializer(team, context={"roles": {team.pk: Role.OWNER}}).data
        return Response(data, status=status.HTTP_201_CREATED)


class TeamDetailView(ApiView):
    @api_schema(responses=s.TeamSerializer, summary="One team")
    def get(self, request, team_id: int):
        team, role = access.team_for_user(request.user, team_id)
        return Response(s.TeamSerializer(team, context={"roles": {team.pk: role}}).data)


class MemberListView(ApiListView):
    serializer_class = s.MemberSerializer

    def get_queryset(self):
        team, _ = access.team_for_user(self.request.user, self.kwargs["team_id"])
        return members_of(team)

    @api_schema(summary="Members of a team and their roles (any member)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @api_schema(
        request=s.InviteSerializer,
        responses={201: s.MemberSerializer},
        summary="Add a member by username or email (owners)",
    )
    def post(self, request, team_id: int):
        team, _ = access.team_for_user(request.user, team_id, need=Role.OWNER)
        body = s.InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = services.team_invite(
            team=team,
            identifier=body.validated_data["identifier"],
            role=Role(body.validated_data["role"]),
        )
        return Response(s.MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(ApiView):
    @api_schema(
        request=s.RoleSerializer, responses=s.MemberSerializer, summary="Change a role (owners)"
    )
    def patch(self, request, team_id: int, membership_id: int):
        membership, _ = access.membership_for_user(
            request.user, team_id, membership_id, need=Role.OWNER
        )
        body = s.RoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.membership_set_role(membership=membership, role=Role(body.validated_data["role"]))
        return Response(s.MemberSerializer(membership).data)

    @api_schema(responses={204: None}, summary="Remove a member (owners), or leave a team")
    def delete(self, request, team_id: int, membership_id: int):
        membership, role = access.membership_for_user(request.user, team_id, membership_id)
        access.check_can_remove_member(request.user, role, membership)
        services.membership_remove(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- boards ----------------------------------------------------------------------------------

TEAM_FILTER = OpenApiParameter("team", int, description="Only boards of this team.")
ARCHIVED_FILTER = OpenApiParameter(
    "archived", bool, description="true: the archived boards instead of the active ones."
)


class BoardListView(ApiListView):
    serializer_class = s.BoardSerializer

    def get_queryset(self):
        archived = self.request.query_params.get("archived", "").lower() in ("1", "true")
        boards = boards_for_user(self.request.user, archived=archived)
        team_id = _int_param(self.request, "team")
        return boards.filter(team_id=team_id) if team_id else boards

    @api_schema(parameters=[TEAM_FILTER, ARCHIVED_FILTER], summary="Boards you can see")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @api_schema(
        request=s.BoardCreateSerializer,
        responses={201: s.BoardSerializer},
        summary="Create a board in a team (editors)",
    )
    def post(self, request):
        body = s.BoardCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        team, _ = access.team_for_user(request.user, body.validated_data["team"], need=Role.EDITOR)
        board = services.board_create(
            team=team,
            user=request.user,
            title=body.validated_data["title"],
            description=body.validated_data["description"],
        )
        return Response(s.BoardSerializer(board, context=self.ctx()).data, status=201)


class BoardDetailView(ApiView):
    @api_schema(responses=s.BoardSerializer, summary="One board")
    def get(self, request, board_id: int):
        board, _ = access.board_for_user(request.user, board_id)
        return Response(s.BoardSerializer(board, context=self.ctx()).data)

    @api_schema(
        request=s.BoardUpdateSerializer,
        responses=s.BoardSerializer,
        summary="Rename, describe, archive or restore (editors)",
    )
    def patch(self, request, board_id: int):
        board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
        body = s.BoardUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "title" in data or "description" in data:
            board = services.board_update(
                board=board,
                title=data.get("title", board.title),
                description=data.get("description", board.description),
            )
        if "archived" in data:
            board = services.board_set_archived(board=board, archived=data["archived"])
        return Response(s.BoardSerializer(board, context=self.ctx()).data)

    @api_schema(responses={204: None}, summary="Delete a board and its images (owners)")
    def delete(self, request, board_id: int):
        board, _ = access.board_for_user(request.user, board_id, need=Role.OWNER)
        services.board_delete(board=board)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- board images ------------------------------------------------------------------------------


class BoardImageListView(ApiListView):
    serializer_class = s.ImageSerializer
    throttle_classes = [TokenRateThrottle, UploadRateThrottle]

    def get_queryset(self):
        board, _ = access.board_for_user(self.request.user, self.kwargs["board_id"])
        return board_images(board)

    @api_schema(summary="The board's images, in board order")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @api_schema(
        request={"multipart/form-data": s.UploadSerializer},
        responses={200: s.UploadResponseSerializer},
        summary="Upload one or many images or ZIPs (editors); a result per file",
        description=(
            "The same validation as the board page: each file is *added*, a *duplicate* "
            "(same bytes or a near-identical picture) or *rejected* with the reason. One bad "
            "file never stops the rest. Thumbnails are made by a worker: poll the image until "
            "its `status` is `ready`."
        ),
    )
    def post(self, request, board_id: int):
        board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
        uploaded = request.FILES.getlist("files")
        if not uploaded:
            raise serializers.ValidationError({"files": ["No files were sent."]})
        files = [(f.name, f, f.size) for f in uploaded]
        results = services.board_add_files(board=board, user=request.user, files=files)
        counts = {
            k: sum(r.status == k for r in results) for k in ("added", "duplicate", "rejected")
        }
        return Response({"results": [r.as_dict() for r in results], **counts})


class BoardReorderView(ApiView):
    @api_schema(
        request=s.ReorderSerializer,
        responses={204: None},
        summary="Put the listed images first, in that order (editors)",
    )
    def post(self, request, board_id: int):
        board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
        body = s.ReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.board_reorder(board=board, image_ids=body.validated_data["order"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageDetailView(ApiView):
    @api_schema(responses=s.ImageSerializer, summary="One image")
    def get(self, request, board_id: int, image_id: int):
        image, _ = access.image_for_user(request.user, board_id, image_id)
        return Response(s.ImageSerializer(image, context=self.ctx()).data)

    @api_schema(
        request=s.ImageUpdateSerializer,
        responses=s.ImageSerializer,
        summary="Set the note (editors)",
    )
    def patch(self, request, board_id: int, image_id: int):
        image, _ = access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
        body = s.ImageUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        image = services.image_update(image=image, caption=body.validated_data["caption"])
        return Response(s.ImageSerializer(image, context=self.ctx()).data)

    @api_schema(responses={204: None}, summary="Remove the image from the board (editors)")
    def delete(self, request, board_id: int, image_id: int):
        image, _ = access.image_for_user(request.user, board_id, image_id, need=Role.EDITOR)
        services.image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _file_response(field, content_type: str, filename: str, *, download: bool) -> FileResponse:
    response = serve_file(field, filename, download=download)
    response["Content-Type"] = content_type
    return response


DOWNLOAD = OpenApiParameter("download", bool, description="true: as an attachment.")
IMAGE_TYPES = ("image/jpeg", "image/webp", "image/png")


class ImageFileView(ApiView):
    renderer_classes = [JSONRenderer, PassthroughRenderer]

    @api_schema(
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=["display", "thumb"]),
            DOWNLOAD,
        ],
        responses={(200, t): OpenApiTypes.BINARY for t in IMAGE_TYPES},
        summary="The served image (orientation applied, metadata removed) or its thumbnail",
        operation_id="boards_images_file",
    )
    def get(self, request, board_id: int, image_id: int, kind: str):
        image, _ = access.image_for_user(request.user, board_id, image_id)
        field = {"thumb": image.thumbnail, "display": image.display}.get(kind)
        if field is None:
            raise NotFound("Use display or thumb.")
        if not field:
            raise NotFound("This image is still being processed.")
        ext = field.name.rsplit(".", 1)[-1]
        content_type = "image/webp" if ext == "webp" else "image/jpeg"
        stem = image.original_name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "image"
        download = request.query_params.get("download", "").lower() in ("1", "true")
        return _file_response(field, content_type, f"{stem}.{ext}", download=download)


# --- analyses and profiles -------------------------------------------------------------------


class BoardAnalysisListView(ApiListView):
    serializer_class = s.AnalysisSerializer

    def get_queryset(self):
        board, _ = access.board_for_user(self.request.user, self.kwargs["board_id"])
        return board.analyses.select_related("profile").order_by("-created")

    @api_schema(summary="The board's analyses, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @api_schema(
        request=s.AnalysisStartSerializer,
        responses={202: s.AnalysisSerializer},
        summary="Analyze the board (editors); poll the status URL",
        description=(
            "Answers 202 with the analysis and its `status_url` (also in `Location`). If an "
            "analysis of this board is already under way, that one is returned."
        ),
    )
    def post(self, request, board_id: int):
        board, _ = access.board_for_user(request.user, board_id, need=Role.EDITOR)
        body = s.AnalysisStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        analysis = taste_services.analysis_start(
            board=board, user=request.user, encoder_id=body.validated_data.get("encoder") or None
        )
        analysis.refresh_from_db()  # eager task runs (tests, scripts) may have finished it
        data = s.AnalysisSerializer(analysis, context=self.ctx()).data
        return _accepted(data, data["status_url"])


class AnalysisDetailView(ApiView):
    @api_schema(
        responses=s.AnalysisSerializer,
        summary="An analysis's progress; when done, its profile version",
    )
    def get(self, request, analysis_id: int):
        analysis = analysis_for_user(request.user, analysis_id)
        return Response(s.AnalysisSerializer(analysis, context=self.ctx()).data)


class ProfileListView(ApiListView):
    serializer_class = s.ProfileSummarySerializer

    def get_queryset(self):
        board, _ = access.board_for_user(self.request.user, self.kwargs["board_id"])
        return taste_selectors.profiles_of(board)

    @api_schema(summary="The board's profile versions, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _etag(profile) -> str:
    # Versions are immutable: the content fingerprint and id name one exactly.
    return quote_etag(f"{profile.pk}-{profile.fingerprint[:24]}")


class ProfileDetailView(ApiView):
    @api_schema(
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                description="An ETag from an earlier answer: 304 when unchanged.",
            )
        ],
        responses={
            200: OpenApiResponse(
                s.ProfileDocumentSerializer,
                description="The profile; `ETag` and `Last-Modified` headers are set.",
            ),
            304: OpenApiResponse(description="Not modified."),
        },
        summary="A profile version as JSON (as `analyze_images --json` prints it)",
    )
    def get(self, request, board_id: int, version: int):
        profile, _ = profile_for_user(request.user, board_id, version)
        etag = _etag(profile)
        headers = {"ETag": etag, "Last-Modified": http_date(profile.created.timestamp())}
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        data = selectors.profile_document(profile, context=self.ctx())
        return Response(data, headers=headers)


EXPORT_TYPES = sorted(set(EXPORTS.values()))


class ProfileExportView(ApiView):
    renderer_classes = [JSONRenderer, PassthroughRenderer]

    @api_schema(
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=sorted(EXPORTS))],
        responses={(200, t.split(";")[0]): OpenApiTypes.BINARY for t in EXPORT_TYPES},
        summary="An export: look.cube LUT, palette.ase/.gpl swatches, prompt.txt, lut-preview.jpg",
    )
    def get(self, request, board_id: int, version: int, name: str):
        profile, _ = profile_for_user(request.user, board_id, version)
        if name not in EXPORTS:
            raise NotFound(f"Exports are: {', '.join(sorted(EXPORTS))}.")
        body = generation_services.profile_export(profile, name)
        response = HttpResponse(body, content_type=EXPORTS[name])
        as_file(response, generation_services.profile_export_filename(profile, name), download=True)
        response["ETag"] = quote_etag(f"{profile.pk}-{profile.fingerprint[:24]}-{name}")
        return response


# --- generations ---------------------------------------------------------------------------------

BOARD_FILTER = OpenApiParameter(
    "board", int, description="Only runs drawing on this board's profiles."
)
GEN_TEAM_FILTER = OpenApiParameter("team", int, description="Only runs of this team.")


class GenerationListView(ApiListView):
    serializer_class = s.GenerationSerializer

    def get_queryset(self):
        runs = generations_for_user(self.request.user)
        team_id = _int_param(self.request, "team")
        board_id = _int_param(self.request, "board")
        if team_id:
            runs = runs.filter(team_id=team_id)
        if board_id:
            runs = runs.filter(ingredients__profile__board_id=board_id).distinct()
        return runs

    @api_schema(parameters=[GEN_TEAM_FILTER, BOARD_FILTER], summary="Generations you can see")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @api_schema(
        request=s.GenerationCreateSerializer,
        responses={202: s.GenerationSerializer},
        summary="Start a generation from a recipe (editors of the first profile's board)",
        description=(
            "Every profile must be visible to you; the run belongs to the team of the first "
            "profile's board, where you need the editor role (as on the Generate page). "
            "Answers 202 with `status_url` (also in `Location`)."
        ),
    )
    def post(self, request):
        body = s.GenerationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        ingredients = [
            generation_services.IngredientSpec(
                profile=profile_by_id_for_user(request.user, row["profile"]),
                cluster=row["cluster"],
                weight=row["weight"],
            )
            for row in data["ingredients"]
        ]
        if not ingredients:
            raise serializers.ValidationError({"ingredients": ["Choose at least one profile."]})
        board = ingredients[0].profile.board
        access.board_for_user(request.user, board.pk, need=Role.EDITOR)
        contents = []
        for image_id in data["content_images"]:
            image = access.image_by_id_for_user(request.user, image_id)
            field = image.display or image.original
            with field.open("rb") as fh:
                contents.append(
                    generation_services.ContentSpec(image.original_name, fh.read(), image)
                )
        generation = generation_services.generation_create(
            team=board.team, user=request.user, ingredients=ingredients, backend=data["backend"],
            strength=data["strength"], count=data["count"], cohesion=data["cohesion"],
            seed=data["seed"], prompt=data["prompt"], negative_prompt=data["negative_prompt"],
            contents=contents,
        )  # fmt: skip
        return _generation_accepted(generation, self.ctx())


def _generation_accepted(generation: Generation, context: dict) -> Response:
    generation.refresh_from_db()  # an eager task run (tests, scripts) may have finished it
    out = s.GenerationSerializer(generation, context=context).data
    return _accepted(out, out["status_url"])


class GenerationDetailView(ApiView):
    @api_schema(
        responses=s.GenerationSerializer,
        summary="A generation's recipe, progress and outputs with their fidelity",
    )
    def get(self, request, generation_id: int):
        generation, _ = generation_access.generation_for_user(request.user, generation_id)
        return Response(s.GenerationSerializer(generation, context=self.ctx()).data)


class GenerationRerunView(ApiView):
    @api_schema(
        request=None,
        responses={202: s.GenerationSerializer},
        summary="Run the same recipe and seed again (editors)",
    )
    def post(self, request, generation_id: int):
        generation, _ = generation_access.generation_for_user(
            request.user, generation_id, need=Role.EDITOR
        )
        again = generation_services.generation_rerun(generation=generation, user=request.user)
        return _generation_accepted(again, self.ctx())


class OutputUpscaleView(ApiView):
    @api_schema(
        request=None,
        responses={202: s.GenerationSerializer},
        summary="Upscale one output ×4 (editors): a new generation",
    )
    def post(self, request, generation_id: int, index: int):
        output, _ = generation_access.output_for_user(
            request.user, generation_id, index, need=Role.EDITOR
        )
        with output.file.open("rb") as fh:
            content = generation_services.ContentSpec(
                f"output {index + 1} of generation {generation_id}", fh.read()
            )
        job = generation_services.generation_create(
            team=output.generation.team, user=request.user, ingredients=[],
            backend=Backend.UPSCALE, contents=[content],
        )  # fmt: skip
        return _generation_accepted(job, self.ctx())


class OutputFileView(ApiView):
    renderer_classes = [JSONRenderer, PassthroughRenderer]

    @api_schema(
        parameters=[DOWNLOAD],
        responses={(200, t): OpenApiTypes.BINARY for t in ("image/jpeg", "image/png")},
        summary="Download one output image",
    )
    def get(self, request, generation_id: int, index: int):
        output, _ = generation_access.output_for_user(request.user, generation_id, index)
        ext = output.file.name.rsplit(".", 1)[-1]
        download = request.query_params.get("download", "").lower() in ("1", "true")
        return _file_response(
            output.file,
            "image/png" if ext == "png" else "image/jpeg",
            f"tastebase-{generation_id}-{index + 1}.{ext}",
            download=download,
        )


# --- the settings page: personal API tokens ----------------------------------------------------


@login_required
def tokens_page(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        token, secret = token_services.token_create(
            user=request.user, name=form.cleaned_data["name"]
        )
        # Rendered, not redirected: the secret is shown this once and never again.
        messages.success(request, f"Token “{token.name}” created. Copy it now.")
    ctx = {
        "form": TokenForm() if secret else form,
        "secret": secret,
        "tokens": request.user.api_tokens.order_by("revoked_at", "-created"),
    }
    response = render(request, "api/tokens.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    # Only your own tokens: anyone else's is "not found".
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token_services.token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked; it stops working now.")
    return redirect("api:tokens")


# --- the schema and its browsable docs (left out of the schema itself) -------------------------


class SchemaView(SpectacularAPIView):
    schema = None


class SwaggerView(SpectacularSwaggerView):
    schema = None


class RedocView(SpectacularRedocView):
    schema = None
