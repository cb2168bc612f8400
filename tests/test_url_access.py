"""Every URL of every app, generated from the URL conf, against an outsider and an
anonymous visitor.

A view that takes an object id and forgets its access helper answers 200 to
someone who must not see the object, and fails here. A new URL parameter this
file does not know fails too, so the map below grows with the URL conf.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver


def _routes(patterns=None, prefix: str = ""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


ROUTES = [
    (route, name)
    for route, name in _routes()
    # The admin has its own staff checks; the share-link URLs are public by design
    # (tested with wrong and revoked tokens in tests/moodboards/test_access_matrix.py).
    if not route.startswith(("admin/", "s/")) and "<" in route
]


def _fill(route: str, values: dict) -> str:
    def sub(match: re.Match) -> str:
        param = match.group(1).split(":")[-1]
        assert param in values, f"unknown URL parameter {param!r} in {route}: add it to `world`"
        return str(values[param])

    return "/" + re.sub(r"<([^>]+)>", sub, route)


def test_the_url_conf_has_object_urls_to_check():
    assert len(ROUTES) > 40


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[r for r, _ in ROUTES])
def test_an_outsider_can_reach_nothing(client, charlie, world, route, name):
    client.force_login(charlie)
    url = _fill(route, world)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (404, 405), (
            f"{method.upper()} {url} answered {response.status_code}"
        )


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[r for r, _ in ROUTES])
def test_an_anonymous_visitor_can_reach_nothing(client, world, route, name):
    url = _fill(route, world)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code == 302:
            assert "/login/" in response["Location"], url
        else:
            assert response.status_code in (401, 403, 404, 405), (
                f"{method.upper()} {url} answered {response.status_code}"
            )
