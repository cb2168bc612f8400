"""Rate limits: per user for token calls, stricter for uploads (any authentication).

Counts live in the shared cache, so every web process counts together. Rates come
from settings.TASTEBASE_API_RATES when set (tests lower them); defaults below.
"""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken

log = logging.getLogger(__name__)

DEFAULT_RATES = {"token": "600/min", "uploads": "60/min"}


class _Throttle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        rates = {**DEFAULT_RATES, **getattr(settings, "TASTEBASE_API_RATES", {})}
        return rates.get(self.scope)

    def allow_request(self, request, view) -> bool:
        # Read the rate on every call: settings may change (tests), and it's a dict lookup.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:
            # The shared cache (Redis) is down or restarting. Refusing every call
            # would turn a cache blip into an outage: let calls through, unlimited,
            # until it is back, and say so in the log.
            log.warning("Rate limit cache unavailable; %s calls not limited", self.scope)
            return True


class TokenRateThrottle(_Throttle):
    """Every call made with an API token counts against its user's budget."""

    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None  # the pages' own calls are not limited here
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class UploadRateThrottle(_Throttle):
    """Uploads cost disk and CPU: a separate, smaller budget, for sessions too."""

    scope = "uploads"

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        if not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
