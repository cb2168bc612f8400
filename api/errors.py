"""One error body for every 4xx: {"error": {"code", "message", "details"?}}."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            return text if key == "non_field_errors" else f"{key}: {text}"
        return "The request is not valid."
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "The request is not valid."
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        # A service said no (empty board, unknown backend…): the user can fix it.
        exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, Http404):
        # The access helpers' 404: the same answer whether it doesn't exist or is hidden.
        exc = exceptions.NotFound(str(exc) if exc.args else None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) if exc.args else None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django log it and answer 500
    # DRF's default codes are already stable words (not_found, throttled, …).
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code = "validation_error"
    detail = getattr(exc, "detail", None)
    if isinstance(exc, exceptions.ValidationError):
        message = _first_message(detail)
        details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = error_body(code, message, details)
    else:
        response.data = error_body(code, _first_message(detail) if detail else str(exc))
    return response


@csrf_exempt  # it changes nothing; without this, unsafe methods got Django's HTML 403
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Unknown URLs under /api/ answer in JSON too, not with the HTML 404 page."""
    return JsonResponse(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)


def conflict(message: str) -> Response:
    return Response(error_body("conflict", message), status=status.HTTP_409_CONFLICT)
