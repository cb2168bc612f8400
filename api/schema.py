"""OpenAPI details: the token scheme and the error responses every operation can give."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema

from .serializers import ErrorSerializer


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from /api/tokens/: `Authorization: Bearer tb_…`",
        }


ERROR_STATUSES = {
    "400": "The request is not valid; `details` names the fields.",
    "401": "No credentials, or a token that is wrong or revoked.",
    "403": "Your role in the team is too low for this.",
    "404": "Not found, or not visible to you.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "415": "Unsupported media type.",
    "429": "Too many requests; see the Retry-After header.",
}


class TastebaseAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error = self._get_response_for_code(ErrorSerializer, "400", direction=direction)
        for code, description in ERROR_STATUSES.items():
            if code not in responses:
                responses[code] = {**error, "description": description}
        if "429" in responses:
            responses["429"]["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
            }
        return responses


def api_schema(**kwargs):
    """`extend_schema` on top of TastebaseAutoSchema, whatever DEFAULT_SCHEMA_CLASS says."""

    def decorator(f):
        f.schema = TastebaseAutoSchema
        return extend_schema(**kwargs)(f)

    return decorator
