"""`manage.py generate` for scripts: a profile from a folder, outputs with fidelity."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from moodboards.samples import sample_image
from testkit.looks import make_board


@pytest.fixture
def refs(tmp_path):
    folder = tmp_path / "refs"
    folder.mkdir()
    for item in make_board(["mono_contrast"], 6):
        item.image.save(folder / item.key)
    return folder


def test_generate_prints_paths_and_fidelity(refs, tmp_path):
    content = tmp_path / "coffee.jpg"
    sample_image("coffee").save(content)
    out = StringIO()
    call_command(
        "generate", "--profile-from", str(refs), "--content", str(content), "--strength", "1",
        "--count", "2", "--cohesion", "0.5", "--seed", "4", "--out", str(tmp_path / "out"), "--json",
        stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    assert len(result["outputs"]) == 2
    for item in result["outputs"]:
        with Image.open(item["path"]) as image:
            assert image.size == (600, 400)  # the content's resolution
        assert item["fidelity"] > item["content_fidelity"]  # a monochrome taste was added
    assert "monochrome" in result["profile"]["summary"]


def test_generate_refuses_a_missing_content_image(refs, tmp_path):
    with pytest.raises(CommandError, match="not a readable image"):
        call_command(
            "generate",
            "--profile-from",
            str(refs),
            "--content",
            str(tmp_path / "nope.jpg"),
            "--out",
            str(tmp_path),
        )


def test_generate_refuses_bad_numbers(refs, tmp_path):
    with pytest.raises(CommandError, match="between 0 and 1"):
        call_command(
            "generate",
            "--profile-from",
            str(refs),
            "--content",
            "x.jpg",
            "--strength",
            "3",
            "--out",
            str(tmp_path),
        )
