"""A per-user rate limit on the shared cache, for page endpoints (the API uses DRF's
throttles).

Same bookkeeping as DRF's SimpleRateThrottle: the cache key `throttle_<scope>_<ident>`
holds the timestamps of recent requests, so a page and an API throttle with the same
scope (e.g. "uploads") count one budget together.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/min" -> (60, 60): requests, seconds."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period[0]]


def hit(scope: str, ident: object, rate: str | None) -> float | None:
    """Count a request; None when it may go ahead, else the seconds to wait."""
    if not rate:
        return None
    allowed, duration = parse_rate(rate)
    key = f"throttle_{scope}_{ident}"
    now = time.time()
    try:
        history = [t for t in cache.get(key, []) if t > now - duration]
        if len(history) >= allowed:
            return max(1.0, duration - (now - history[-1]))
        history.insert(0, now)
        cache.set(key, history, duration)
    except Exception:  # the shared cache is down: don't turn a blip into an outage
        log.warning("Rate limit cache unavailable; %s not limited", scope)
    return None
