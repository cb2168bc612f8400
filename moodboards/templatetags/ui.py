"""Small helpers for page templates: which navigation section a page is in."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

register = template.Library()

# First path segment -> navigation section; anything else belongs to "Boards".
_SECTIONS = {
    "generate": "generations",
    "generations": "generations",
    "api": "api",
    "status": "status",
    "search": "search",
}


@register.simple_tag
def nav_section(request: HttpRequest | None) -> str:
    """The section of the main navigation the current page belongs to."""
    if request is None:
        return ""
    first = request.path.strip("/").split("/", 1)[0]
    if first in ("login", "signup", "s"):
        return ""
    return _SECTIONS.get(first, "boards")
