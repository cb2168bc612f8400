"""The API: analyses, taste profile versions and their exports."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import http_date, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from moodboards import access
from moodboards.models import Role
from moodboards.serving import as_file
from taste import selectors as taste_selectors
from taste import services as taste_services
from taste.access import analysis_for_user, profile_for_user
from taste.exports import EXPORTS, export_type, sub_style_of

from .. import selectors
from .. import serializers as s
from ..schema import api_schema
from .base import (
    ApiListView,
    ApiView,
    PassthroughRenderer,
    accepted,
)

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
        return accepted(data, data["status_url"])


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
        media_type = export_type(name)
        sub_style = sub_style_of(name)
        if media_type is None or (
            sub_style is not None and not profile.document.has_sub_style(sub_style)
        ):
            raise NotFound(
                f"Exports are: {', '.join(sorted(EXPORTS))}, and look-sN.cube / "
                "look-sN-hald.png for sub-style N."
            )
        body = taste_selectors.profile_export(profile, name)
        response = HttpResponse(body, content_type=media_type)
        as_file(response, taste_selectors.profile_export_filename(profile, name), download=True)
        response["ETag"] = quote_etag(f"{profile.pk}-{profile.fingerprint[:24]}-{name}")
        return response
