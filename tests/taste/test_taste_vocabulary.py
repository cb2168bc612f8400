import json
from importlib.resources import files

import numpy as np
import pytest

from taste.calibration import BELIEF_FIELDS
from taste.descriptors import REFERENCE_TYPICAL, Descriptors
from taste.vocabulary import (
    FACETS,
    hex_to_lab,
    load_vocabulary,
    name_colour,
    name_hex,
    parse_vocabulary,
)


def test_vocabulary_is_large_and_covers_every_facet():
    vocab = load_vocabulary()
    assert len(vocab.terms) >= 300
    assert len(vocab.names) == len(set(vocab.names))
    for facet in FACETS:
        assert sum(t.facet == facet for t in vocab.terms) >= 20
        assert any(t.licensed and t.facet == facet for t in vocab.terms)
    assert len(vocab.licensed) >= 100
    assert len(vocab.terms) - len(vocab.licensed) >= 100  # CLIP-only terms


def test_every_rule_references_a_real_descriptor_field_or_medium_belief():
    raw = json.loads((files("taste") / "data" / "vocabulary.json").read_text())
    for term in raw["terms"]:
        for field in term.get("rule", {}):
            assert field in Descriptors.VECTOR_FIELDS + BELIEF_FIELDS, (term["term"], field)
        for field in term.get("shows", ()):
            assert field in Descriptors.VECTOR_FIELDS, (term["term"], field)


def test_a_vivid_board_is_never_faded_and_a_dark_one_never_airy():
    vocab = load_vocabulary()
    fields = Descriptors.VECTOR_FIELDS
    vivid = {f: np.array([REFERENCE_TYPICAL[f]]) for f in fields}
    vivid.update(colourfulness=np.array([80.0]), saturation_mean=np.array([0.6]),
                 black_level=np.array([20.0]), contrast=np.array([50.0]))  # fmt: skip
    for term in ("faded", "washed out"):
        assert vocab.by_name[term].membership(vivid)[0] < 0.5, term
    assert vocab.by_name["vivid colour"].membership(vivid)[0] > 0.5
    dark = {f: np.array([REFERENCE_TYPICAL[f]]) for f in fields}
    dark.update(key=np.array([25.0]), contrast=np.array([30.0]))
    assert vocab.by_name["airy"].membership(dark)[0] < 0.5


def test_teal_and_orange_is_read_by_hue():
    vocab = load_vocabulary()
    cols = {f: np.array([REFERENCE_TYPICAL[f]] * 2) for f in Descriptors.VECTOR_FIELDS}
    cols["teal_orange"] = np.array([4.0, -1.0])
    cols["colourfulness"] = np.array([40.0, 40.0])
    m = vocab.by_name["teal and orange"].membership(cols)
    assert m[0] > 0.5 > m[1]


def test_avoid_links_point_at_existing_terms():
    vocab = load_vocabulary()
    names = set(vocab.names)
    for term in vocab.terms:
        for avoided in term.avoids:
            assert avoided in names, (term.term, avoided)
            assert avoided != term.term


def test_a_rule_on_an_unknown_field_is_rejected():
    bad = {"terms": [{"term": "x", "facet": "colour", "rule": {"vibes": [">", 1]}}]}
    with pytest.raises(ValueError, match="unknown descriptor"):
        parse_vocabulary(bad)


def test_soft_rules_flip_around_the_threshold():
    mono = load_vocabulary().by_name["monochrome"]
    m = mono.membership({"colourfulness": np.array([0.0, 3.0, 10.0])})
    assert m[0] > 0.95 and m[1] == pytest.approx(0.5) and m[2] < 0.05


def test_colour_names_are_a_few_hundred():
    raw = json.loads((files("taste") / "data" / "colour_names.json").read_text())
    assert len(raw["colours"]) >= 250


@pytest.mark.parametrize(
    ("hex_code", "expected"),
    [
        ("#008080", "teal"),
        ("#000000", "black"),
        ("#e97451", "burnt sienna"),
        ("#36454f", "charcoal"),
    ],
)
def test_exact_colours_get_their_own_name(hex_code, expected):
    assert name_hex(hex_code).name == expected
    assert name_hex(hex_code).delta_e < 0.5


def test_nearby_colours_get_a_sensible_name():
    # A slightly off teal is still teal-ish; a dark warm brown is a brown.
    assert "teal" in name_colour(hex_to_lab("#0a8580")).name
    assert name_hex("#5a3a22").name in {
        "walnut",
        "toffee",
        "coffee",
        "deep brown",
        "chocolate",
        "taupe",
        "espresso",
        "raw umber",
        "tobacco",
    }
