import json
import re

import numpy as np
import pytest

from taste.document import TasteProfileData
from taste.encoders import DEFAULT_ENCODER_ID
from taste.profile import analyze_pil_images, build_profile
from taste.vocabulary import load_vocabulary

VIVID = {"vivid colour", "saturated colour", "neon", "oversaturated", "bold colour", "colourful"}


def _profile(board, looks) -> TasteProfileData:
    items, _ = board(looks)
    return build_profile(items, encoder_id=DEFAULT_ENCODER_ID)


def _terms(profile: TasteProfileData) -> set[str]:
    return {k.term for k in profile.keywords}


def test_a_monochrome_board_says_so_and_avoids_saturated_colour(board):
    profile = _profile(board, ["mono_contrast"])
    assert {"monochrome", "black and white"} <= _terms(profile)
    assert VIVID & {a.term for a in profile.avoids}
    assert "monochrome" in profile.summary or "black-and-white" in profile.summary
    mono = next(k for k in profile.keywords if k.term == "monochrome")
    assert mono.score > 0.9
    assert mono.evidence[0].measurement == "colourfulness"
    assert mono.evidence[0].value < 3


def test_a_warm_board_says_warm_and_a_cool_board_does_not(board):
    warm = _profile(board, ["warm_film"])
    assert {"warm tones", "warm cast"} & _terms(warm)
    assert "warm" in warm.summary
    assert "cool tones" not in _terms(warm)
    cool = _profile(board, ["cyanotype"])
    assert "cool tones" in _terms(cool)
    assert not {"warm tones", "warm cast"} & _terms(cool)


def test_a_faded_film_board_is_called_faded_and_grainy(board):
    terms = _terms(_profile(board, ["warm_film"]))
    assert {"faded", "lifted blacks"} <= terms
    assert "film grain" in terms


def test_a_pastel_board_is_not_called_vivid(board):
    profile = _profile(board, ["pastel"])
    assert "pastel" in _terms(profile)
    assert not VIVID & _terms(profile)


def test_palette_has_five_to_eight_named_colours(board):
    profile = _profile(board, ["warm_film", "cyanotype"])
    assert 5 <= len(profile.palette) <= 8
    assert sum(p.share for p in profile.palette) == pytest.approx(1.0, abs=1e-3)
    for colour in profile.palette:
        assert re.fullmatch(r"#[0-9a-f]{6}", colour.hex)
        assert colour.name
    # The cyanotype half of the board shows up as a blue in the palette.
    assert any("blue" in p.name or "navy" in p.name for p in profile.palette)


def test_summary_mentions_the_top_keywords(board):
    profile = _profile(board, ["warm_film"])
    vocab = load_vocabulary().by_name
    top = sorted(profile.keywords, key=lambda k: -k.score * vocab[k.term].priority)[:2]
    for kw in top:
        assert vocab[kw.term].phrase in profile.summary


def test_a_mixed_real_board_describes_each_sub_style_by_its_medium(real_items):
    items = real_items("pixel_art") + real_items("photos") + real_items("line_art")
    profile = build_profile(items, encoder_id=DEFAULT_ENCODER_ID)
    assert len(profile.clusters) == 3
    assert {c.medium for c in profile.clusters} == {"pixel art", "photograph", "line art"}
    for cluster in profile.clusters:
        assert cluster.medium in {k.term for k in cluster.keywords}
        assert 4 <= len(cluster.representatives) <= 6
        assert set(cluster.representatives) <= set(cluster.members)
        assert len(cluster.style_vector) == 100
        assert cluster.weight == pytest.approx(len(cluster.members) / profile.n_images, abs=1e-3)
    assert "three" in profile.summary


def test_a_board_has_the_medium_most_of_its_images_share(real_items):
    mostly = build_profile(
        real_items("photos") + real_items("pixel_art"), encoder_id=DEFAULT_ENCODER_ID
    )
    assert mostly.medium == "photograph"  # 14 of 20 images
    even = build_profile(
        real_items("pixel_art") + real_items("line_art"), encoder_id=DEFAULT_ENCODER_ID
    )
    assert even.medium == ""  # half and half: no medium holds the board
    assert {c.medium for c in even.clusters} == {"pixel art", "line art"}


def test_a_board_of_one_medium_names_it_with_its_evidence(real_items):
    profile = build_profile(real_items("pixel_art"), encoder_id=DEFAULT_ENCODER_ID)
    assert profile.medium == "pixel art"
    keyword = next(k for k in profile.keywords if k.term == "pixel art")
    shown = {e.measurement: e for e in keyword.evidence}
    assert {"medium_pixel_art", "exact_flat", "colour_count", "edge_hardness"} <= set(shown)
    assert shown["exact_flat"].value > shown["exact_flat"].typical  # flatter than a photo


def test_evidence_points_at_real_images(board):
    items, _ = board(["warm_film"])
    profile = build_profile(items, encoder_id=DEFAULT_ENCODER_ID)
    keys = {it.key for it in items}
    for kw in profile.keywords:
        assert 0.0 <= kw.score <= 1.0
        for ev in kw.evidence:
            assert ev.images and set(ev.images) <= keys


def test_outliers_are_reported_and_left_out_of_the_look(board):
    items, _ = board({"mono_contrast": 11, "saturated_pop": 1})
    profile = build_profile(items, encoder_id=DEFAULT_ENCODER_ID)
    assert profile.outliers == [items[-1].key]
    assert "monochrome" in _terms(profile)
    assert "outside" in profile.summary
    assert [m.cluster for m in profile.map][-1] == -1


def test_tone_and_map_are_well_formed(board):
    profile = _profile(board, ["pastel", "mono_contrast"])
    q = [profile.tone.l_quantiles[f"p{p}"] for p in (5, 25, 50, 75, 95)]
    assert q == sorted(q)
    assert len(profile.tone.lab_mean) == len(profile.tone.lab_std) == 3
    assert len(profile.map) == profile.n_images
    assert all(0.0 <= m.x <= 1.0 and 0.0 <= m.y <= 1.0 for m in profile.map)


def test_profile_round_trips_through_json(board):
    profile = _profile(board, ["mono_contrast", "warm_film"])
    data = json.loads(json.dumps(profile.to_dict()))
    again = TasteProfileData.from_dict(data)
    assert again.to_dict() == profile.to_dict()


def test_build_is_deterministic_and_reports_progress(board):
    items, _ = board(["teal_orange", "pastel"])
    seen = []
    a = build_profile(items, encoder_id=DEFAULT_ENCODER_ID, progress=lambda *s: seen.append(s))
    b = build_profile(items, encoder_id=DEFAULT_ENCODER_ID)
    assert a.to_dict() == b.to_dict()
    assert seen[0][0] == "clustering" and seen[-1] == ("done", 5, 5)


def test_an_empty_board_is_a_clear_error():
    with pytest.raises(ValueError, match="no images"):
        build_profile([], encoder_id=DEFAULT_ENCODER_ID)


def test_a_single_image_board_works():
    from testkit.looks import render

    profile = analyze_pil_images([("one.png", render("coffee", "warm_film", 0))])
    assert profile.n_images == 1
    assert len(profile.clusters) == 1 and profile.clusters[0].members == ["one.png"]
    assert profile.map[0].x == 0.5
    assert np.isfinite(profile.clusters[0].style_vector).all()
