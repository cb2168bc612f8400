"""The API: generations, their outputs and reruns."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from generation import access as generation_access
from generation import services as generation_services
from generation.models import Generation
from generation.selectors import generations_for_user
from moodboards import access
from moodboards.models import Role
from taste.access import profile_by_ref_for_user

from .. import serializers as s
from ..schema import api_schema
from .base import (
    DOWNLOAD,
    ApiListView,
    ApiView,
    PassthroughRenderer,
    accepted,
    file_response,
    int_param,
)

# --- generations ---------------------------------------------------------------------------------

BOARD_FILTER = OpenApiParameter(
    "board", int, description="Only runs drawing on this board's profiles."
)
GEN_TEAM_FILTER = OpenApiParameter("team", int, description="Only runs of this team.")


class GenerationListView(ApiListView):
    serializer_class = s.GenerationSerializer

    def get_queryset(self):
        runs = generations_for_user(self.request.user)
        team_id = int_param(self.request, "team")
        board_id = int_param(self.request, "board")
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
        summary="Start a generation from a recipe (editors of the team it belongs to)",
        description=(
            "Every profile and image must be visible to you. The run belongs to `team` "
            "(default: the content images' team, else the first profile's), where you need "
            "the editor role (as on the Generate page); its members see the results. "
            "Answers 202 with `status_url` (also in `Location`); while it waits, `queue` "
            "says for what."
        ),
    )
    def post(self, request):
        body = s.GenerationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        ingredients = [
            generation_services.IngredientSpec(
                profile=profile_by_ref_for_user(
                    request.user, row.get("profile_code") or row["profile"]
                ),
                cluster=row["cluster"],
                weight=row["weight"],
            )
            for row in data["ingredients"]
        ]
        if not ingredients:
            raise serializers.ValidationError({"ingredients": ["Choose at least one profile."]})
        contents = [
            access.image_by_id_for_user(request.user, image_id)
            for image_id in data["content_images"]
        ]
        team = None
        if data["team"] is not None:
            team, _ = access.team_for_user(request.user, data["team"], need=Role.EDITOR)
        generation = generation_services.generation_create(
            user=request.user, team=team, ingredients=ingredients, backend=data["backend"],
            strength=data["strength"], count=data["count"], cohesion=data["cohesion"],
            seed=data["seed"], prompt=data["prompt"], negative_prompt=data["negative_prompt"],
            contents=contents, colour=data["colour"], tone=data["tone"], texture=data["texture"],
        )  # fmt: skip
        return _generation_accepted(generation, self.ctx())


def _generation_accepted(generation: Generation, context: dict) -> Response:
    generation.refresh_from_db()  # an eager task run (tests, scripts) may have finished it
    out = s.GenerationSerializer(generation, context=context).data
    return accepted(out, out["status_url"])


class GenerationDetailView(ApiView):
    @api_schema(
        responses=s.GenerationSerializer,
        summary="A generation's recipe, progress and outputs with their fidelity",
    )
    def get(self, request, generation_id: int):
        generation, _ = generation_access.generation_for_user(request.user, generation_id)
        return Response(s.GenerationSerializer(generation, context=self.ctx()).data)

    @api_schema(responses={204: None}, summary="Delete a generation and its images (editors)")
    def delete(self, request, generation_id: int):
        generation, _ = generation_access.generation_for_user(
            request.user, generation_id, need=Role.EDITOR
        )
        generation_services.generation_delete(generation=generation)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        job = generation_services.generation_upscale(user=request.user, source=output)
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
        return file_response(
            output.file,
            "image/png" if ext == "png" else "image/jpeg",
            f"tastebase-{generation_id}-{index + 1}.{ext}",
            download=download,
        )
