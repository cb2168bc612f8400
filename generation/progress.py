"""Progress inside the slot a worker is rendering (an upscale's tiles), for the status
page: rows only count finished slots, so a one-image upscale would sit at 0 % for its
whole run. Kept in the shared cache (every web and worker process sees it); losing it
only makes the bar coarser."""

from __future__ import annotations

from django.core.cache import cache

TTL = 6 * 3600


def _key(generation_id: int) -> str:
    return f"generation-progress:{generation_id}"


def report(generation_id: int, index: int, done: int, total: int) -> None:
    cache.set(_key(generation_id), {"index": index, "done": done, "total": total}, TTL)


def current(generation_id: int) -> dict | None:
    """{"index", "done", "total"} of the slot being rendered, if a worker reported one."""
    value = cache.get(_key(generation_id))
    return value if isinstance(value, dict) else None


def clear(generation_id: int) -> None:
    cache.delete(_key(generation_id))
