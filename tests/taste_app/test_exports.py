"""Exports from a profile, as a user downloads them."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from taste import exports


@pytest.fixture(scope="module")
def profile(module_profile):
    """The two-look profile, built once for this module (tests/conftest.py)."""
    return module_profile


def _get(client, profile, name):
    return client.get(reverse("profile_export", args=[profile.board_id, profile.version, name]))


def test_prompt_text(client, carol, profile):
    client.force_login(carol)
    text = _get(client, profile, "prompt.txt").content.decode()
    assert text.startswith("Prompt: ") and "\nNegative prompt: " in text
    assert profile.data["keywords"][0]["term"] in text


def test_swatches_carry_the_palette(client, carol, profile):
    client.force_login(carol)
    ase = _get(client, profile, "palette.ase")
    assert ase.content[:4] == b"ASEF"
    assert "attachment" in ase["Content-Disposition"]
    gpl = _get(client, profile, "palette.gpl").content.decode()
    assert gpl.startswith("GIMP Palette")
    for colour in profile.data["palette"]:
        r, g, b = (int(colour["hex"][i : i + 2], 16) for i in (1, 3, 5))
        assert f"{r:3d} {g:3d} {b:3d}" in gpl or f"{r} {g} {b}" in gpl


def test_cube_lut_moves_colours_toward_the_profile(client, carol, profile):
    client.force_login(carol)
    text = _get(client, profile, "look.cube").content.decode()
    assert "LUT_3D_SIZE 33" in text
    lut = exports.read_cube(text)
    assert lut.shape == (33, 33, 33, 3)
    photo = np.asarray(
        Image.open(io.BytesIO(_get(client, profile, "lut-preview.jpg").content)).convert("RGB"),
        float,
    )
    half = (photo.shape[1] - 6) // 2
    before, after = photo[:, :half], photo[:, half + 6 :]
    assert np.abs(before - after).mean() > 2  # the LUT does something visible


@pytest.mark.parametrize("persona,expected", [("charlie", 404), ("carol", 200)])
def test_exports_follow_board_access(client, profile, persona, expected, request):
    client.force_login(request.getfixturevalue(persona))
    for name in ("prompt.txt", "palette.ase", "palette.gpl", "look.cube", "lut-preview.jpg"):
        assert _get(client, profile, name).status_code == expected


def test_unknown_export_is_404(client, carol, profile):
    client.force_login(carol)
    assert _get(client, profile, "secrets.env").status_code == 404
