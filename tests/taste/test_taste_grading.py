"""Grade recovery on real third-party photos and LUTs (tests/data/real, committed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab

import bench.realdata as rd
from taste import exports, grade_effect, grading

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def _photos() -> list[np.ndarray]:
    names = sorted((REAL / "photo").glob("*.jpg")) + sorted((REAL / "photograph").glob("*.jpg"))
    out = []
    for path in names:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((256, 256))
            out.append(np.asarray(im, dtype=np.float32) / 255.0)
    return out


def _lut(name: str) -> rd.Lut:
    entry = next(
        f for f in json.loads((REAL / "index.json").read_text())["files"] if f["file"] == name
    )
    # Committed files are already expanded: only the file-format op still applies.
    preprocess = tuple(p for p in entry["preprocess"] if p["op"] == "format")
    item = rd.Item(
        entry["manifest_id"],
        "lut",
        entry["label"],
        entry["source"],
        str(REAL / name),
        entry["split"],
        preprocess,
    )
    return rd.read_lut(item)


def _img(a: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def _de(a: np.ndarray, b: np.ndarray) -> float:
    return float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean())


@pytest.fixture(scope="module")
def photos():
    return _photos()


def _recover(board: list[np.ndarray]) -> np.ndarray:
    """The board's recovered grade as a 33³ table (what renders and the .cube use)."""
    return _grade(board).table(33)


def _grade(board: list[np.ndarray]) -> grading.Grade:
    return grading.recover_grade(
        [grading.lab_samples(_img(a), seed=i) for i, a in enumerate(board)]
    )


def test_a_hue_selective_grade_is_recovered_from_the_graded_board_alone(photos):
    # OBS's teal-lows / orange-highs: a split grade no global transfer can express.
    lut = _lut("lut/v-teal_lows_orange_highs.png")
    board, held = photos[:10], photos[10:]
    samples = [grading.lab_samples(_img(rd.apply_lut(lut, a)), seed=i) for i, a in enumerate(board)]
    truth = [rd.apply_lut(lut, h) for h in held]
    untouched = np.mean([_de(h, t) for h, t in zip(held, truth, strict=True)])

    def ratio(table: np.ndarray) -> float:
        cube = grading.rgb_table(table)
        error = [_de(rd.apply_lut(cube, h), t) for h, t in zip(held, truth, strict=True)]
        return float(np.mean(error) / untouched)

    fitted = grading.recover_grade(samples, shrink=False).table(33)
    assert ratio(fitted) < 0.8
    # Shadows go teal (b* down), highlights orange (b* up), as the true LUT does.
    grid = grading.grid_lab(fitted.shape[0])
    dark, light = fitted.shape[0] // 5, fitted.shape[0] * 4 // 5
    shift_dark = fitted[dark, dark, dark] - grid[dark, dark, dark]
    shift_light = fitted[light, light, light] - grid[light, light, light]
    assert shift_dark[2] < -1 and shift_light[2] > 3
    # Ten photos from two collections leave the fit unsure, so the profile's grade is
    # shrunk toward no grade (grading.shrink_gain): never worse than doing nothing.
    assert ratio(grading.recover_grade(samples).table(33)) < 1.0


def test_ungraded_photos_recover_close_to_no_grade(photos):
    # A board of plain photos has no grade: the fit must not paint its subjects in.
    plain = grading.rgb_table(_recover(photos[:10]))
    lut = _lut("lut/v-teal_lows_orange_highs.png")
    graded = grading.rgb_table(_recover([rd.apply_lut(lut, p) for p in photos[:10]]))
    moved = np.mean([_de(rd.apply_lut(plain, h), h) for h in photos[10:]])
    moved_by_a_grade = np.mean([_de(rd.apply_lut(graded, h), h) for h in photos[10:]])
    assert moved < 0.75 * moved_by_a_grade


def test_the_grade_is_smooth_no_banding(photos):
    # Along the grey axis the graded lightness rises without steps or reversals.
    lut = _lut("lut/v-blender_very_high_contrast.cube")
    table = _recover([rd.apply_lut(lut, p) for p in photos[:10]])
    grey_l = np.array([table[i, i, i, 0] for i in range(33)])
    steps = np.diff(grey_l)
    assert np.all(steps > -0.5)  # monotone (within the table's rounding)
    assert np.abs(np.diff(steps)).max() < 6  # no kinks that would band a gradient


def test_a_profile_keeps_its_grades_and_reads_them_back():
    images = {k: _img(p) for k, p in zip("abcdef", _photos()[:6], strict=False)}
    made = grading.profile_grade(
        images.get, list(images), [(0, ["a", "b", "c"]), (1, ["d", "e", "f"])], grain=2.5
    )
    back = grading.ProfileGrade.from_dict(made.to_dict())
    assert set(back.clusters) == {0, 1} and len(back.images) == 6
    assert np.abs(back.board.table(33) - made.board.table(33)).max() < 0.2  # int16 quantiles
    assert back.grain == 2.5 and back.for_cluster(1) is back.clusters[1]
    assert grading.ProfileGrade.from_dict({}) is None  # a version made before grades


def test_hald_export_round_trips_through_an_independent_reader(tmp_path, photos):
    lut = _lut("lut/t-RGB_1_0.5_0.25.cube")
    cube = exports.grade_rgb_lut(
        _grade([rd.apply_lut(lut, p) for p in photos[:8]]).table(64), size=64
    )
    path = tmp_path / "look.png"
    path.write_bytes(exports.hald_png(cube))
    with Image.open(path) as im:
        assert im.size == (512, 512)
    read = rd._read_hald_png(str(path)).table  # the dev set's own HaldCLUT reader
    assert np.abs(read - cube).max() <= 0.5 / 255 + 1e-6
    assert np.abs(exports.read_hald(path.read_bytes()) - read).max() < 1e-6


