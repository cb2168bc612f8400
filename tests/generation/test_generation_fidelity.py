import numpy as np

from generation.fidelity import fidelity_score, reference_space, similarity
from generation.stylize import _predictor, stylize


def test_stylizing_toward_a_monochrome_board_raises_fidelity(coffee, mono_style):
    out = stylize(coffee, mono_style, strength=1.0, max_side=384)
    score = fidelity_score(out, coffee, mono_style)
    assert 0.0 <= score.content <= 1.0 and 0.0 <= score.output <= 1.0
    assert score.gain > 0.1
    assert (
        score.output == score.content + score.gain
        or abs(score.output - score.content - score.gain) < 1e-3
    )


def test_fidelity_grows_with_strength(rocket, mono_style):
    scores = [
        fidelity_score(
            stylize(rocket, mono_style, strength=s, max_side=384), rocket, mono_style
        ).output
        for s in (0.0, 0.5, 1.0)
    ]
    assert scores[0] < scores[1] < scores[2]


def test_whitening_separates_looks_raw_cosine_cannot(astronaut, mono_style):
    colour = _predictor().predict(astronaut)
    raw_cos = float(
        np.dot(colour, mono_style) / np.linalg.norm(colour) / np.linalg.norm(mono_style)
    )
    assert raw_cos > 0.8  # raw vectors share a large common offset
    assert similarity(colour, mono_style, reference_space()) < 0.5


def test_a_look_is_closest_to_itself(mono_style):
    assert similarity(mono_style, mono_style) == 1.0
