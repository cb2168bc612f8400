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


def test_luts_are_the_recovered_grade_per_profile_and_sub_style(client, carol, profile):
    client.force_login(carol)
    assert profile.data["grade"]["board"]  # baked when the version was made
    board = exports.read_cube(_get(client, profile, "look.cube").content.decode())
    hald = _get(client, profile, "look-hald.png")
    assert hald["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(hald.content)) as im:
        assert im.size == (512, 512)
    # The Hald image and the .cube are the same grade: compare them at common colours.
    hald_lut = exports.read_hald(hald.content)
    probe = np.random.default_rng(0).random((500, 3)).astype(np.float32)
    via_hald = exports.apply_lut_array(probe, hald_lut)
    assert np.abs(via_hald - exports.apply_lut_array(probe, board)).mean() < 0.01
    # The mono sub-style's LUT drains colour more than the board's (half of it is pop).
    mono = next(
        i
        for i, c in enumerate(profile.data["clusters"])
        if "monochrome" in c["label"] or "black" in c["label"]
    )
    sub = exports.read_cube(_get(client, profile, f"look-s{mono + 1}.cube").content.decode())

    def chroma(lut):
        return float(np.abs(lut - lut.mean(-1, keepdims=True)).mean())

    assert chroma(sub) < chroma(board)


def test_lut_strength_is_a_choice_and_bad_values_say_why(client, carol, profile):
    client.force_login(carol)
    # The black-and-white sub-style's grade (the whole board's is faint: its two looks
    # pull opposite ways, see test_the_page_says_how_much_the_grade_does).
    mono = next(
        i
        for i, c in enumerate(profile.data["clusters"])
        if "monochrome" in c["label"] or "black" in c["label"]
    )
    url = reverse(
        "profile_export", args=[profile.board_id, profile.version, f"look-s{mono + 1}.cube"]
    )
    full = exports.read_cube(client.get(url).content.decode())
    none = exports.read_cube(client.get(url + "?strength=0").content.decode())
    ident = exports._identity_grid(33)
    assert np.abs(none - ident).max() < 2e-3
    assert np.abs(full - ident).mean() > 0.02  # full strength by default
    bad = client.get(url + "?strength=2")
    assert bad.status_code == 400 and b"strength" in bad.content
    assert client.get(url + "?strength=nan").status_code == 400
    missing = reverse("profile_export", args=[profile.board_id, profile.version, "look-s9.cube"])
    assert client.get(missing).status_code == 404


def test_the_page_says_how_much_the_grade_does(client, carol, profile, db):
    """Beside the LUT links the page says how strongly each recovered grade moves a
    photo; a grade shrunk to nothing says so, and why, instead of offering a LUT that
    quietly does nothing."""
    import base64

    from taste import grade_effect, grading
    from taste.models import TasteProfile

    client.force_login(carol)
    html = client.get(reverse("profile_detail", args=[profile.board_id, profile.version]))
    html = html.content.decode()
    grade = grading.ProfileGrade.from_dict(profile.data["grade"])
    # Black and white beside saturated pop: the two looks pull opposite ways, so the
    # board's one grade is faint while each sub-style's is clear or strong.
    assert grade_effect.grade_effect(grade.board.table(33)) < 1.0
    text = html.replace("&#x27;", "'")
    assert "grade is faint" in text and "each sub-style's LUT below carries its own" in text
    for index, sub in grade.clusters.items():
        effect = grade_effect.grade_effect(sub.table(33))
        assert effect >= 2  # clear or strong
        assert f"{grade_effect.effect_word(effect)} grade, {effect:.1f} ΔE" in html, index
    # Every gain at zero: what the shrink gives a board whose colours are just what its
    # pictures show.
    zero = base64.b64encode(bytes(grading.GRID**3 * 2)).decode("ascii")
    graded = profile.data["grade"]
    data = {
        **profile.data,
        "grade": {
            **graded,
            "board": {**graded["board"], "gain": zero},
            "clusters": {k: {**v, "gain": zero} for k, v in graded["clusters"].items()},
        },
    }
    faint = TasteProfile.objects.create(
        board_id=profile.board_id,
        version=profile.version + 50,
        encoder_id=profile.encoder_id,
        fingerprint="faint-grade",
        image_count=profile.image_count,
        data=data,
        images=profile.images,
    )
    html = client.get(reverse("profile_detail", args=[faint.board_id, faint.version])).content
    html = html.decode()
    assert "The board shows barely any colour grade" in html
    assert "it moves a photo by 0.0" in html and "could as well be what its pictures show" in html