def test_export_strength_zero_is_identity_and_full_is_the_default(photos):
    table = _recover([rd.apply_lut(_lut("lut/t-RGB_1_0.5_0.25.cube"), p) for p in photos[:8]])
    ident = exports.grade_rgb_lut(table, strength=0.0)
    assert np.abs(ident - grading.rgb_grid(33)).max() < 2e-3
    full, half = exports.grade_rgb_lut(table), exports.grade_rgb_lut(table, strength=0.5)
    assert np.abs(full - ident).mean() > 1.5 * np.abs(half - ident).mean()
    with pytest.raises(ValueError, match="strength"):
        exports.grade_rgb_lut(table, strength=1.5)


def test_the_moments_model_carries_a_colour_matrix_and_tone_curve_exactly():
    # A symmetric 3x3 colour matrix (contrast, less chroma, b* that follows L*: warm
    # highlights and cool shadows) and an offset (a cast) in Lab: the linear
    # Monge-Kantorovich map that the moments fit finds is exactly that matrix, and its
    # stored form (rotation, linear 1-D maps, tone quantiles) survives the document.
    source = grading.prior()
    matrix = np.array([[1.1, 0.02, 0.12], [0.02, 0.7, 0.05], [0.12, 0.05, 0.8]])
    target = source @ matrix.T + np.array([3.0, 4.0, -6.0])
    fit = grading.fit_moments(source, target)
    colours = grading.grid_lab(9).reshape(-1, 3)
    want = colours @ matrix.T + np.array([3.0, 4.0, -6.0])
    assert np.abs(fit.apply(colours) - want).max() < 0.05
    stored = grading.Grade(fit, np.ones((grading.GRID,) * 3 + (2,), np.float32), smooth=0.0)
    back = grading.Grade.from_dict(stored.to_dict())
    assert np.abs(back.table(17) - stored.table(17)).max() < 0.1


def test_a_contrast_grade_is_recovered_better_than_the_transport_alone(photos):
    # Blender's very-high-contrast look is a tone curve: a board's pooled moments carry
    # it; a free transport spends its capacity on the board's subjects too.
    lut = _lut("lut/v-blender_very_high_contrast.cube")
    board, held = photos[:10], photos[10:]
    samples = [grading.lab_samples(_img(rd.apply_lut(lut, a)), seed=i) for i, a in enumerate(board)]
    truth = [rd.apply_lut(lut, h) for h in held]
    untouched = np.mean([_de(h, t) for h, t in zip(held, truth, strict=True)])

    def ratio(grade: grading.Grade) -> float:
        cube = grading.rgb_table(grade.table(33))
        error = [_de(rd.apply_lut(cube, h), t) for h, t in zip(held, truth, strict=True)]
        return float(np.mean(error) / untouched)

    default = grading.recover_grade(samples)
    assert not default.others  # the moments model alone (bench/grade.py sweep)
    assert ratio(default) < 0.9  # shrunk, on ten photos of two collections
    moments = grading.recover_grade(samples, shrink=False)
    transport = grading.recover_grade(samples, model="idt", shrink=False)
    # With the prior of four collections: 0.53 and 0.56 (with three, the transport was
    # above 0.6).
    assert ratio(moments) < 0.6
    assert ratio(moments) + 0.02 < ratio(transport)


def test_pictures_that_differ_only_in_what_they_show_carry_no_colour_matrix():
    # The same photographs with their mean colours pushed apart (a red subject here, a
    # blue one there) but every picture's own spread of colours kept: no grade changes
    # a spread, so the moments model, which reads each picture's own covariance, finds
    # none; the pooled covariance would read the pictures' spread as more saturation.
    images = grading.prior_images()[:12].astype(np.float64)
    rng = np.random.default_rng(0)
    offsets = rng.normal(0.0, 8.0, (len(images), 1, 3)) * np.array([0.0, 1.0, 1.0])
    offsets -= offsets.mean(0)  # the board's mean colour is the prior's
    fit = grading.fit_moments(images, images + offsets)
    colours = grading.grid_lab(9).reshape(-1, 3)
    chroma = np.hypot(*colours[:, 1:].T)
    moved = np.hypot(*fit.apply(colours)[:, 1:].T)
    assert np.abs(moved - chroma).mean() < 0.5
    pooled = grading.fit_moments(images.reshape(-1, 3), (images + offsets).reshape(-1, 3))
    assert np.abs(np.hypot(*pooled.apply(colours)[:, 1:].T) - chroma).mean() > 2.0


def test_a_grade_says_how_much_it_moves_real_photos(photos):
    # Identity moves nothing; draining colour moves ungraded photos a lot.
    identity = grading.grid_lab(17)
    assert grade_effect.grade_effect(identity) < 0.05
    assert grade_effect.effect_word(grade_effect.grade_effect(identity)) == "barely any"
    grey = identity.copy()
    grey[..., 1:] = 0.0
    assert grade_effect.grade_effect(grey) > 5
    assert grade_effect.effect_word(grade_effect.grade_effect(grey)) == "strong"
    # A recovered grade shrunk to nothing is, measured, nothing.
    samples = [grading.lab_samples(_img(a), seed=i) for i, a in enumerate(photos[:4])]
    fit = grading.recover_grade(samples)
    fit.gain[:] = 0.0
    assert grade_effect.grade_effect(fit.table(33)) < 0.05
