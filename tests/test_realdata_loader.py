"""The real-data loader's container ops (bench/realdata): images embedded in packaged
container files are found by their own headers, whatever bytes surround them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

import bench.realdata as rd


def _encoded(colour: tuple[int, int, int], fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (24, 16), colour).save(buf, fmt, quality=95)
    return buf.getvalue()


def _item(path: Path, op: str, index: int) -> rd.Item:
    return rd.Item(
        id=f"photo/test/{op}-{index}",
        kind="photo",
        label="photo",
        source="test",
        path=str(path),
        preprocess=({"op": op, "index": index},),
        split="tune",
        note="",
    )


def test_the_nth_webp_of_a_resource_bundle_is_opened_by_its_riff_length(tmp_path: Path) -> None:
    # A Qt .rcc stores WebP pictures back to back between its own tables; a RIFF
    # header that does not decode (here a truncated one) is skipped, not counted.
    blob = (
        b"qres\x00\x00\x00\x03" + b"RIFF\x10\x00\x00\x00WEBPVP8 broken" + b"\x00" * 7
        + _encoded((200, 30, 30), "WEBP") + b"\x01\x02tree"
        + _encoded((30, 30, 200), "WEBP") + b"\x00" * 9
    )  # fmt: skip
    bundle = tmp_path / "activity.rcc"
    bundle.write_bytes(blob)
    first = np.asarray(rd.open_image(_item(bundle, "embedded_webp", 0)), dtype=int)
    second = np.asarray(rd.open_image(_item(bundle, "embedded_webp", 1)), dtype=int)
    assert first.shape == second.shape == (16, 24, 3)
    assert first[..., 0].mean() > 150 > first[..., 2].mean()
    assert second[..., 2].mean() > 150 > second[..., 0].mean()


def test_the_nth_jpeg_of_a_container_is_opened_from_its_start_marker(tmp_path: Path) -> None:
    blob = (
        b"EET\x00"
        + _encoded((20, 180, 20), "JPEG")
        + b"\x00\x07"
        + _encoded((250, 250, 250), "JPEG")
    )
    container = tmp_path / "wallpaper.edj"
    container.write_bytes(blob)
    green = np.asarray(rd.open_image(_item(container, "embedded_jpeg", 0)), dtype=int)
    white = np.asarray(rd.open_image(_item(container, "embedded_jpeg", 1)), dtype=int)
    assert green[..., 1].mean() > 150 > green[..., 0].mean()
    assert white.min() > 230
