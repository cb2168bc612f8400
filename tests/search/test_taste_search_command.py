"""`manage.py taste_search`: the images of one folder, best first, by fit to another's taste."""

from __future__ import annotations

import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from .conftest import REAL


def _folder(tmp_path, name, *sources):
    out = tmp_path / name
    out.mkdir()
    for src in sources:
        for path in sorted((REAL / src).iterdir()):
            shutil.copy(path, out / f"{src}-{path.name}")
    return out


def test_it_ranks_the_references_medium_first(tmp_path, capsys):
    # Line art from one source (openclipart, tune split) as the taste; line art from
    # another (tuxpaint, validation split) among photographs and 3-D renders.
    refs = tmp_path / "refs"
    refs.mkdir()
    for path in sorted((REAL / "line_art").glob("t-*")):
        shutil.copy(path, refs / path.name)
    candidates = tmp_path / "rank"
    candidates.mkdir()
    for path in sorted((REAL / "line_art").glob("v-*")):
        shutil.copy(path, candidates / f"line-{path.name}")
    for folder in ("photograph", "render_3d"):
        for path in sorted((REAL / folder).iterdir()):
            shutil.copy(path, candidates / f"other-{path.name}")
    call_command("taste_search", "--profile-from", str(refs), "--rank", str(candidates), "--json")
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 15 and set(rows[0]) == {"path", "score"}
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert all("/line-" in r["path"] for r in rows[:2]), rows
    assert rows[0]["score"] > 0.5 > rows[-1]["score"]

    call_command(
        "taste_search", "--profile-from", str(refs), "--rank", str(candidates), "--top", "3",
        "--json",
    )  # fmt: skip
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_it_refuses_bad_folders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    refs = _folder(tmp_path, "refs", "line_art")
    with pytest.raises(CommandError):
        call_command("taste_search", "--profile-from", str(empty), "--rank", str(refs))
    with pytest.raises(CommandError):
        call_command("taste_search", "--profile-from", str(refs), "--rank", str(tmp_path / "nope"))
    with pytest.raises(CommandError):
        call_command(
            "taste_search", "--profile-from", str(refs), "--rank", str(refs), "--cluster", "50"
        )
