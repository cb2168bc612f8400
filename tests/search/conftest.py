"""A small real library: alice's team board (pixel art + photographs, analysed), a second
team board of line art, and charlie's private board of paintings that nobody else sees.
Images are real third-party files from tests/data/real (see its LICENSES.md)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from moodboards import services
from moodboards.models import BoardImage
from taste import services as taste_services
from taste.search_index import reset_cache

REAL = Path(__file__).resolve().parent.parent / "data" / "real"


@pytest.fixture(autouse=True)
def _fresh_index():
    # The numpy index caches matrices per process; each test's rows are rolled back.
    reset_cache()
    yield
    reset_cache()


def upload(board, user, folder: str, capture) -> list[BoardImage]:
    added = []
    for path in sorted((REAL / folder).iterdir()):
        with capture(execute=True):
            result = services.board_add_image(
                board=board, user=user, name=path.name, data=path.read_bytes()
            )
        assert result.status == "added", result
        added.append(BoardImage.objects.get(pk=result.image_id))
    return added


def analyse(board, user):
    analysis = taste_services.analysis_start(board=board, user=user)
    return taste_services.analysis_run(analysis_id=analysis.pk).profile


@pytest.fixture
def library(team, alice, charlie, django_capture_on_commit_callbacks):
    cap = django_capture_on_commit_callbacks
    board = services.board_create(team=team, user=alice, title="Games and photos")
    pixel = upload(board, alice, "pixel_art", cap)
    photos = upload(board, alice, "photograph", cap)
    profile = analyse(board, alice)
    lines = services.board_create(team=team, user=alice, title="Line art")
    line_art = upload(lines, alice, "line_art", cap)
    private = services.board_create(team=charlie.personal_team, user=charlie, title="Mine")
    paintings = upload(private, charlie, "painting", cap)
    analyse(private, charlie)
    return SimpleNamespace(
        board=board,
        pixel=pixel,
        photos=photos,
        profile=profile,
        lines=lines,
        line_art=line_art,
        private=private,
        paintings=paintings,
    )
