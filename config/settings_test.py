"""Test settings: the same app, with a fast password hasher and throw-away media."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("TASTEBASE_VAR_DIR", tempfile.mkdtemp(prefix="tastebase-test-"))

from .env import env_bool
from .media import media_storage
from .settings import *  # noqa: F403
from .settings import DATABASES, STATIC_ROOT, VAR_DIR

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
DEBUG = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:", so a real worker process can open the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(VAR_DIR) / "test.sqlite3")}

# Serve static files straight from the source folders (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
