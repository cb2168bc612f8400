"""Project-wide middleware."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class ServerTimingMiddleware:
    """Add `Server-Timing: app;dur=<ms>`: the time Django spent on the request, when
    `TASTEBASE_SERVER_TIMING` is on.

    Placed first in MIDDLEWARE so the figure covers every other middleware too.
    Browsers show it in their network panel and load runs read it, which tells
    server time apart from time on the wire or in the client's queue. For a
    streamed file the figure stops when the response is ready, before the body is
    sent: sending is the server's (gunicorn's) share, not Django's.

    Off by default: a precise server time is also an oracle (a 404 for an object that
    exists but is hidden costs a database query more than one for an id that doesn't),
    so only operators and load runs turn it on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not getattr(settings, "TASTEBASE_SERVER_TIMING", False):
            return self.get_response(request)
        start = time.perf_counter()
        response = self.get_response(request)
        entry = f"app;dur={(time.perf_counter() - start) * 1000:.1f}"
        # Keep any metric a view set itself; the header is a comma-separated list.
        earlier = response.get("Server-Timing")
        response["Server-Timing"] = f"{earlier}, {entry}" if earlier else entry
        return response
