"""The API's pages for people: personal tokens, the schema and its docs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from .. import services as token_services
from ..forms import TokenForm
from ..models import ApiToken

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


# The docs pages are third-party bundles (served from our own static files): they set
# inline styles and Redoc runs a web worker from a blob. Scripts stay 'self' only (the
# split Swagger view serves its start-up script as a file instead of inline).
DOCS_CSP = {"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}


class _DocsCSP:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response._csp_update = DOCS_CSP
        return response


class SwaggerView(_DocsCSP, SpectacularSwaggerSplitView):
    schema = None


class RedocView(_DocsCSP, SpectacularRedocView):
    schema = None
