import struct

import numpy as np
import pytest

from taste.exports import (
    NEUTRAL,
    ToneStats,
    apply_cube,
    build_lut,
    cube_text,
    palette_ase,
    palette_gpl,
    prompt_text,
    read_cube,
)

PALETTE = [
    {"hex": "#C8553D", "name": "terracotta", "share": 0.4},
    {"hex": "#2E4057", "name": "deep navy", "share": 0.35},
    {"hex": "#F2E8CF", "name": "crème", "share": 0.25},
]


def _tone(mean, std, quantiles):
    return {
        "lab_mean": mean,
        "lab_std": std,
        "l_quantiles": dict(zip(("p5", "p25", "p50", "p75", "p95"), quantiles, strict=True)),
    }


MONO = _tone([52, 0.3, 1.0], [24, 0.8, 1.2], [10, 32, 52, 72, 90])
WARM = _tone([55, 14, 30], [20, 10, 14], [12, 35, 56, 72, 88])


def _chroma_and_warmth(image):
    from skimage.color import rgb2lab

    lab = rgb2lab(np.asarray(image.convert("RGB")))
    return float(np.hypot(lab[..., 1], lab[..., 2]).mean()), float(
        lab[..., 2].mean() + lab[..., 1].mean()
    )


def test_prompt_text_dedupes_and_keeps_avoids_out_of_the_positive():
    pos, neg = prompt_text(
        ["muted", {"term": "film grain"}, "Muted", "soft, hazy light"], ["saturated", "film grain"]
    )
    assert pos == "muted, film grain, soft hazy light"
    assert neg == "saturated"


def test_ase_parses_back_with_names_and_colours():
    blob = palette_ase(PALETTE, group="Board")
    assert blob[:4] == b"ASEF" and struct.unpack(">HH", blob[4:8]) == (1, 0)
    (count,) = struct.unpack(">I", blob[8:12])
    pos, colours = 12, []
    for _ in range(count):
        kind, length = struct.unpack(">HI", blob[pos : pos + 6])
        body = blob[pos + 6 : pos + 6 + length]
        pos += 6 + length
        if kind != 0x0001:
            continue
        (n,) = struct.unpack(">H", body[:2])
        name = body[2 : 2 + 2 * n].decode("utf-16-be")
        assert name.endswith("\0")
        rest = body[2 + 2 * n :]
        assert rest[:4] == b"RGB "
        r, g, b, _kind = struct.unpack(">fffH", rest[4:18])
        colours.append((name[:-1], round(r * 255), round(g * 255), round(b * 255)))
    assert pos == len(blob) and count == 5  # group start, 3 colours, group end
    assert colours == [
        ("terracotta", 200, 85, 61),
        ("deep navy", 46, 64, 87),
        ("crème", 242, 232, 207),
    ]


def test_gpl_has_the_gimp_header_and_rows():
    text = palette_gpl(PALETTE, name="My board")
    lines = text.splitlines()
    assert lines[:3] == ["GIMP Palette", "Name: My board", "Columns: 3"]
    assert lines[4] == "200  85  61\tterracotta"


def test_bad_palette_is_refused():
    with pytest.raises(ValueError, match="hex"):
        palette_gpl([{"hex": "red", "name": "x"}])


def test_neutral_profile_gives_an_identity_lut():
    lut = build_lut(NEUTRAL, strength=1.0)
    grid = build_lut(NEUTRAL, strength=0.0)
    assert lut.shape == (33, 33, 33, 3)
    assert np.abs(lut - grid).max() < 2e-3
    assert grid[32, 0, 0].tolist() == [1.0, 0.0, 0.0]  # indexed [r, g, b]


def test_cube_file_order_and_round_trip():
    lut = build_lut(WARM)
    text = cube_text(lut, title='Warm "board"')
    lines = text.splitlines()
    assert lines[0] == "TITLE \"Warm 'board'\"" and "LUT_3D_SIZE 33" in lines
    rows = [ln for ln in lines if ln[0].isdigit()]
    assert len(rows) == 33**3
    identity = cube_text(build_lut(WARM, strength=0.0)).splitlines()[4:]
    assert identity[0] == "0.000000 0.000000 0.000000"
    assert identity[1] == "0.031250 0.000000 0.000000"  # red varies fastest
    assert identity[33] == "0.000000 0.031250 0.000000"
    np.testing.assert_allclose(read_cube(text), lut, atol=1e-6)


def test_monochrome_profile_desaturates_a_photo(coffee):
    before, _ = _chroma_and_warmth(coffee)
    after, _ = _chroma_and_warmth(apply_cube(coffee, build_lut(MONO, strength=1.0)))
    assert after < 0.15 * before


def test_warm_profile_warms_a_cool_photo(rocket):
    _, before = _chroma_and_warmth(rocket)
    _, after = _chroma_and_warmth(apply_cube(rocket, build_lut(WARM)))
    assert after > before + 10


def test_tone_curve_follows_a_matte_profile(chelsea):
    matte = _tone([55, 4, 8], [15, 10, 13], [28, 40, 55, 68, 80])  # lifted blacks
    lut = build_lut(matte, strength=1.0)
    black = lut[0, 0, 0]
    assert 0.15 < black.mean() < 0.4  # blacks lift to grey, not pinned at 0
    assert np.all(np.diff(lut[np.arange(33), np.arange(33), np.arange(33)].mean(1)) > 0)


def test_apply_cube_is_identity_for_the_identity_lut(astronaut):
    out = apply_cube(astronaut, build_lut(NEUTRAL, strength=0.0))
    assert np.abs(np.asarray(out, dtype=int) - np.asarray(astronaut, dtype=int)).max() <= 1


def test_tone_stats_validation():
    with pytest.raises(ValueError, match="quantiles"):
        ToneStats.from_profile({"lab_mean": [1, 2, 3], "lab_std": [1, 2, 3], "l_quantiles": [1, 2]})
    with pytest.raises(ValueError, match="strength"):
        build_lut(WARM, strength=2)
