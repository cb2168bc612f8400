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


@pytest.fixture(scope="session")
def real_items() -> Callable[[str], list[ProfileInput]]:
    """label -> ProfileInputs of the real third-party images committed under
    tests/data/real (media by label: "pixel_art", "photograph", ...; "photos" is every
    committed photograph; "graded:<lut label>" is those photographs through a committed
    real LUT). Embedded once per session."""
    import json
    from pathlib import Path

    import numpy as np
    from PIL import Image

    import bench.realdata as rd

    real = Path(__file__).resolve().parents[1] / "data" / "real"
    # The black-and-white photographs ("monochrome") have tests of their own
    # (test_taste_medium); the colour boards and the graded photographs leave them out.
    index = [
        f for f in json.loads((real / "index.json").read_text())["files"] if not f.get("monochrome")
    ]
    encoder = get_encoder(DEFAULT_ENCODER_ID)
    cache: dict[str, list[ProfileInput]] = {}

    def open_rgb(name: str) -> Image.Image:
        with Image.open(real / name) as im:
            return im.convert("RGB")

    def images(label: str) -> list[Image.Image]:
        if label == "photos":
            return [
                open_rgb(it["file"])
                for it in index
                if it["kind"] == "photo" or it.get("label") == "photograph"
            ]
        if label.startswith("graded:"):
            it = next(i for i in index if i["kind"] == "lut" and i["label"] == label[7:])
            formats = tuple(op for op in it["preprocess"] if op["op"] == "format")
            lut = rd.read_lut(
                rd.Item(
                    it["manifest_id"],
                    "lut",
                    it["label"],
                    it["source"],
                    str(real / it["file"]),
                    it["split"],
                    formats,
                )
            )
            out = []
            for photo in images("photos"):
                rgb = np.asarray(photo, np.float32) / 255.0
                graded = np.clip(rd.apply_lut(lut, rgb), 0.0, 1.0)
                out.append(Image.fromarray((graded * 255.0).round().astype(np.uint8)))
            return out
        return [
            open_rgb(it["file"]) for it in index if it["kind"] == "medium" and it["label"] == label
        ]

    def get(label: str) -> list[ProfileInput]:
        if label not in cache:
            ims = images(label)
            assert ims, f"no committed real images for {label}"
            styles, descs = encoder.embed_parts(ims)
            joined = encoder.join(styles, descs)
            cache[label] = [
                ProfileInput(f"{label}/{i}", joined[i], descs[i], styles[i])
                for i in range(len(ims))
            ]
        return cache[label]

    return get
