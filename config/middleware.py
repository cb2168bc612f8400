"""Project-wide middleware."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


class ServerTimingMiddleware:
    """Add `Server-Timing: app;dur=<ms>`: the time Django spent on the request.

    Placed first in MIDDLEWARE so the figure covers every other middleware too.
    Browsers show it in their network panel and load runs read it, which tells
    server time apart from time on the wire or in the client's queue. For a
    streamed file the figure stops when the response is ready, before the body is
    sent: sending is the server's (gunicorn's) share, not Django's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        start = time.perf_counter()
        response = self.get_response(request)
        entry = f"app;dur={(time.perf_counter() - start) * 1000:.1f}"
        # Keep any metric a view set itself; the header is a comma-separated list.
        earlier = response.get("Server-Timing")
        response["Server-Timing"] = f"{earlier}, {entry}" if earlier else entry
        return response
