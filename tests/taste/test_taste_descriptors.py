import time

import numpy as np
import pytest
from PIL import Image
from skimage import data

from taste.descriptors import (
    DESCRIPTOR_DIM,
    LOOK_FEATURES,
    REFERENCE_TYPICAL,
    TYPICAL_SCALE,
    Descriptors,
    compute_descriptors,
)
from taste.looks import LOOKS, render


@pytest.fixture(scope="module")
def by_look() -> dict[str, list[Descriptors]]:
    subjects = ("astronaut", "coffee", "chelsea", "china")
    return {look: [compute_descriptors(render(s, look, 3)) for s in subjects] for look in LOOKS}


def _median(ds: list[Descriptors], name: str) -> float:
    return float(np.median([getattr(d, name) for d in ds]))


def test_a_greyscale_photo_has_no_colour():
    d = compute_descriptors(Image.fromarray(data.camera()).convert("RGB"))
    assert d.colourfulness < 0.5
    assert d.saturation_mean < 0.01
    assert abs(d.warmth) < 0.5


def test_a_colour_photo_has_colour():
    d = compute_descriptors(Image.fromarray(data.astronaut()))
    assert d.colourfulness > 20
    assert d.saturation_mean > 0.15


def test_saturated_pop_is_more_colourful_than_faded_film(by_look):
    pop, film = by_look["saturated_pop"], by_look["warm_film"]
    assert _median(pop, "colourfulness") > 2 * _median(film, "colourfulness")
    assert _median(pop, "saturation_mean") > _median(film, "saturation_mean")


def test_looks_move_tone_and_texture_the_right_way(by_look):
    assert _median(by_look["warm_film"], "warmth") > 10 > _median(by_look["cyanotype"], "warmth")
    assert _median(by_look["mono_contrast"], "contrast") > 2 * _median(
        by_look["pastel"], "contrast"
    )
    assert _median(by_look["pastel"], "key") > _median(by_look["mono_contrast"], "key") + 10
    assert (
        _median(by_look["warm_film"], "black_level")
        > 12
        > _median(by_look["mono_contrast"], "black_level")
    )
    assert _median(by_look["warm_film"], "grain") > 2 * _median(by_look["pastel"], "grain")
    assert _median(by_look["teal_orange"], "split_tone") > 15


def test_vector_has_the_documented_order_and_round_trips():
    d = compute_descriptors(render("rocket", "pastel", 1))
    v = d.as_vector()
    assert v.shape == (DESCRIPTOR_DIM,) and v.dtype == np.float32
    assert v[Descriptors.VECTOR_FIELDS.index("key")] == pytest.approx(d.key)
    assert Descriptors.from_dict(d.to_dict()) == d
    assert set(TYPICAL_SCALE) == set(REFERENCE_TYPICAL) == set(Descriptors.VECTOR_FIELDS)
    assert set(LOOK_FEATURES) <= set(Descriptors.VECTOR_FIELDS)


def test_palette_shares_sum_to_one_and_are_sorted():
    d = compute_descriptors(Image.fromarray(data.coffee()))
    shares = np.array(d.palette_share)
    assert 1 < len(shares) <= 5
    assert shares.sum() == pytest.approx(1.0)
    assert (np.diff(shares) <= 1e-12).all()


def test_a_single_colour_image_does_not_crash():
    d = compute_descriptors(Image.new("RGB", (40, 30), (200, 30, 30)))
    assert d.colourfulness > 50
    assert len(d.palette_share) == 1
    assert np.isfinite(d.as_vector()).all()


def test_descriptors_are_fast_enough():
    images = [render(s, "warm_film", 0) for s in ("astronaut", "coffee", "chelsea")]
    compute_descriptors(images[0])
    start = time.perf_counter()
    for im in images * 3:
        compute_descriptors(im)
    per_image = (time.perf_counter() - start) / 9
    assert per_image < 0.08  # ~15-20 ms on the 2-core dev box; generous for CI noise
