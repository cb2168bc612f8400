"""The medium: measures, the calibrated classifier, keywords and sub-styles, on real
third-party images committed in tests/data/real (game art, clipart, paintings, renders,
photographs from Debian and PyPI packages; licences in tests/data/real/LICENSES.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taste.calibration import MEDIUM_TERMS, calibration, medium_of
from taste.clustering import adjusted_rand
from taste.descriptors import compute_descriptors
from taste.medium import measure_medium
from taste.profile import analyze_pil_images

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def _real(label: str, monochrome: bool = False) -> list[tuple[str, Image.Image]]:
    """The committed images of one medium: the colour ones, or (monochrome=True) the
    black-and-white photographs."""
    index = json.loads((REAL / "index.json").read_text())
    out = []
    for item in index["files"]:
        if item["kind"] != "medium" or item["label"] != label:
            continue
        if bool(item.get("monochrome")) == monochrome:
            with Image.open(REAL / item["file"]) as im:
                out.append((item["file"], im.convert("RGB")))
    assert out, f"no committed real images of {label}"
    return out


def test_pixel_art_is_flat_hard_edged_and_few_coloured_unlike_a_photograph():
    pixel = [measure_medium(im) for _, im in _real("pixel_art")]
    photo = [measure_medium(im) for _, im in _real("photograph")]
    assert min(p.exact_flat for p in pixel) > max(p.exact_flat for p in photo)
    assert np.median([p.colour_count for p in pixel]) < np.median([p.colour_count for p in photo])
    assert np.median([p.edge_hardness for p in pixel]) > np.median([p.edge_hardness for p in photo])


def test_a_grey_image_counts_its_grey_levels_as_colours():
    """At 5 bits a channel a grey image has at most 32 colours: a black-and-white
    photograph's count fell to a sprite's. Its 8-bit grey levels count instead, so it
    stays above the typical sprite, and a grey image of a few flat tones stays low."""
    pixel = [measure_medium(im).colour_count for _, im in _real("pixel_art")]
    bw = [measure_medium(im).colour_count for _, im in _real("photograph", monochrome=True)]
    assert min(bw) > np.median(pixel)
    tones = np.repeat(np.arange(0, 256, 32, dtype=np.uint8), 32)[None, :].repeat(64, 0)
    few = measure_medium(Image.fromarray(tones).convert("RGB")).colour_count
    assert few == pytest.approx(np.log2(8) / 15)


def test_line_art_is_drawn_on_paper():
    lines = [measure_medium(im) for _, im in _real("line_art")]
    photos = [measure_medium(im) for _, im in _real("photograph")]
    assert min(m.paper_white for m in lines) > 0.3 > max(m.paper_white for m in photos)


def test_the_measures_see_a_native_crop_not_a_resampled_copy():
    """Enlarging pixel art with nearest-neighbour (as games display it) keeps it flat."""
    _, sprite = _real("pixel_art")[0]
    big = sprite.resize((sprite.width * 3, sprite.height * 3), Image.Resampling.NEAREST)
    assert measure_medium(big).exact_flat >= measure_medium(sprite).exact_flat - 0.05


@pytest.mark.parametrize("label", sorted(MEDIUM_TERMS))
def test_the_classifier_names_each_medium_of_a_small_real_board(label):
    """Three to six committed real images per medium (tuning and validation packages):
    the board's medium is the one they show."""
    vectors = np.stack([compute_descriptors(im).as_vector() for _, im in _real(label)])
    term, belief = medium_of(vectors)
    assert term == MEDIUM_TERMS[label], (label, term, round(belief, 2))


@pytest.mark.parametrize("split", ["tune", "validation"])
def test_black_and_white_photographs_are_photographs(split):
    """A greyscale photograph has no colour at all, like most line art and some
    paintings: the classifier must still read it as a photograph (it called them
    painting or line art, and the generation backend took the painterly path). The
    validation ones come from a package the calibration never saw."""
    index = json.loads((REAL / "index.json").read_text())["files"]
    files = {f["file"] for f in index if f.get("monochrome") and f["split"] == split}
    images = [im for name, im in _real("photograph", monochrome=True) if name in files]
    assert images
    vectors = np.stack([compute_descriptors(im).as_vector() for im in images])
    cal = calibration()
    called = [cal.media[i] for i in cal.medium_probabilities(vectors).argmax(1)]
    assert called == ["photograph"] * len(images), called
    assert medium_of(vectors)[0] == "photograph"


