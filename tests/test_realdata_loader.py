"""The real-data loader's container op (bench/realdata): a JPEG embedded in a packaged
container file is found by its own start marker, whatever bytes surround it."""

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
