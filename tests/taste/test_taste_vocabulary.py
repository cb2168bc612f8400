import json
from importlib.resources import files

import numpy as np
import pytest

from taste.descriptors import Descriptors
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


def test_every_rule_references_a_real_descriptor_field():
    raw = json.loads((files("taste") / "data" / "vocabulary.json").read_text())
    for term in raw["terms"]:
        for field in term.get("rule", {}):
            assert field in Descriptors.VECTOR_FIELDS, (term["term"], field)


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
