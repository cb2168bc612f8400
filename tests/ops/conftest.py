"""Backups: a populated installation, what a user sees of it, and wiping it."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from generation import rendering as generation_rendering
from generation import services as generation_services
from generation.models import Generation, Output
from moodboards.models import Board, BoardImage
from taste import services as taste_services
from taste.models import TasteProfile

ROOT = Path(__file__).resolve().parents[2]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_sha(name: str) -> str:
    with default_storage.open(name, "rb") as fh:
        return sha(fh.read())


def command_env() -> dict[str, str]:
    """The environment an operator's shell would have: this test's database and media."""
    db = connection.settings_dict
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    env["TASTEBASE_VAR_DIR"] = str(settings.VAR_DIR)
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        env["DATABASE_URL"] = (
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


@pytest.fixture
def manage():
    """Run `manage.py ARGS` in a subprocess, the way an operator does."""

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=command_env(), capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    return run


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """A media folder of this test's own, so a backup holds only this test's files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def populated(media_root, board, alice, fill_board, add_image):
    """A board with processed images, a taste profile and a generation with outputs."""
    fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=4)
    analysis = taste_services.analysis_start(board=board, user=alice)
    profile = taste_services.analysis_run(analysis_id=analysis.pk).profile
    content = add_image(board, alice, "coffee")
    with content.display.open("rb") as fh:
        data = fh.read()
    generation = generation_services.generation_create(
        team=board.team,
        user=alice,
        ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        contents=[generation_services.ContentSpec("photo.jpg", data, content)],
        strength=1.0,
        count=2,
        cohesion=0.0,  # diverse: two different outputs of the one content image
        seed=3,
    )
    generation = generation_rendering.generation_run(generation_id=generation.pk)
    assert generation.outputs.exclude(file="").count() == 2
    return board, profile, generation


_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return _CSRF.sub(r'\1"', response.content.decode())


def served(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return sha(b"".join(response.streaming_content))


def _snapshot(client, user) -> dict:
    """Everything a user sees: rows, stored bytes, pages and the files the pages serve."""
    client.force_login(user)
    shot: dict = {
        "boards": list(Board.objects.order_by("pk").values()),
        "images": list(BoardImage.objects.order_by("pk").values()),
        "profiles": list(
            TasteProfile.objects.order_by("pk").values(
                "pk", "board_id", "version", "fingerprint", "data", "images", "changes"
            )
        ),
        "generations": list(Generation.objects.order_by("pk").values()),
        "outputs": list(Output.objects.order_by("pk").values()),
        "files": {},
        "pages": {},
        "served": {},
    }
    for image in BoardImage.objects.all():
        for f in (image.original, image.display, image.thumbnail):
            shot["files"][f.name] = stored_sha(f.name)
        for kind in ("thumb", "display"):
            url = reverse("image_file", args=[image.board_id, image.pk, kind])
            shot["served"][url] = served(client, url)
    for output in Output.objects.exclude(file=""):
        shot["files"][output.file.name] = stored_sha(output.file.name)
        url = reverse("output_file", args=[output.generation_id, output.index])
        shot["served"][url] = served(client, url)
    for board in Board.objects.all():
        shot["pages"][board.get_absolute_url()] = page(client, board.get_absolute_url())
    for profile in TasteProfile.objects.all():
        url = profile.get_absolute_url()
        shot["pages"][url] = page(client, url)
        json_url = reverse("profile_json", args=[profile.board_id, profile.version])
        shot["pages"][json_url] = page(client, json_url)
    for generation in Generation.objects.all():
        shot["pages"][generation.get_absolute_url()] = page(client, generation.get_absolute_url())
    return shot


@pytest.fixture
def take_snapshot():
    return _snapshot


@pytest.fixture
def page_text():
    """A page's HTML, without the per-request CSRF tokens."""
    return page


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


@pytest.fixture
def wipe():
    """Lose everything: the database's tables and the media. Put the schema back
    afterwards if a failing test left the database without one."""

    def run(*, bucket=None) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("DROP SCHEMA public CASCADE")
                cur.execute("CREATE SCHEMA public")
        else:
            connections.close_all()
            for suffix in ("", "-wal", "-shm"):
                Path(connection.settings_dict["NAME"] + suffix).unlink(missing_ok=True)
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
        if bucket is not None:
            bucket.objects.all().delete()
        assert "moodboards_board" not in _tables()

    yield run
    if "moodboards_board" not in _tables():
        call_command("migrate", verbosity=0)
