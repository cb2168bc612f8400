"""The API: boards and their images."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from moodboards import access, services
from moodboards.models import Role
from moodboards.selectors import board_images, boards_for_user

from .. import serializers as s
from ..schema import api_schema
from ..throttling import TokenRateThrottle, UploadRateThrottle
from .base import (
    DOWNLOAD,
    IMAGE_TYPES,
    ApiListView,
    ApiView,
    PassthroughRenderer,
    file_response,
    int_param,
)

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
        team_id = int_param(self.request, "team")
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
        return file_response(field, content_type, f"{stem}.{ext}", download=download)
