import numpy as np
import pytest
from PIL import Image
from skimage import data

from taste.descriptors import (
    ANALYSIS_SIDE,
    DESCRIPTOR_DIM,
    LOOK_FEATURES,
    REFERENCE_TYPICAL,
    TYPICAL_SCALE,
    Descriptors,
    _downsized,
    compute_descriptors,
    look_space,
)
from taste.pixels import lab_maps
from testkit.looks import LOOKS, render


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


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (5, 300), (300, 5), (4000, 30)])
def test_tiny_and_extreme_images_do_not_crash(size):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    d = compute_descriptors(image)
    assert np.isfinite(d.as_vector()).all()
    assert sum(d.palette_share) == pytest.approx(1.0)


def test_fast_lab_matches_skimage():
    from skimage.color import rgb2lab

    rng = np.random.default_rng(0)
    rgb8 = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    rgb8[0, :6] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [3, 2, 1]]
    ours = np.stack(lab_maps(rgb8), axis=-1)
    assert np.abs(ours - rgb2lab(rgb8)).max() < 0.01


@pytest.mark.parametrize("name", ["astronaut", "camera", "coffee"])
def test_tone_statistics_match_a_direct_computation(name):
    from skimage.color import rgb2lab

    image = Image.fromarray(getattr(data, name)()).convert("RGB")
    d = compute_descriptors(image)
    L = rgb2lab(np.asarray(_downsized(image, ANALYSIS_SIDE)))[..., 0].ravel()
    p2, p5, p95, p98 = np.percentile(L, [2, 5, 95, 98])
    assert d.key == pytest.approx(L.mean(), abs=0.05)
    assert d.contrast == pytest.approx(p95 - p5, abs=0.2)
    assert d.black_level == pytest.approx(p2, abs=0.2)
    assert d.white_level == pytest.approx(p98, abs=0.2)
    assert d.shadow_clip == pytest.approx((L < 4).mean(), abs=0.002)


def test_texture_reads_busy_and_empty_images_the_right_way():
    busy = compute_descriptors(Image.fromarray(data.gravel()).convert("RGB"))
    rng = np.random.default_rng(0)
    gradient = np.linspace(40, 200, 256)[None, :, None].repeat(200, 0).repeat(3, 2)
    smooth = compute_descriptors(Image.fromarray(gradient.astype(np.uint8)))
    assert busy.edge_density > 0.12 > 0.035 > smooth.edge_density
    assert smooth.flat_fraction > 0.9 > 0.15 > busy.flat_fraction
    grain = rng.normal(0, 8, gradient.shape[:2])[..., None]  # film-like: same on R, G, B
    noisy = np.clip(gradient + grain, 0, 255).astype(np.uint8)
    assert compute_descriptors(Image.fromarray(noisy)).grain > 2.5 > smooth.grain


def test_look_space_is_in_within_look_units(by_look):
    # Two images of one look are typically ~1 unit apart; images of very different
    # looks are several units apart.
    vectors = {look: np.stack([d.as_vector() for d in ds]) for look, ds in by_look.items()}
    within = np.median(
        [np.linalg.norm(z - z.mean(0), axis=1).mean() for z in map(look_space, vectors.values())]
    )
    mono, pop = look_space(vectors["mono_contrast"]), look_space(vectors["saturated_pop"])
    assert 0.3 < within < 2.0
    assert np.linalg.norm(mono.mean(0) - pop.mean(0)) > 4 * within
