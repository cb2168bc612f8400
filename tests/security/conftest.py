"""Fixtures for the security tests: one of everything, the URL conf as a list of
concrete URLs, and the production settings run in a separate process."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern

ROOT = Path(__file__).resolve().parents[2]


def walk_patterns(patterns=None, prefix: str = ""):
    """(route, URLPattern) for every view of the project, admin and API included.
    Routes keep their regex or `<converter:name>` placeholders."""
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        part = str(p.pattern)
        if isinstance(p.pattern, RegexPattern):
            part = part.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
        if isinstance(p, URLResolver):
            yield from walk_patterns(p.url_patterns, prefix + part)
        elif isinstance(p, URLPattern):
            yield prefix + part, p


# Values for URL parameters the admin and the catch-alls use (app ids come from `world`).
ADMIN_VALUES = {
    "app_label": "moodboards",
    "object_id": "1",
    "id": "1",
    "content_type_id": "1",
    "url": "nothing-here/",
    "path": "nothing-here",
}


def fill_route(route: str, values: dict) -> str:
    """A concrete URL for a route: placeholders filled from `values`, regex groups
    with a value their own regex accepts."""

    def named(match: re.Match) -> str:
        param = match.group(1).split(":")[-1]
        assert param in values, f"unknown URL parameter {param!r} in {route}: add it to `world`"
        return str(values[param])

    def group(match: re.Match) -> str:
        name, body = match.group(1), match.group(2)
        if name in values:
            return str(values[name])
        # An alternation of words (admin's app list): the first word.
        return body.split("|")[0]

    url = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, route)
    url = re.sub(r"<([^>]+)>", named, url)
    url = url.replace(".*", "nothing-here/")
    return "/" + url


@pytest.fixture(scope="module")
def world(world):
    """The shared world (tests/conftest.py, with its share link) plus the admin's values."""
    return {**world, **ADMIN_VALUES}


@pytest.fixture
def project_urls(world):
    """Every (route, url) of the URL conf, each URL checked to reach its own view."""
    urls = []
    for route, pattern in walk_patterns():
        url = fill_route(route, world)
        match = resolve(url.split("?")[0])
        assert match.func == pattern.callback, f"{url} does not reach the view of {route}"
        urls.append((route, url))
    return urls


# --- the production settings, in their own process ----------------------------------


@pytest.fixture(scope="session")
def production_env(tmp_path_factory):
    """The environment of a production deployment: nothing inherited from the test
    run's own Django/Tastebase settings, a fresh var dir, a long random secret key,
    HTTPS on."""

    def make(**extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "TASTEBASE_", "DATABASE_", "CELERY_", "CACHE_URL"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            TASTEBASE_VAR_DIR=str(tmp_path_factory.mktemp("var")),
            DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
            DJANGO_ALLOWED_HOSTS="example.com",
            DJANGO_DEBUG="0",
            TASTEBASE_HTTPS="1",
        )
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    return make


@pytest.fixture(scope="session")
def run_python():
    def run(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip

    return run


@pytest.fixture(scope="session")
def run_manage():
    def run(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=timeout,
        )  # fmt: skip

    return run