def test_a_board_of_black_and_white_photographs_is_named_a_photograph():
    """Analyze Board on black-and-white photographs alone: one sub-style, whose medium is
    photograph and which says so among its keywords (not "line art" / "digital painting")."""
    photos = _real("photograph", monochrome=True)
    profile = analyze_pil_images([(f"bw{i}", im) for i, (_, im) in enumerate(photos)])
    assert {c.medium for c in profile.clusters} == {"photograph"}
    for c in profile.clusters:
        terms = [k.term for k in c.keywords]
        assert "photograph" in terms, terms
        assert not {"line art", "digital painting"} & set(terms), terms


def test_calibration_was_fitted_on_the_tuning_part_only():
    """Every package the calibration learnt from is a source of the real set's tuning
    part, and none of them feeds only its validation part."""
    import bench.realdata as rd

    provenance = calibration().provenance
    assert provenance["split"] == "tune"
    tune = {it.source for it in rd.items(split="tune")}
    validation_only = {it.source for it in rd.items(split="validation")} - tune
    assert set(provenance["sources"]) <= tune
    assert not validation_only & set(provenance["sources"])


def test_a_board_of_pixel_art_and_photographs_splits_by_medium_and_says_so():
    pixel, photo = _real("pixel_art"), _real("photograph")
    keys = [f"p{i}" for i in range(len(pixel))] + [f"f{i}" for i in range(len(photo))]
    images = [im for _, im in pixel + photo]
    profile = analyze_pil_images(list(zip(keys, images, strict=True)))
    labels = np.full(len(keys), -1)
    for c in profile.clusters:
        labels[[keys.index(k) for k in c.members]] = c.index
    truth = [k[0] for k in keys]
    assert adjusted_rand(truth, labels) == pytest.approx(1.0)
    media = {c.medium for c in profile.clusters}
    assert media == {"pixel art", "photograph"}
    for c in profile.clusters:
        terms = [k.term for k in c.keywords]
        assert c.medium in terms, (c.medium, terms)
        evidence = next(k for k in c.keywords if k.term == c.medium).evidence
        assert {e.measurement for e in evidence} >= {"exact_flat"} or c.medium == "photograph"


def test_loading_the_real_data_set_leaves_pillows_bomb_limit_alone():
    """The loader lifts the limit only while it opens its own files: a process-wide
    change made the upload tests that share a worker accept a decompression bomb's
    header as 400 ordinary megapixels."""
    import bench.realdata as rd

    limit = Image.MAX_IMAGE_PIXELS
    item = rd.Item("x", "lut", "x", "x", str(REAL / "lut" / "v-teal_lows_orange_highs.png"), "validation",
                   ({"op": "format", "format": "square_png_8x8"},))  # fmt: skip
    rd.read_lut(item)
    assert limit == Image.MAX_IMAGE_PIXELS and limit is not None


def test_the_loader_reads_a_greyscale_photograph_kept_as_an_npz_array(tmp_path):
    """PyWavelets ships its black-and-white sample photographs as 8-bit arrays in .npz
    archives: the `npz` op opens one as an RGB image, and refuses anything that is not
    an 8-bit image array (or would need unpickling)."""
    import bench.realdata as rd

    grey = np.tile(np.arange(256, dtype=np.uint8), (40, 1))
    np.savez(tmp_path / "ok.npz", data=grey)
    item = rd.Item("photograph/x/ok", "medium", "photograph", "x", str(tmp_path / "ok.npz"),
                   "validation", ({"op": "npz", "key": "data"},))  # fmt: skip
    im = rd.open_image(item, max_side=None)
    assert im.mode == "RGB" and im.size == (256, 40)
    assert np.array_equal(np.asarray(im)[..., 1], grey)
    np.savez(tmp_path / "bad.npz", data=grey.astype(np.float64))
    with pytest.raises(ValueError, match="8-bit image"):
        rd.open_image(rd.Item(**{**item.__dict__, "path": str(tmp_path / "bad.npz")}))
    np.savez(tmp_path / "obj.npz", data=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        rd.open_image(rd.Item(**{**item.__dict__, "path": str(tmp_path / "obj.npz")}))
