"""The API's base classes and small shared helpers."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter
from rest_framework import generics, parsers, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config import bounded
from moodboards.serving import serve_file

from ..authentication import ApiTokenAuthentication
from ..errors import api_exception_handler
from ..pagination import Pagination
from ..schema import TastebaseAutoSchema
from ..serializers import MAX_ID
from ..throttling import TokenRateThrottle


class JSONParser(parsers.JSONParser):
    """DRF's parser, bounded like the pages' JSON (config/bounded.py): a body nested
    deeper than TASTEBASE_MAX_JSON_DEPTH, NaN, Infinity or a number too large for a
    float (1e400) is the client's mistake, a 400 saying so, found before decoding."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            return bounded.parse_json(
                body,
                max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
                max_depth=settings.TASTEBASE_MAX_JSON_DEPTH,
            )
        except bounded.BadJSON as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


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


def int_param(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    field = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    try:
        return field.run_validation(value)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None


def accepted(data: dict, status_url: str) -> Response:
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": status_url})


def file_response(field, content_type: str, filename: str, *, download: bool) -> FileResponse:
    response = serve_file(field, filename, download=download)
    response["Content-Type"] = content_type
    return response


DOWNLOAD = OpenApiParameter("download", bool, description="true: as an attachment.")
IMAGE_TYPES = ("image/jpeg", "image/webp", "image/png")
