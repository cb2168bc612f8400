"""`manage.py generate` for scripts: a profile from a folder, outputs with fidelity."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image
from skimage.color import rgb2lab

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


def test_generate_auto_grades_a_photographic_board_and_says_why(tmp_path):
    # Real photos (tests/data/real) graded by a real LUT (colour-science's strong
    # orange cast): a photographic board, so auto grades, and the grade is warm.
    import bench.realdata as rd

    real = Path(__file__).resolve().parents[1] / "data" / "real"
    lut = rd.read_lut(
        rd.Item(
            "lut",
            "lut",
            "rgb",
            "colour-science",
            str(real / "lut" / "t-RGB_1_0.5_0.25.cube"),
            "tune",
        )
    )
    refs = tmp_path / "refs"
    refs.mkdir()
    for path in sorted((real / "photo").glob("*.jpg")) + sorted(
        (real / "photograph").glob("*.jpg")
    ):
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
        graded = np.clip(rd.apply_lut(lut, rgb), 0, 1)
        Image.fromarray((graded * 255 + 0.5).astype(np.uint8)).save(refs / path.name)
    content = tmp_path / "coffee.jpg"
    sample_image("coffee").save(content)
    out = StringIO()
    call_command(
        "generate", "--profile-from", str(refs), "--content", str(content), "--strength", "1",
        "--count", "1", "--out", str(tmp_path / "out"), stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert text.startswith("backend: grade (auto: the profile's medium is"), text
    assert "the taste changed colours by dE" in text
    with Image.open(tmp_path / "out" / "coffee-01.png") as image:
        assert image.size == (600, 400)  # the content's resolution
        after = rgb2lab(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0)
    before = rgb2lab(np.asarray(sample_image("coffee").convert("RGB"), dtype=np.float32) / 255.0)
    # Warmer: the board's orange. Only in part (b* +1.3 where the LUT adds far more):
    # fourteen photos from two collections leave the recovered grade shrunk toward none
    # (taste.grading.recover_grade), which on real boards is safer than believing it.
    assert after[..., 2].mean() > before[..., 2].mean() + 1


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
