"""Test settings: the same app, with a fast password hasher and throw-away media."""

import os
import tempfile
from pathlib import Path

# pytest-xdist runs test processes side by side (PYTEST_XDIST_WORKER is gw0, gw1, …):
# each gets its own var dir (test database, media, filesystem broker) instead of the
# one it inherited from the controlling process. The workers and commands a test starts
# inherit TASTEBASE_TEST_VAR_WORKER, and keep the var dir they are given.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _XDIST_WORKER and os.environ.get("TASTEBASE_TEST_VAR_WORKER") != _XDIST_WORKER:
    os.environ["TASTEBASE_TEST_VAR_WORKER"] = _XDIST_WORKER
    os.environ["TASTEBASE_VAR_DIR"] = tempfile.mkdtemp(prefix=f"tastebase-test-{_XDIST_WORKER}-")
os.environ.setdefault("TASTEBASE_VAR_DIR", tempfile.mkdtemp(prefix="tastebase-test-"))

from .env import env_bool  # noqa: E402 (the var dir must be chosen first)
from .media import media_storage  # noqa: E402
from .settings import *  # noqa: E402, F403
from .settings import (  # noqa: E402
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CELERY_BROKER_URL,
    DATABASES,
    STATIC_ROOT,
    VAR_DIR,
)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    # Local disk, unless TASTEBASE_S3_BUCKET points the tests (and the workers they
    # start) at an S3-compatible server.
    # (Local disk is the production class too: atomic writes are part of what's tested.)
    "default": media_storage(),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Unit tests run tasks inline; tests marked `worker` start a real worker process.
# (A worker started by the tests sets CELERY_TASK_ALWAYS_EAGER=0 for itself.)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# Off unless a test turns it on (tests/taste_app/test_embed_on_upload.py): the worker
# tests time and kill analyses mid-embedding, which embedding on upload would pre-empt.
TASTEBASE_EMBED_ON_UPLOAD = env_bool("TASTEBASE_EMBED_ON_UPLOAD", False)
DEBUG = False

# On a shared Redis broker each test process also gets its own keys, so the workers
# one starts never take another's tasks.
if os.environ.get("TASTEBASE_TEST_VAR_WORKER") and CELERY_BROKER_URL.startswith(
    ("redis://", "rediss://")
):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": f"tests-{os.environ['TASTEBASE_TEST_VAR_WORKER']}:",
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:", so a real worker process can open the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(VAR_DIR) / "test.sqlite3")}

# Serve static files straight from the source folders (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
