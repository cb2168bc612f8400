"""Shared fixtures: fixed personas, boards, real sample images and a real worker.

Personas (healthchecks style): alice owns the team, bob is an editor, carol a
viewer, charlie an outsider with his own space.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection

from moodboards import services
from moodboards.models import Board, BoardImage, ImageStatus, Role, Team
from moodboards.samples import encode, sample_jpeg
from testkit.looks import make_board

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


# Left out of the quick lane (`make test-fast`): fuzzing, backups, subprocess servers,
# torch-built models and the 4x upscaler. `make test` runs them all.
SLOW = (
    "tests/fuzz/",
    "tests/ops/",
    "tests/security/test_https_server.py",
    "tests/security/test_deploy_settings.py",
    "tests/api/test_schemathesis.py",
    "tests/generation/test_generation_upscale.py",
    "tests/generation_diffusion/",
    "tests/generation_app/test_diffusion_generation.py",
    "tests/taste/test_taste_encoders.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The locmem cache lives as long as the test process: no test sees what another
    cached (exports are cached by profile id, and ids are reused after a rollback)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _persona(username: str):
    """The persona's account; the same one when a module's `world` made it already."""
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username=username).first()
    return existing or services.user_signup(
        username=username, email=f"{username}@example.com", password=PASSWORD
    )


@pytest.fixture
def make_user(db):
    return _persona


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def charlie(make_user):
    return make_user("charlie")


@pytest.fixture
def team(alice, bob, carol) -> Team:
    team = services.team_create(user=alice, name="Studio")
    # Directly, as if each had accepted an invitation (tests/security/test_consent.py).
    services.membership_add(team=team, user=bob, role=Role.EDITOR)
    services.membership_add(team=team, user=carol, role=Role.VIEWER)
    return team


@pytest.fixture
def board(team, alice) -> Board:
    return services.board_create(
        team=team, user=alice, title="Autumn campaign", description="Warm, grainy"
    )


@pytest.fixture
def add_image(django_capture_on_commit_callbacks):
    """Add a sample photo through the upload service and run its processing task."""

    def add(board: Board, user, sample: str = "coffee", *, name: str | None = None) -> BoardImage:
        with django_capture_on_commit_callbacks(execute=True):
            result = services.board_add_image(
                board=board, user=user, name=name or f"{sample}.jpg", data=sample_jpeg(sample)
            )
        assert result.status == "added", result
        return BoardImage.objects.get(pk=result.image_id)

    return add


@pytest.fixture
def image(board, alice, add_image) -> BoardImage:
    return add_image(board, alice, "coffee")


@functools.cache
def _look_jpegs(looks: tuple[str, ...], per_look: int, seed: int) -> tuple[tuple[str, bytes], ...]:
    """(file name, JPEG bytes) of rendered looks: rendered once per test process, since many
    tests upload the same boards."""
    return tuple(
        (item.key.replace(".png", ".jpg"), encode(item.image, "JPEG", quality=92))
        for item in make_board(looks, per_look, seed=seed)
    )


@pytest.fixture
def fill_board(django_capture_on_commit_callbacks):
    """Put rendered look images on a board through the real upload path."""

    def fill(
        board, user, looks=("mono_contrast", "warm_film"), per_look=6, seed=0
    ) -> list[BoardImage]:
        added = []
        for name, data in _look_jpegs(tuple(looks), per_look, seed):
            with django_capture_on_commit_callbacks(execute=True):
                result = services.board_add_image(board=board, user=user, name=name, data=data)
            if result.status == "added":
                added.append(BoardImage.objects.get(pk=result.image_id))
        return added

    return fill


@pytest.fixture
def profile(board, alice, fill_board):
    """A two-look profile of the team board (mono high contrast + saturated pop)."""
    fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=5)
    from taste import services as taste_services

    analysis = taste_services.analysis_start(board=board, user=alice)
    return taste_services.analysis_run(analysis_id=analysis.pk).profile


@pytest.fixture
def model_settings(monkeypatch, settings):
    """Set a model-related setting as an operator would: in this process's settings,
    and in the environment that the workers and servers a test starts inherit (they
    read it in config/settings.py). None unsets it."""

    def set_(name: str, value: object) -> None:
        monkeypatch.delenv(f"{name}_FILE", raising=False)
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value))
        setattr(settings, name, value)

    return set_


@pytest.fixture(scope="session")
def coffee():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.coffee())  # 600x400, warm and colourful


@pytest.fixture(scope="session")
def rocket():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.rocket())  # 640x427, cool night scene


@pytest.fixture(scope="session")
def astronaut():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.astronaut())  # 512x512, saturated primaries


@pytest.fixture(scope="session")
def chelsea():
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.chelsea())  # 451x300


# --- a real Celery worker process -----------------------------------------------------


def _worker_env() -> dict[str, str]:
    """Point the worker at the test database, media and broker of this test process."""
    db = connection.settings_dict
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    env["TASTEBASE_VAR_DIR"] = str(settings.VAR_DIR)
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    # Small embedding batches: progress moves often enough for a test to stop a
    # worker half-way through an analysis.
    env["TASTEBASE_EMBED_BATCH"] = "4"
    # Short leases: a killed worker's work is re-sent within seconds, not minutes.
    env.setdefault("TASTEBASE_LEASE_SECONDS", "6")
    env.setdefault("TASTEBASE_SWEEP_SECONDS", "1")
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        env["DATABASE_URL"] = (
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    return env


@pytest.fixture
def start_worker(transactional_db, settings):
    """Start `celery worker` processes (both queues by default); stopped afterwards."""
    from config.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    procs: list[subprocess.Popen] = []

    def start(queues: str = "default,ml", name: str = "w", pool: str = "solo") -> subprocess.Popen:
        log_path = Path(settings.VAR_DIR) / f"worker-{name}-{time.time_ns()}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues,
                 "-c", "1", "--pool", pool, "-l", "info", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "-n", f"{name}-{os.getpid()}-{len(procs)}@%h"],
                cwd=ROOT, env=_worker_env(), stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        procs.append(proc)
        proc.log_path = log_path  # type: ignore[attr-defined]
        _wait_for(lambda: b"ready" in log_path.read_bytes(), timeout=60,
                  what="the worker to start", proc=proc, log=log_path)  # fmt: skip
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    app.conf.task_always_eager = True


@pytest.fixture
def celery_worker_process(start_worker) -> subprocess.Popen:
    return start_worker()


def _wait_for(
    check, *, timeout: float, what: str, proc=None, log: Path | None = None, poll: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(poll)
    detail = log.read_text(errors="replace")[-3000:] if log else ""
    raise AssertionError(f"Timed out waiting for {what}.\n{detail}")


@pytest.fixture
def wait_for():
    return _wait_for


@pytest.fixture
def wait_until_ready():
    def wait(image_ids: list[int], timeout: float = 60) -> None:
        _wait_for(
            lambda: (
                not BoardImage.objects.filter(
                    pk__in=image_ids, status=ImageStatus.PROCESSING
                ).exists()
            ),
            timeout=timeout,
            what=f"images {image_ids} to be processed",
        )

    return wait


def _module_data(django_db_blocker, build):
    """Data built once per test module, inside a transaction rolled back when the module is
    done, as Django's TestCase.setUpTestData does: each test runs in its own savepoint on
    top of it, so nothing a test changes reaches the next one. Only for tests on the
    default `db` fixture (a real worker process can't see uncommitted rows), and the
    fixture must be in the test's signature or usefixtures (made before the test's own
    transaction), never fetched with request.getfixturevalue inside the test."""
    from django.db import transaction
    from django.test import TestCase

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                value = build()
            yield value
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _fill(board: Board, user, looks: tuple[str, ...], per_look: int, seed: int = 0) -> None:
    """Rendered looks on a board through the upload service, processed at once (inside a
    module's data no on-commit task has run yet)."""
    for name, data in _look_jpegs(tuple(looks), per_look, seed):
        services.board_add_image(board=board, user=user, name=name, data=data)
    for pk in board.images.filter(status=ImageStatus.PROCESSING).values_list("pk", flat=True):
        services.image_process(image_id=pk)


def _studio() -> tuple[Team, Board]:
    """alice's team Studio (bob edits, carol views) and its board, as the fixtures make."""
    alice = _persona("alice")

    team = services.team_create(user=alice, name="Studio")
    services.membership_add(team=team, user=_persona("bob"), role=Role.EDITOR)
    services.membership_add(team=team, user=_persona("carol"), role=Role.VIEWER)
    return team, services.board_create(team=team, user=alice, title="Autumn campaign")


@pytest.fixture(scope="session")
def builders(django_db_blocker) -> SimpleNamespace:
    """The helpers module-scoped data is made with, for test modules' own fixtures:
    `yield from builders.module_data(build)`, `builders.fill(board, user, looks, n)`."""
    return SimpleNamespace(
        module_data=lambda build: _module_data(django_db_blocker, build),
        fill=_fill,
        persona=_persona,
        studio=_studio,
        studio_board=lambda *, team_id, title: services.board_create(
            team=Team.objects.get(pk=team_id), user=_persona("alice"), title=title
        ),
    )


@pytest.fixture(scope="module")
def module_studio(django_db_setup, django_db_blocker):
    """alice's team, its board and a processed photo on it, built once for a module (see
    _module_data). A module opts in by returning these from its own team/board/image
    fixtures (`studio_team`, `studio_board`, `studio_image` below)."""

    def build():
        team, board = _studio()
        result = services.board_add_image(
            board=board, user=_persona("alice"), name="coffee.jpg", data=sample_jpeg("coffee")
        )
        services.image_process(image_id=result.image_id)
        return {"team": team.pk, "board": board.pk, "image": result.image_id}

    yield from _module_data(django_db_blocker, build)


@pytest.fixture
def studio_team(module_studio) -> Team:
    return Team.objects.get(pk=module_studio["team"])


@pytest.fixture
def studio_board(module_studio) -> Board:
    return Board.objects.get(pk=module_studio["board"])


@pytest.fixture
def studio_image(module_studio) -> BoardImage:
    return BoardImage.objects.get(pk=module_studio["image"])


@pytest.fixture(scope="module")
def module_profile(django_db_setup, django_db_blocker):
    """The `profile` fixture's two-look profile, built once for a module (see _module_data).
    A module opts in with `profile = module_profile` style aliasing."""

    def build():
        from taste import services as taste_services

        _team, board = _studio()
        alice = _persona("alice")
        _fill(board, alice, ("mono_contrast", "saturated_pop"), 5)
        analysis = taste_services.analysis_start(board=board, user=alice)
        return taste_services.analysis_run(analysis_id=analysis.pk).profile

    yield from _module_data(django_db_blocker, build)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """One of everything in alice's team, by URL parameter name: images, a profile, a
    generation, an API token, a share link. The URL-conf walks (access, CSRF, served
    files) fill every route's parameters from it. Built once per module (an analysis and
    a generation are the slow part; see _module_data); the personas it creates are the
    same users the `alice`/`bob` fixtures return."""
    yield from _module_data(django_db_blocker, _build_world)


def _build_world() -> dict:
    from api import services as token_services
    from generation import rendering as generation_rendering
    from generation import services as generation_services
    from taste import services as taste_services

    team, board = _studio()
    alice, bob = _persona("alice"), _persona("bob")
    _fill(board, alice, ("mono_contrast", "warm_film"), 2)
    result = services.board_add_image(
        board=board, user=alice, name="coffee.jpg", data=sample_jpeg("coffee")
    )
    image = BoardImage.objects.get(pk=result.image_id)
    services.image_process(image_id=image.pk)  # what the eager task did at upload
    analysis = taste_services.analysis_start(board=board, user=alice)
    profile = taste_services.analysis_run(analysis_id=analysis.pk).profile
    generation = generation_services.generation_create(
        user=alice, ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        count=1, contents=[image],
    )  # fmt: skip
    generation_rendering.generation_run(generation_id=generation.pk)
    token, secret = token_services.token_create(user=alice, name="alice's script")
    shared = services.board_share_enable(board=board)
    _persona("dave")  # invited, not a member: the URL walks need an invitation id
    invitation = services.team_invite(team=team, identifier="dave", role=Role.VIEWER)
    return {
        "board_id": board.pk,
        "image_id": image.pk,
        "team_id": team.pk,
        "membership_id": team.memberships.get(user=bob).pk,
        "analysis_id": analysis.pk,
        "version": profile.version,
        "ref": profile.code,
        "generation_id": generation.pk,
        "index": 0,
        "kind": "thumb",
        "name": "look.cube",
        "token_id": token.pk,
        "api_secret": secret,
        "token": shared.share_token,
        "invitation_id": invitation.pk,
    }
