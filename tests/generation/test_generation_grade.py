"""The grade backend on real photos: no structural change, perceptually linear strength,
separate colour / tone / texture sliders, measured grain only, batches that vary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import structural_similarity

import bench.realdata as rd
from generation.grade import GradeSliders, Look, choose_backend, grade, plan_from, preview
from taste import grading
from taste.document import TasteProfileData


def _arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _de(a: Image.Image, b: Image.Image) -> float:
    return float(deltaE_ciede2000(rgb2lab(_arr(a)), rgb2lab(_arr(b))).mean())


REAL_LUT = Path(__file__).resolve().parents[1] / "data" / "real" / "lut"


@pytest.fixture(scope="module")
def look() -> Look:
    """The grade recovered from real photos graded by a real LUT (OBS's teal lows /
    orange highs, committed in tests/data/real)."""
    item = rd.Item("lut/obs-studio/teal-lows-orange-highs", "lut", "teal_lows_orange_highs",
                   "obs-studio", str(REAL_LUT / "v-teal_lows_orange_highs.png"), "validation",
                   ({"op": "format", "format": "square_png_8x8"},))  # fmt: skip
    lut = rd.read_lut(item)
    board = []
    for name in ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"):
        graded = rd.apply_lut(lut, _arr(Image.fromarray(getattr(data, name)())))
        board.append(Image.fromarray((np.clip(graded, 0, 1) * 255 + 0.5).astype(np.uint8)))
    # Unshrunk: these tests are about the backend's sliders, so they want a grade that
    # moves both tone and colour visibly; five photos' shrunk grade is rightly timid.
    samples = [grading.lab_samples(b, seed=i) for i, b in enumerate(board)]
    grade = grading.recover_grade(samples, shrink=False)
    return Look(grade.table(33), grain=0.0)


def test_strength_zero_returns_the_content(look, coffee):
    out = grade(coffee, look, GradeSliders(strength=0.0))
    assert out.size == coffee.size
    assert _de(out, coffee) < 1.5


def test_strength_is_perceptually_linear(look, coffee):
    levels = np.linspace(0, 1, 6)
    d = np.array(
        [_de(grade(coffee, look, GradeSliders(strength=float(s))), coffee) for s in levels]
    )
    assert np.all(np.diff(d) > 0)  # grows steadily
    fit = np.polyfit(levels, d, 1)
    r2 = 1 - np.var(d - np.polyval(fit, levels)) / np.var(d)
    assert r2 >= 0.9
    assert d[-1] > 1.0  # and the full grade is a visible one


def test_no_structural_change_at_full_resolution(look, astronaut):
    big = astronaut.resize((1024, 1024), Image.Resampling.BICUBIC)
    out = grade(big, look, GradeSliders())
    assert out.size == big.size
    ssim = structural_similarity(
        rgb2lab(_arr(out))[..., 0], rgb2lab(_arr(big))[..., 0], data_range=100.0
    )
    assert ssim > 0.9  # a colour grade, not a repainting


def test_colour_and_tone_sliders_are_separate(look, coffee):
    lab = rgb2lab(_arr(coffee))
    tone_only = rgb2lab(_arr(grade(coffee, look, GradeSliders(colour=0.0))))
    colour_only = rgb2lab(_arr(grade(coffee, look, GradeSliders(tone=0.0))))
    # colour 0 keeps the chroma where it was and still changes lightness; tone 0 the reverse
    assert (
        np.abs(tone_only[..., 1:] - lab[..., 1:]).mean()
        < 0.35 * np.abs(colour_only[..., 1:] - lab[..., 1:]).mean()
    )
    assert (
        np.abs(colour_only[..., 0] - lab[..., 0]).mean()
        < 0.35 * np.abs(tone_only[..., 0] - lab[..., 0]).mean()
    )


def test_grain_is_added_only_when_the_board_has_more_than_the_content(look, coffee):
    clean = grade(coffee, look, GradeSliders())
    grainy = grade(coffee, Look(look.table, grain=6.0), GradeSliders(), seed=1)
    assert grading.noise_sigma(grainy) > grading.noise_sigma(clean) + 2
    none = grade(coffee, Look(look.table, grain=6.0), GradeSliders(texture=0.0), seed=1)
    assert np.array_equal(np.asarray(none), np.asarray(clean))
    again = grade(coffee, Look(look.table, grain=6.0), GradeSliders(), seed=1)
    assert np.array_equal(np.asarray(again), np.asarray(grainy))  # seeded: reproducible


def test_a_diverse_batch_varies_and_a_cohesive_one_does_not(look, coffee):
    # The board's own per-image grades, as analysis keeps them.
    pictures = {n: Image.fromarray(getattr(data, n)()) for n in ("chelsea", "rocket", "astronaut")}
    kept = grading.profile_grade(pictures.get, list(pictures))
    images = [Look(g.table(33)) for _, g in kept.images]
    diverse = plan_from([look], [1.0], images, count=4, cohesion=0.0, seed=0)
    shots = [grade(coffee, lk, GradeSliders()) for lk in diverse]
    pairwise = [_de(shots[i], shots[j]) for i in range(4) for j in range(i + 1, 4)]
    assert min(pairwise) > 0.5  # no two alike
    assert np.mean(pairwise) > 2.0
    cohesive = plan_from([look], [1.0], images, count=2, cohesion=1.0, seed=0)
    assert cohesive[0] is cohesive[1]


def test_preview_is_small_and_refuses_bad_sliders(look, coffee):
    assert max(preview(coffee, look, GradeSliders(), side=200).size) == 200
    with pytest.raises(ValueError, match="colour"):
        GradeSliders(colour=1.5)


def _doc(medium: str, grade: dict) -> TasteProfileData:
    tone = {
        "lab_mean": [50, 0, 0],
        "lab_std": [20, 5, 5],
        "l_quantiles": {"p5": 5, "p25": 30, "p50": 50, "p75": 70, "p95": 95},
    }
    return TasteProfileData.from_dict({
        "version": 1, "encoder_id": "x", "n_images": 1, "clusters": [], "outliers": [], "keywords": [],
        "avoids": [], "palette": [], "tone": tone, "summary": "", "map": [], "coherence": 1, "method": "",
        "medium": medium, "grade": grade,
    })  # fmt: skip


def test_auto_grades_a_board_of_black_and_white_photographs():
    """Real B&W photographs (tests/data/real/photograph_bw, tuning and validation
    packages), analysed as a board: the profile's medium is photograph, so `auto` grades
    them instead of taking the painterly path (it stylized them as paintings/line art)."""
    from taste.profile import analyze_pil_images

    folder = Path(__file__).resolve().parents[1] / "data" / "real" / "photograph_bw"
    images = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as im:
            images.append((path.stem, im.convert("RGB")))
    assert len(images) >= 4
    profile = analyze_pil_images(images)
    backend, why = choose_backend([(profile, None, 1.0)])
    assert backend == "grade", why
    assert "photograph" in why


def test_auto_grades_photographs_and_stylizes_paintings(look):
    board = grading.recover_grade([grading.lab_samples(Image.fromarray(data.coffee()))])
    grade_dict = grading.ProfileGrade(board=board).to_dict()
    assert choose_backend([(_doc("photograph", grade_dict), None, 1.0)])[0] == "grade"
    backend, why = choose_backend([(_doc("", grade_dict), None, 1.0)])
    assert backend == "grade" and "unknown" in why
    backend, why = choose_backend([(_doc("digital painting", grade_dict), None, 1.0)])
    assert backend == "stylize" and "digital painting" in why
    backend, why = choose_backend([(_doc("photograph", {}), None, 1.0)])
    assert backend == "stylize" and "before grade recovery" in why


def test_strength_is_linear_in_colour_difference_for_a_strong_grade(coffee):
    # A strong fade (contrast and chroma cut by two thirds): CIEDE2000 compresses large
    # differences, so a displacement scaled by strength would make half strength look
    # like most of the grade. The backend maps strength onto the displacement so that
    # the mean difference from the content is strength times the full grade's.
    base = grading.grid_lab(33).astype(np.float64)
    faded = base.copy()
    faded[..., 0] = 50.0 + (base[..., 0] - 50.0) * 0.35
    faded[..., 1:] *= 0.3
    strong = Look(faded.astype(np.float32), grain=0.0)
    levels = np.linspace(0, 1, 11)
    d = np.array(
        [_de(grade(coffee, strong, GradeSliders(strength=float(s))), coffee) for s in levels]
    )
    assert np.all(np.diff(d) > 0)
    assert d[5] / d[-1] == pytest.approx(0.5, abs=0.04)
    fit = np.polyfit(levels, d, 1)
    assert 1 - np.var(d - np.polyval(fit, levels)) / np.var(d) >= 0.99
    # The preview (another size of the same content) follows the same curve.
    half = _de(
        preview(coffee, strong, GradeSliders(strength=0.5)),
        preview(coffee, strong, GradeSliders(strength=0.0)),
    )
    assert half / d[-1] == pytest.approx(0.5, abs=0.06)
