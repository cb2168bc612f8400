"""Set up Django for a benchmark in a throw-away folder (its own SQLite DB and media)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(*, fresh_db: bool = True) -> Path:
    sys.path.insert(0, str(ROOT))
    var = Path(
        os.environ.setdefault("TASTEBASE_VAR_DIR", tempfile.mkdtemp(prefix="tastebase-bench-"))
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()
    if fresh_db:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    return var
