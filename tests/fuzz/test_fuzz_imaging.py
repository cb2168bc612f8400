"""Hostile bytes through the decoding path every upload and the worker take.

Property: `inspect_image` either accepts a file (and then `make_derivatives` succeeds or
rejects it with ImageRejected) or rejects it with ImageRejected and a sentence for the
user; never another exception, never a hang, never an image over the pixel cap.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given
from PIL import Image

from moodboards import imaging
from tests.fuzz import strategies as fz

# Small enough that huge declared sizes are refused quickly, large enough for every seed.
MAX_PIXELS = 4_000_000


@pytest.mark.parametrize("name", fz.SEED_NAMES)
def test_every_seed_is_a_real_image_we_accept(name):
    # The fuzzing starts from valid files: if a format stopped being accepted, the
    # mutations would only test the "rejected" branch.
    assert fz.check_image(fz.seeds()[name], max_pixels=MAX_PIXELS) == "accepted"


@fz.fuzz_settings(200)
@given(data=fz.image_inputs())
def test_any_bytes_are_accepted_or_rejected_with_a_message(data):
    with fz.hang_guard():
        fz.check_image(data, max_pixels=MAX_PIXELS)


@fz.fuzz_settings(100)
@given(data=fz.image_inputs())
def test_the_pixel_cap_holds_whatever_the_header_claims(data):
    with fz.hang_guard():
        outcome = fz.check_image(data, max_pixels=MAX_PIXELS)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
    except Exception:
        return  # Pillow can't even read a header: nothing claimed
    if width * height > MAX_PIXELS:
        assert outcome == "rejected"
        with pytest.raises(imaging.ImageRejected, match=r"megapixel limit|too many pixels"):
            imaging.inspect_image(data, max_pixels=MAX_PIXELS)


# --- regressions found by the fuzzer ---------------------------------------------------------


def _tiff(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "TIFF")
    return out.getvalue()


def test_a_16_bit_big_endian_tiff_is_accepted_and_keeps_its_tones():
    # Was: "point operation not supported for this mode" escaped inspect_image (a 500 on
    # upload). Scientific cameras write big-endian 16-bit TIFFs.
    ramp = np.tile(np.linspace(0, 65535, 256), (64, 1)).astype(">u2")  # dark to light
    data = _tiff(Image.fromarray(ramp))
    assert fz.check_image(data, max_pixels=MAX_PIXELS) == "accepted"
    shown, _ = imaging.make_derivatives(data, max_pixels=MAX_PIXELS, thumb_size=64, display_max=256)
    with Image.open(io.BytesIO(shown.content)) as out:
        grey = np.asarray(out.convert("L"), dtype=float)
    # Scaled to 8 bits, not clipped: dark on the left, light on the right.
    assert grey[:, :16].mean() < 40 and grey[:, -16:].mean() > 200


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I;16L"])
@pytest.mark.parametrize("size", [(1, 1024), (5000, 7)])
def test_a_16_bit_image_of_extreme_shape_is_hashed(mode, size):
    # Was: "image has wrong mode" from Pillow's reduce() while shrinking for the pHash.
    data = _tiff(Image.new(mode, size))
    assert fz.check_image(data, max_pixels=MAX_PIXELS) == "accepted"


def test_an_avif_whose_pixels_are_garbage_is_rejected_as_damaged():
    # Was: Pillow's AVIF decoder raised RuntimeError("Failed to decode frame 0"), which
    # escaped inspect_image (a 500 on upload) and would have crashed the worker task.
    good = fz.seeds()["avif"]
    at = good.find(b"mdat") + 4
    bad = good[:at] + b"\x00" * (len(good) - at)
    with pytest.raises(imaging.ImageRejected, match="damaged or incomplete"):
        imaging.inspect_image(bad, max_pixels=MAX_PIXELS)
    with pytest.raises(imaging.ImageRejected, match="damaged or incomplete"):
        imaging.make_derivatives(bad, max_pixels=MAX_PIXELS, thumb_size=64, display_max=256)


def test_a_photo_with_a_corrupt_exif_tag_is_still_shown_upright():
    # Was: TypeError("bad operand type for abs(): 'bytes'") from Pillow re-writing the
    # EXIF block inside exif_transpose (a 500 on upload). Here the GPS latitude, a
    # RATIONAL, is re-typed UNDEFINED: one flipped byte, as the fuzzer found it.
    good = fz.seeds()["jpeg-exif"]  # 96×64, orientation 6 (turn to portrait), GPS
    bad = good.replace(b"\x00\x02\x00\x05\x00\x00\x00\x03", b"\x00\x02\x00\x07\x00\x00\x00\x03", 1)
    assert bad != good
    info = imaging.inspect_image(bad, max_pixels=MAX_PIXELS)
    assert (info.width, info.height) == (64, 96)  # still upright
    assert fz.check_image(bad, max_pixels=MAX_PIXELS) == "accepted"
    shown, _ = imaging.make_derivatives(bad, max_pixels=MAX_PIXELS, thumb_size=64, display_max=256)
    with Image.open(io.BytesIO(shown.content)) as out:
        assert out.size == (64, 96)
        assert not out.getexif()  # and no metadata served


def _retyped_tiff_tag(data: bytes, tag: int, new_type: int) -> bytes:
    """A little-endian TIFF with one tag of the first IFD given another type."""
    out = bytearray(data)
    ifd = struct.unpack("<I", out[4:8])[0]
    for i in range(struct.unpack("<H", out[ifd : ifd + 2])[0]):
        at = ifd + 2 + 12 * i
        if struct.unpack("<H", out[at : at + 2])[0] == tag:
            out[at + 2 : at + 4] = struct.pack("<H", new_type)
            return bytes(out)
    raise AssertionError(f"no tag {tag}")


@pytest.mark.parametrize("new_type", [2, 5, 7, 11])  # ASCII, RATIONAL, UNDEFINED, FLOAT
def test_a_tiff_whose_strip_offsets_have_the_wrong_type_is_rejected_as_damaged(new_type):
    # Was: TypeError("'IFDRational' object cannot be interpreted as an integer") from
    # Pillow's load(), which escaped inspect_image (a 500 on upload).
    bad = _retyped_tiff_tag(fz.seeds()["tiff"], 273, new_type)  # StripOffsets
    with pytest.raises(imaging.ImageRejected, match="damaged or incomplete"):
        imaging.inspect_image(bad, max_pixels=MAX_PIXELS)
