"""Boards of real photographs (skimage/sklearn samples) rendered in known looks.

Embedding is the slow part (~25 ms an image), so each look's images are embedded once
per test session and boards are assembled from that cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from taste.encoders import DEFAULT_ENCODER_ID, get_encoder
from taste.profile import ProfileInput
from testkit.looks import make_board

PER_LOOK = 12


@pytest.fixture(scope="session")
def look_items() -> Callable[[str], list[tuple[str, ProfileInput]]]:
    """look name -> [(look, ProfileInput)] for PER_LOOK images over shared subjects."""
    encoder = get_encoder(DEFAULT_ENCODER_ID)
    cache: dict[str, list[tuple[str, ProfileInput]]] = {}

    def get(look: str) -> list[tuple[str, ProfileInput]]:
        if look not in cache:
            board = make_board([look], PER_LOOK, seed=5)
            styles, descs = encoder.embed_parts([b.image for b in board])
            joined = encoder.join(styles, descs)
            cache[look] = [
                (b.look, ProfileInput(b.key, joined[i], descs[i], styles[i]))
                for i, b in enumerate(board)
            ]
        return cache[look]

    return get


@pytest.fixture
def board(look_items) -> Callable[..., tuple[list[ProfileInput], list[str]]]:
    """board({"mono_contrast": 12, "saturated_pop": 1}) -> (items, true look labels)."""

    def build(counts: dict[str, int] | Sequence[str]) -> tuple[list[ProfileInput], list[str]]:
        if not isinstance(counts, dict):
            counts = {look: PER_LOOK for look in counts}
        items, labels = [], []
        for look, count in counts.items():
            for lbl, item in look_items(look)[:count]:
                items.append(item)
                labels.append(lbl)
        return items, labels

    return build
