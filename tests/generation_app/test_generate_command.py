"""`manage.py generate` for scripts: a profile from a folder, outputs with fidelity."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
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


def test_generate_auto_grades_a_photographic_board_and_says_why(refs, tmp_path):
    # The rendered looks are not labelled with a medium yet: unknown counts as a photo
    # board, so auto grades; the output keeps the content's pixels where they were.
    content = tmp_path / "coffee.jpg"
    sample_image("coffee").save(content)
    out = StringIO()
    call_command(
        "generate", "--profile-from", str(refs), "--content", str(content), "--strength", "1",
        "--count", "1", "--out", str(tmp_path / "out"), stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert text.startswith("backend: grade (auto: the profile's medium is")
    assert "the taste changed colours by dE" in text
    with Image.open(tmp_path / "out" / "coffee-01.png") as image:
        rgb = image.convert("RGB")
        assert rgb.size == (600, 400)
        arr = np.asarray(rgb, dtype=np.float32)
    before = np.asarray(sample_image("coffee").convert("RGB"), dtype=np.float32)

    def colourfulness(a: np.ndarray) -> float:
        return float(np.abs(a - a.mean(axis=2, keepdims=True)).mean())

    # A monochrome board's grade drains colour (six pictures: the fit is shrunk, so
    # not all of it).
    assert colourfulness(arr) < 0.75 * colourfulness(before)


def test_generate_backend_stylize_is_a_choice(refs, tmp_path):
    content = tmp_path / "coffee.jpg"
    sample_image("coffee").save(content)
    out = StringIO()
    call_command(
        "generate", "--profile-from", str(refs), "--content", str(content), "--backend",
        "stylize", "--count", "1", "--out", str(tmp_path / "out"), "--json", stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    assert (result["backend"], result["backend_reason"]) == ("stylize", "chosen with --backend")
