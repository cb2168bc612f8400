"""The client's IP address, for the login lockout (django-axes).

Behind a reverse proxy REMOTE_ADDR is the proxy's address, so every visitor would
share one lockout counter. X-Forwarded-For can't simply be trusted either: a client
sends whatever it likes in it. Each proxy *appends* the address it saw, so with N
proxies we control in front of the app the Nth entry from the right is the one our
outermost proxy wrote, and everything left of it is the client's own claim.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the address our outermost proxy saw when
    TASTEBASE_TRUSTED_PROXIES (the number of proxies in front of the app) is set."""
    proxies = getattr(settings, "TASTEBASE_TRUSTED_PROXIES", 0)
    remote = request.META.get("REMOTE_ADDR")
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        # The request did not come through all our proxies (someone reached the app
        # directly): the address we can see is the only one we can vouch for.
        return remote
    return forwarded[-proxies]
