"""Hostile input, shared by the fuzz tests (tests/fuzz/) and the long run (bench/fuzz.py).

Three kinds of generator, each usable from Hypothesis (`draw`) or from a plain seeded
`random.Random` (the real-worker test wants a fixed list, not a search):

- images: real sample photos (skimage / sklearn) encoded in every accepted format, then
  mutated (bit flips, truncation, inserted chunks, header splices…), headers rewritten to
  declare huge sizes, or plain random bytes;
- uploads: batches of files and ZIPs with odd, nested, traversing and duplicate names;
- API requests: bodies and query strings of every JSON/multipart endpoint, with wrong
  types, huge numbers, NaN/inf, unicode, deep nesting, nulls and raw junk.

And the checks (`check_*`): each returns a short outcome word for the statistics and
raises AssertionError (or lets the unexpected exception through) when a property breaks.
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import io
import json
import os
import random
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image

# The tests' budget: derandomized (the same examples every run, so CI can't flake) and
# without an example database (nothing written into the work tree). bench/fuzz.py runs
# the same properties with random seeds and a far larger budget (or set
# TASTEBASE_FUZZ_SCALE=10 for ten times the examples here).
SCALE = float(os.environ.get("TASTEBASE_FUZZ_SCALE", "1"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # the board fixture is shared on purpose
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# --- choosing: Hypothesis or a plain Random ------------------------------------------------


class Chooser(Protocol):
    def int(self, lo: int, hi: int) -> int: ...
    def choice(self, options: list) -> Any: ...
    def bytes(self, max_size: int) -> bytes: ...


class DrawChooser:
    """Choices made by Hypothesis, so a failing input shrinks."""

    def __init__(self, draw: Callable) -> None:
        self.draw = draw

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def choice(self, options: list) -> Any:
        return self.draw(st.sampled_from(options))

    def bytes(self, max_size: int) -> bytes:
        return self.draw(st.binary(max_size=max_size))


class RandomChooser:
    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def int(self, lo: int, hi: int) -> int:
        return self.rnd.randint(lo, hi)

    def choice(self, options: list) -> Any:
        return self.rnd.choice(options)

    def bytes(self, max_size: int) -> bytes:
        return self.rnd.randbytes(self.rnd.randint(0, max_size))


# --- seed images: real photos in every accepted format ---------------------------------------


def _save(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _exif_rotated_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 0.0)
    return exif


@functools.cache
def seeds() -> dict[str, bytes]:
    """Small real images (fast to decode) in every format and mode we accept."""
    import numpy as np
    import pillow_heif

    from moodboards.samples import sample_image

    pillow_heif.register_heif_opener()
    photo = sample_image("coffee").resize((96, 64))
    cat = sample_image("chelsea-the-cat").resize((64, 48))
    grey = sample_image("camera").resize((48, 48))
    grey16 = np.asarray(grey).astype(np.uint16) * 257  # the full 16-bit range
    frames = [cat.convert("P"), photo.resize((64, 48)).convert("P")]
    out = {
        "jpeg": _save(photo, "JPEG", quality=85),
        "jpeg-progressive": _save(cat, "JPEG", quality=80, progressive=True),
        "jpeg-exif": _save(photo, "JPEG", quality=80, exif=_exif_rotated_with_gps()),
        "jpeg-cmyk": _save(cat.convert("CMYK"), "JPEG", quality=80),
        "jpeg-grey": _save(grey, "JPEG", quality=80),
        "png": _save(cat, "PNG"),
        "png-rgba": _save(photo.convert("RGBA"), "PNG"),
        "png-palette": _save(grey.convert("P"), "PNG", transparency=0),
        "png-16bit": _save(Image.fromarray(grey16), "PNG"),
        "gif": _save(grey, "GIF"),
        "gif-animated": _save(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "webp": _save(photo, "WEBP", quality=70),
        "webp-lossless-rgba": _save(cat.convert("RGBA"), "WEBP", lossless=True),
        "webp-animated": _save(
            cat, "WEBP", save_all=True, append_images=[photo.resize((64, 48))], quality=60
        ),
        "tiff": _save(photo, "TIFF"),
        "tiff-lzw": _save(cat, "TIFF", compression="tiff_lzw"),
        "tiff-cmyk": _save(cat.convert("CMYK"), "TIFF"),
        "tiff-16bit-be": _save(Image.fromarray(grey16.astype(">u2")), "TIFF"),
        "tiff-multipage": _save(cat, "TIFF", save_all=True, append_images=[grey]),
        "heic": _save(photo, "HEIF", quality=60),
        "avif": _save(cat, "AVIF", quality=60),
    }
    return out


SEED_NAMES = [
    "jpeg", "jpeg-progressive", "jpeg-exif", "jpeg-cmyk", "jpeg-grey", "png", "png-rgba",
    "png-palette", "png-16bit", "gif", "gif-animated", "webp", "webp-lossless-rgba",
    "webp-animated", "tiff", "tiff-lzw", "tiff-cmyk", "tiff-16bit-be", "tiff-multipage", "heic",
    "avif",
]  # fmt: skip

# Values that break parsers: sizes at type boundaries, all-ones, sign bits.
INTERESTING_U16 = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF]
INTERESTING_U32 = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 0xFFFF]


# --- mutations -------------------------------------------------------------------------------


def _pos(c: Chooser, size: int) -> int:
    # Headers are where parsers make decisions: favour the first few hundred bytes.
    if size <= 0:
        return 0
    head = c.int(0, 1)
    return c.int(0, min(size - 1, 300)) if head else c.int(0, size - 1)


def _flip(c: Chooser, data: bytearray) -> bytearray:
    if data:
        data[_pos(c, len(data))] ^= 1 << c.int(0, 7)
    return data


def _set_byte(c: Chooser, data: bytearray) -> bytearray:
    if data:
        data[_pos(c, len(data))] = c.choice([0x00, 0xFF, 0x7F, 0x80, 0x01, c.int(0, 255)])
    return data


def _truncate(c: Chooser, data: bytearray) -> bytearray:
    return data[: _pos(c, len(data))]


def _insert(c: Chooser, data: bytearray) -> bytearray:
    at = _pos(c, len(data) + 1)
    return data[:at] + bytearray(c.bytes(64)) + data[at:]


def _delete(c: Chooser, data: bytearray) -> bytearray:
    if not data:
        return data
    at = _pos(c, len(data))
    return data[:at] + data[at + c.int(1, 64) :]


def _duplicate(c: Chooser, data: bytearray) -> bytearray:
    if not data:
        return data
    at = _pos(c, len(data))
    chunk = data[at : at + c.int(1, 256)]
    return data[:at] + chunk * c.int(1, 4) + data[at:]


def _big_int(c: Chooser, data: bytearray) -> bytearray:
    if len(data) < 4:
        return data
    at = _pos(c, len(data) - 3)
    if c.int(0, 1):
        data[at : at + 2] = struct.pack(c.choice([">H", "<H"]), c.choice(INTERESTING_U16))
    else:
        data[at : at + 4] = struct.pack(c.choice([">I", "<I"]), c.choice(INTERESTING_U32))
    return data


def _splice(c: Chooser, data: bytearray) -> bytearray:
    # One format's header on another's body, or two files glued together.
    other = seeds()[c.choice(SEED_NAMES)]
    cut = c.int(0, min(len(other), 400))
    if c.int(0, 1):
        return bytearray(other[:cut]) + data[cut:]
    return data + bytearray(other[cut:])


def _retype(c: Chooser, data: bytearray) -> bytearray:
    """An EXIF/TIFF tag with the wrong type: readers size and decode values by it."""
    found = [(data.find(m), o) for m, o in ((b"MM\x00*", ">"), (b"II*\x00", "<"))]
    found = [(at, order) for at, order in found if at >= 0]
    if not found:
        return _set_byte(c, data)
    at, order = min(found)
    if at + 8 > len(data):
        return data
    ifd = at + struct.unpack(order + "I", data[at + 4 : at + 8])[0]
    if ifd + 2 > len(data):
        return data
    count = struct.unpack(order + "H", data[ifd : ifd + 2])[0]
    entry = ifd + 2 + 12 * c.int(0, max(0, min(count, 40) - 1))
    if count and entry + 12 <= len(data):
        data[entry + 2 : entry + 4] = struct.pack(order + "H", c.int(0, 13))
    return data


MUTATIONS: list[Callable[[Chooser, bytearray], bytearray]] = [
    _flip, _set_byte, _truncate, _insert, _delete, _duplicate, _big_int, _splice, _retype,
]  # fmt: skip


def mutate(c: Chooser, data: bytes, *, max_steps: int = 4) -> bytes:
    buf = bytearray(data)
    for _ in range(c.int(1, max_steps)):
        buf = c.choice(MUTATIONS)(c, buf)
    return bytes(buf)


# --- rewriting the declared size in a header -------------------------------------------------


def _png_size(data: bytes, w: int, h: int) -> bytes:
    if data[12:16] != b"IHDR":
        return data
    body = b"IHDR" + struct.pack(">II", w & 0xFFFFFFFF, h & 0xFFFFFFFF) + data[24:29]
    return data[:12] + body + struct.pack(">I", zlib.crc32(body)) + data[33:]


def _jpeg_size(data: bytes, w: int, h: int) -> bytes:
    at = 2
    while at + 9 < len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3):
            size = struct.pack(">HH", h & 0xFFFF, w & 0xFFFF)
            return data[: at + 5] + size + data[at + 9 :]
        at += 2 + length
    return data


def _gif_size(data: bytes, w: int, h: int) -> bytes:
    size = struct.pack("<HH", w & 0xFFFF, h & 0xFFFF)
    out = bytearray(data[:6] + size + data[10:])
    table = 3 * (2 ** ((out[10] & 7) + 1)) if out[10] & 0x80 else 0
    at = 13 + table
    while at < len(out) and out[at] == 0x21:  # skip extension blocks to the image descriptor
        at += 2
        while at < len(out) and out[at]:
            at += out[at] + 1
        at += 1
    if at + 9 < len(out) and out[at] == 0x2C:
        out[at + 5 : at + 9] = size
    return bytes(out)


def _webp_size(data: bytes, w: int, h: int) -> bytes:
    out = bytearray(data)
    kind = bytes(out[12:16])
    if kind == b"VP8X":
        out[24:27] = ((w - 1) & 0xFFFFFF).to_bytes(3, "little")
        out[27:30] = ((h - 1) & 0xFFFFFF).to_bytes(3, "little")
    elif kind == b"VP8L" and len(out) > 25:
        bits = int.from_bytes(out[21:25], "little")
        bits = (bits & ~0xFFFFFFF) | ((w - 1) & 0x3FFF) | (((h - 1) & 0x3FFF) << 14)
        out[21:25] = bits.to_bytes(4, "little")
    elif kind == b"VP8 " and len(out) > 30:
        out[26:30] = struct.pack("<HH", w & 0x3FFF, h & 0x3FFF)
    return bytes(out)


def _tiff_size(data: bytes, w: int, h: int) -> bytes:
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return data
    out = bytearray(data)
    ifd = struct.unpack(order + "I", data[4:8])[0]
    if ifd + 2 > len(data):
        return data
    count = struct.unpack(order + "H", data[ifd : ifd + 2])[0]
    for i in range(count):
        at = ifd + 2 + 12 * i
        if at + 12 > len(out):
            break
        tag = struct.unpack(order + "H", out[at : at + 2])[0]
        if tag in (256, 257):
            value = (w if tag == 256 else h) & 0xFFFFFFFF
            out[at + 2 : at + 12] = struct.pack(order + "HII", 4, 1, value)  # LONG, 1 value
    return bytes(out)


def _isobmff_size(data: bytes, w: int, h: int) -> bytes:
    at = data.find(b"ispe")
    if at < 0:
        return data
    size = struct.pack(">II", w & 0xFFFFFFFF, h & 0xFFFFFFFF)
    return data[: at + 8] + size + data[at + 16 :]


SIZE_REWRITERS: dict[str, Callable[[bytes, int, int], bytes]] = {
    "png": _png_size,
    "png-rgba": _png_size,
    "png-16bit": _png_size,
    "jpeg": _jpeg_size,
    "jpeg-progressive": _jpeg_size,
    "gif": _gif_size,
    "webp": _webp_size,
    "webp-lossless-rgba": _webp_size,
    "webp-animated": _webp_size,
    "tiff": _tiff_size,
    "tiff-16bit-be": _tiff_size,
    "heic": _isobmff_size,
    "avif": _isobmff_size,
}
BIG_SIDES = [0, 1, 2, 0x3FFF, 0x4000, 0xFFFF, 0x10000, 0xFFFFFF, 0x7FFFFFFF, 0xFFFFFFFF]


def resized_header(c: Chooser) -> bytes:
    """A real image whose header claims another (often huge) size."""
    name = c.choice(sorted(SIZE_REWRITERS))
    side = lambda: c.choice(BIG_SIDES) if c.int(0, 1) else c.int(1, 70_000)  # noqa: E731
    return SIZE_REWRITERS[name](seeds()[name], side(), side())


MAGICS = [
    b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"II*\x00",
    b"MM\x00*", b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x1cftypavif", b"PK\x03\x04",
    b"<svg", b"BM", b"%PDF-1.4",
]  # fmt: skip


def junk(c: Chooser) -> bytes:
    """Random bytes, sometimes behind a real format's magic number."""
    body = c.bytes(512)
    return (c.choice(MAGICS) + body) if c.int(0, 1) else body


def image_input(c: Chooser) -> bytes:
    kind = c.int(0, 9)
    if kind <= 5:
        return mutate(c, seeds()[c.choice(SEED_NAMES)])
    if kind <= 7:
        data = resized_header(c)
        return mutate(c, data, max_steps=1) if c.int(0, 3) == 0 else data
    if kind == 8:
        return junk(c)
    return seeds()[c.choice(SEED_NAMES)]  # untouched: the happy path stays covered


@st.composite
def image_inputs(draw) -> bytes:
    return image_input(DrawChooser(draw))


# --- uploads: files and ZIPs -----------------------------------------------------------------

ODD_NAMES = [
    "photo.jpg", "../../etc/passwd.jpg", "/abs/path.png", "C:\\Windows\\x.jpg", "..\\..\\x.jpg",
    "a/../../b.jpg", "./x.jpg", "dir/", "nested/deeper/still/x.webp", "__MACOSX/._x.jpg",
    "._x.jpg", ".DS_Store", "Thumbs.db", "inner.zip", "ünïcødé/фото.jpg", "日本語.png",
    "x" * 300 + ".jpg", " space .jpg", "no-extension", ".hidden", "a\\b\\c.gif", "..",
    "con.jpg", "emoji-🎨.heic", "%2e%2e/x.jpg", "a/./b.jpg",
]  # fmt: skip
# Text a person could type (no lone surrogates: no browser or ZIP tool can send those).
NAME_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
)


def member_name(c: Chooser) -> str:
    if c.int(0, 2):
        return c.choice(ODD_NAMES)
    parts = [c.choice(["..", ".", "", "a", "ü", "dir", "x.jpg", "y.PNG", "z.zip"])]
    parts += [c.choice(["..", "a", "x.jpg", "", "b.tif"]) for _ in range(c.int(0, 3))]
    return "/".join(parts)


def member_data(c: Chooser) -> bytes:
    kind = c.int(0, 6)
    if kind == 0:
        return seeds()[c.choice(SEED_NAMES)]
    if kind == 1:
        return junk(c)
    if kind == 2:
        return b""
    if kind == 3:  # compressible, so a damaged archive breaks inside a compressed stream
        return c.bytes(8) * c.int(1, 2000)
    return image_input(c)


COMPRESSIONS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


def zip_archive(c: Chooser, *, max_members: int = 6) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": duplicates are the point
        with zipfile.ZipFile(out, "w") as archive:
            names: list[str] = []
            for _ in range(c.int(0, max_members)):
                reuse = names and c.int(0, 4) == 0
                name = c.choice(names) if reuse else member_name(c)
                names.append(name)
                info = zipfile.ZipInfo(name or "unnamed")
                info.compress_type = c.choice(COMPRESSIONS)
                if name.endswith("/"):
                    archive.writestr(info, b"")
                else:
                    archive.writestr(info, member_data(c))
    data = out.getvalue()
    if c.int(0, 2) == 0:  # a damaged archive
        data = mutate(c, data, max_steps=3)
    return data


def upload_file(c: Chooser) -> tuple[str, bytes]:
    if c.int(0, 2) == 0:
        return c.choice(["refs.zip", "a.zip", "photos.jpg", "../up.zip"]), zip_archive(c)
    return c.choice(ODD_NAMES), image_input(c)


def upload_batch(c: Chooser) -> list[tuple[str, bytes]]:
    return [upload_file(c) for _ in range(c.int(1, 3))]


@st.composite
def upload_batches(draw) -> list[tuple[str, bytes]]:
    return upload_batch(DrawChooser(draw))


# --- API requests ----------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", " ", "viewer", "editor", "owner", "stylize", "diffusion", "upscale",
                     "1", "-1", "1e309", "NaN", "true", "null", "0x10", "١٢", "\u202e", "a\x00b"]),
)  # fmt: skip
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)  # fmt: skip

# field -> what a near-valid value looks like, so fuzzing reaches past the first check.
FIELDS = {
    "name": st.text(max_size=120),
    "identifier": st.sampled_from(["erin", "bob", "carol@example.com", "nobody", "", "ALICE"]),
    "role": st.sampled_from(["viewer", "editor", "owner", "admin", "", "VIEWER"]),
    "team": st.sampled_from(["{team}", "{personal}", 0, -1, 2**63, 2**64, "1"]),
    "title": st.text(max_size=130),
    "description": st.text(max_size=50),
    "archived": st.sampled_from([True, False, "true", "no", 2, None]),
    "caption": st.text(max_size=60),
    "order": st.lists(st.sampled_from(["{image}", 0, 1, 2**63, -5, "x"]), max_size=5),
    "encoder": st.sampled_from(["", "magenta-style+descriptors-v2", "openclip:ViT-H-14", "nope"]),
    "ingredients": st.lists(
        st.fixed_dictionaries(
            {"profile": st.sampled_from(["{profile}"] * 4 + [0, 2**63 - 1, 2**64, "x", None])},
            optional={
                "cluster": st.sampled_from([None, 0, 1, 7, 1000, 1001, -1, 0.5]),
                "weight": st.sampled_from([0, 0.0, 1, 0.5, -1, 1000, 1001, 1e308, "1"]),
            },
        ),
        max_size=9,
    ),
    "backend": st.sampled_from(["stylize", "diffusion", "upscale", "nope", ""]),
    "strength": st.sampled_from([0, 0.5, 1, 1.0000001, -0.1, 1e308, "0.5"]),
    "count": st.sampled_from([0, 1, 4, 16, 17, 2**31, -1, 1.5, "2"]),
    "cohesion": st.sampled_from([0, 0.3, 1, 2, -1]),
    "seed": st.sampled_from([0, 7, 2**31 - 1, 2**31, -1, 2**70]),
    "prompt": st.text(max_size=40),
    "negative_prompt": st.text(max_size=40),
    "content_images": st.lists(st.sampled_from(["{image}"] * 3 + [0, 2**63, "x"]), max_size=17),
}
ENDPOINTS: list[tuple[str, str, list[str]]] = [
    ("POST", "/api/teams/", ["name"]),
    ("POST", "/api/teams/{team}/members/", ["identifier", "role"]),
    ("PATCH", "/api/teams/{team}/members/{membership}/", ["role"]),
    ("POST", "/api/boards/", ["team", "title", "description"]),
    ("PATCH", "/api/boards/{board}/", ["title", "description", "archived"]),
    ("PATCH", "/api/boards/{board}/images/{image}/", ["caption"]),
    ("POST", "/api/boards/{board}/reorder/", ["order"]),
    ("POST", "/api/boards/{board}/analyses/", ["encoder"]),
    ("POST", "/api/boards/{empty_board}/analyses/", ["encoder"]),
    ("POST", "/api/generations/", [
        "ingredients", "backend", "strength", "count", "cohesion", "seed", "prompt",
        "negative_prompt", "content_images",
    ]),
]  # fmt: skip
REQUIRED = {"ingredients", "content_images"}
LIST_PATHS = [
    "/api/teams/", "/api/boards/", "/api/generations/", "/api/boards/{board}/images/",
    "/api/teams/{team}/members/", "/api/boards/{board}/profiles/", "/api/boards/{board}/analyses/",
    "/api/boards/{board}/images/{image}/thumb/", "/api/boards/{board}/images/{image}/nope/",
]  # fmt: skip
QUERY_KEYS = ["page", "page_size", "team", "board", "archived", "download", "format", "x"]
QUERY_VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "2", "200", "201", "true", "false", "NaN", "inf",
                     "1e3", "9" * 30, "{team}", "{board}", " 1", "1.0", "\x00", "%00", "💥"]),
    NAME_TEXT,
)  # fmt: skip


@dataclass
class ApiCase:
    """One request; `{team}`-style placeholders are filled with real ids when sent."""

    method: str
    path: str
    encoding: str  # json | raw-json | form | multipart | raw | none
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    files: list[tuple[str, bytes]] = field(default_factory=list)

    def as_json(self) -> str:
        body = self.body
        if isinstance(body, bytes):
            body = {"base64": __import__("base64").b64encode(body).decode()}
        files = [(n, __import__("base64").b64encode(d).decode()) for n, d in self.files]
        return json.dumps({**self.__dict__, "body": body, "files": files}, default=repr, indent=1)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth if depth % 2 else '{"a":' * depth + "1" + "}" * depth


@st.composite
def api_cases(draw) -> ApiCase:
    kind = draw(st.integers(0, 9))
    if kind <= 4:  # a known endpoint with a field-aware (often almost valid) body
        method, path, names = draw(st.sampled_from(ENDPOINTS))
        # Mostly near-valid values (to get past the first check), sometimes anything;
        # a recipe nearly always has its ingredients, or it never reaches the service.
        wild = draw(st.booleans())  # tame: every field near-valid, so some requests succeed
        values = {n: st.one_of(FIELDS[n], JSON_VALUES) if wild else FIELDS[n] for n in names}
        required = {n: v for n, v in values.items() if n in REQUIRED and draw(st.integers(0, 9))}
        optional = {n: v for n, v in values.items() if n not in required}
        body: Any = draw(st.fixed_dictionaries(required, optional=optional))
        if draw(st.integers(0, 3)) == 0:
            body[draw(st.text(max_size=8))] = draw(JSON_VALUES)
        encoding = draw(st.sampled_from(["json"] * 6 + ["form", "multipart"]))
        if encoding != "json":  # form fields are strings: flatten what the form can carry
            body = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        return ApiCase(method, path, encoding, body)
    if kind == 5:  # any JSON value as the whole body, NaN and Infinity included
        method, path, _ = draw(st.sampled_from(ENDPOINTS))
        return ApiCase(method, path, "raw-json", json.dumps(draw(JSON_VALUES)))
    if kind == 6:  # deep nesting and other documents that are not what a parser expects
        method, path, _ = draw(st.sampled_from(ENDPOINTS))
        text = draw(
            st.one_of(
                st.integers(1, 5000).map(_nested),
                st.sampled_from(["", "{", "[1,", '{"a":1}{', "NaN", "-Infinity", '"\\ud800"',
                                 '{"name": "\\u0000"}', "1" * 5000, "\ufeff{}", "nul\x00l"]),
            )
        )  # fmt: skip
        return ApiCase(method, path, "raw-json", text)
    if kind == 7:  # junk with any content type
        method, path, _ = draw(st.sampled_from(ENDPOINTS))
        content_type = draw(
            st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                             "multipart/form-data", "multipart/form-data; boundary=x",
                             "application/xml", "", "application/json; charset=latin-1"])
        )  # fmt: skip
        return ApiCase(method, path, "raw", draw(st.binary(max_size=300)), {}, content_type)
    if kind == 8:  # uploads: fuzzed files, odd names, extra fields
        files = draw(upload_batches())
        extra = draw(
            st.dictionaries(st.sampled_from(["files", "x", "board"]), NAME_TEXT, max_size=2)
        )
        return ApiCase("POST", "/api/boards/{board}/images/", "multipart", extra, files=files)
    path = draw(st.sampled_from(LIST_PATHS))  # reads with odd query strings
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), QUERY_VALUES, max_size=4))
    return ApiCase("GET", path, "none", None, query)


# --- checks ----------------------------------------------------------------------------------

HANG_SECONDS = 60


@contextlib.contextmanager
def hang_guard(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Kill the process with every thread's stack if one case runs away (even inside C):
    a hang must fail loudly, not stall the suite."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _assert_message(text: str, what: str) -> None:
    assert isinstance(text, str) and text.strip(), f"{what} has no message"
    assert "Traceback" not in text, f"{what} leaks a traceback: {text!r}"


def check_image(data: bytes, *, max_pixels: int, thumb: int = 480, display: int = 3072) -> str:
    """inspect_image accepts (and derivatives follow) or rejects with ImageRejected."""
    from moodboards import imaging

    try:
        info = imaging.inspect_image(data, max_pixels=max_pixels)
    except imaging.ImageRejected as exc:
        _assert_message(str(exc), "a rejection")
        return "rejected"
    assert info.format in imaging.ACCEPTED_FORMATS, info
    assert info.width >= 1 and info.height >= 1, info
    assert info.width * info.height <= max_pixels, f"{info} is over the pixel cap"
    assert len(info.phash) == 16 and int(info.phash, 16) >= 0, info
    try:
        shown, small = imaging.make_derivatives(
            data, max_pixels=max_pixels, thumb_size=thumb, display_max=display
        )
    except imaging.ImageRejected as exc:
        _assert_message(str(exc), "a rejection by make_derivatives")
        return "accepted, derivatives rejected"
    for derived, limit in ((shown, display), (small, thumb)):
        with Image.open(io.BytesIO(derived.content)) as out:
            out.load()
            assert max(out.size) <= limit, (out.size, limit)
            assert 0x8825 not in out.getexif(), "location metadata was served"
    return "accepted"


def stored_files(root: Path) -> set[str]:
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def check_upload(*, board, user, files: list[tuple[str, bytes]], media_root: Path) -> list[str]:
    """Every result is added/duplicate/rejected with a message; the database and the media
    folder gain exactly the added images: no partial rows, no stray files."""
    from moodboards import services
    from moodboards.imaging import sha256_bytes
    from moodboards.models import BoardImage

    before_rows = set(BoardImage.objects.values_list("pk", flat=True))
    before_files = stored_files(media_root)
    streams = [(name, io.BytesIO(data), len(data)) for name, data in files]
    results = services.board_add_files(board=board, user=user, files=streams)
    assert len(results) >= len(files), "a file got no result"
    for r in results:
        assert r.status in ("added", "duplicate", "rejected"), r
        assert isinstance(r.name, str), r
        if r.status == "added":
            assert r.image_id is not None, r
        else:
            _assert_message(r.message, f"{r.status} result {r.name!r}")
        if r.status == "rejected":
            assert r.image_id is None, r
    added = [r.image_id for r in results if r.status == "added"]
    assert len(added) == len(set(added)), "one row reported twice"
    new_rows = set(BoardImage.objects.values_list("pk", flat=True)) - before_rows
    assert new_rows == set(added), f"rows {new_rows} but added {added}"
    images = list(BoardImage.objects.filter(pk__in=new_rows))
    expected = {image.original.name for image in images}
    derived = {f.name for image in images for f in (image.display, image.thumbnail) if f}
    new_files = stored_files(media_root) - before_files
    assert new_files - derived == expected, f"stored {new_files}, rows point at {expected}"
    for image in images:
        assert image.board_id == board.pk
        with image.original.open("rb") as fh:
            assert sha256_bytes(fh.read()) == image.sha256, "stored original differs"
    return [r.status for r in results]


def check_processing(image_id: int) -> str:
    """What the worker runs leaves the image READY (with files) or FAILED with a message."""
    from moodboards.models import BoardImage, ImageStatus
    from moodboards.tasks import process_image

    process_image(image_id)  # the task body, as the worker runs it
    image = BoardImage.objects.get(pk=image_id)
    assert image.status in (ImageStatus.READY, ImageStatus.FAILED), image.status
    if image.status == ImageStatus.FAILED:
        _assert_message(image.error, "a failed image")
        return "failed"
    for f in (image.display, image.thumbnail):
        with f.open("rb") as fh, Image.open(fh) as out:
            out.load()
    return "ready"


def fill_path(path: str, ids: dict[str, int]) -> str:
    return path.format(**ids) if "{" in path else path


def fill_value(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids.get(value[1:-1], value)
    if isinstance(value, list):
        return [fill_value(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill_value(v, ids) for k, v in value.items()}
    return value


BOUNDARY = "fuzzfuzzfuzz0123456789"


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart body written by hand: file names go to the server exactly as given
    (Django's test client refuses names such as "dir/" before sending them)."""

    def quoted(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")

    parts = []
    for key, value in fields.items():
        head = f'Content-Disposition: form-data; name="{quoted(key)}"'
        parts.append(
            head.encode("utf-8", "replace") + b"\r\n\r\n" + value.encode("utf-8", "replace")
        )
    for name, data in files:
        head = (
            f'Content-Disposition: form-data; name="files"; filename="{quoted(name)}"\r\n'
            "Content-Type: application/octet-stream"
        )
        parts.append(head.encode("utf-8", "replace") + b"\r\n\r\n" + data)
    body = b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return body + b"--" + BOUNDARY.encode() + b"--\r\n", f"multipart/form-data; boundary={BOUNDARY}"


def send(client, case: ApiCase, ids: dict[str, int]):
    path = fill_path(case.path, ids)
    call = getattr(client, case.method.lower())
    body = fill_value(case.body, ids)
    if case.encoding == "none":
        return call(path, {k: str(fill_value(v, ids)) for k, v in case.query.items()})
    if case.encoding == "json":
        return call(path, json.dumps(body), content_type="application/json")
    if case.encoding == "raw-json":
        return call(path, body, content_type="application/json")
    if case.encoding == "raw":  # exactly these bytes and this header, even an empty one
        return client.generic(case.method, path, body, content_type=case.content_type)
    if case.encoding == "form":
        from urllib.parse import urlencode

        text = urlencode({k: str(v) for k, v in body.items()})
        return call(path, text, content_type="application/x-www-form-urlencoded")
    fields = {k: str(v) for k, v in (body or {}).items()}
    data, content_type = multipart(fields, case.files)
    return call(path, data, content_type=content_type)


def row_counts() -> dict[str, int]:
    from generation.models import ContentImage, Generation, Ingredient
    from moodboards.models import Board, BoardImage, Membership, Team
    from taste.models import Analysis

    models = [Team, Membership, Board, BoardImage, Analysis, Generation, Ingredient, ContentImage]
    return {m.__name__: m.objects.count() for m in models}


def check_api(client, case: ApiCase, ids: dict[str, int]) -> str:
    """Never a 5xx; every 4xx has the documented error body and changed no rows."""
    before = row_counts()
    response = send(client, case, ids)
    status = response.status_code
    assert status < 500, f"{status} for {case.method} {case.path}"
    if status >= 400:
        assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
        body = json.loads(response.content)
        assert set(body) == {"error"}, body
        error = body["error"]
        assert set(error) <= {"code", "message", "details"}, error
        assert isinstance(error["code"], str) and error["code"], error
        _assert_message(error["message"], f"the {status} error")
        assert isinstance(error.get("details", {}), dict), error
        assert row_counts() == before, f"a {status} changed rows: {before} -> {row_counts()}"
        if status == 429:
            assert int(response["Retry-After"]) > 0
    return f"{status // 100}xx"


# --- the page forms: generate, preview, reorder, invite, upload ---------------------------------

# What a hostile form field holds: near-valid values, the numbers that used to be 500s
# (inf, nan, 1e400, huge ids), words where numbers go, and control characters.
FORM_NUMBERS = st.sampled_from(
    ["", "0", "1", "0.5", "1.0", "-1", "16", "17", "1000", "1001", "2147483647", "2147483648",
     "inf", "-inf", "Infinity", "nan", "NaN", "1e400", "-1e400", "1e308", "1e-400", "abc",
     "9" * 30, "1.5", " 1", "0x10", "١٢", "\x00", "💥", "all", "{profile}", "{image}", "{team}"]
)  # fmt: skip
JSON_NUMBERS = st.one_of(
    FORM_NUMBERS,
    st.sampled_from([0, 1, -1, 0.5, 1.5, 99, 1000, 2**31, 2**63, 2**64, 10**400, True, None]),
    st.floats(allow_nan=True, allow_infinity=True),
)
GENERATE_FIELDS = {
    "profile_0": st.sampled_from(["{profile}"] * 6 + ["", "0", "x", "9" * 25, "{image}"]),
    "cluster_0": st.one_of(st.sampled_from(["all", "0", "1"]), FORM_NUMBERS),
    "weight_0": FORM_NUMBERS,
    "profile_1": st.sampled_from(["", "{profile}", "x"]),
    "cluster_1": FORM_NUMBERS,
    "weight_1": FORM_NUMBERS,
    "strength": FORM_NUMBERS,
    "count": st.one_of(st.sampled_from(["1", "2"]), FORM_NUMBERS),
    "cohesion": FORM_NUMBERS,
    "seed": FORM_NUMBERS,
    "backend": st.sampled_from(["stylize", "upscale", "diffusion", "", "nope"]),
    "team": st.sampled_from(["", "{team}", "{personal}", "0", "x", "9" * 25]),
    "prompt": st.text(max_size=30),
    "content_ids": st.lists(
        st.sampled_from(["{image}"] * 4 + ["0", "x", "9" * 25, "-1", "1e400"]), max_size=20
    ),
}


@st.composite
def page_cases(draw) -> ApiCase:
    """One request to a page form, as a logged-in editor's browser could send it."""
    kind = draw(st.integers(0, 9))
    if kind <= 2:  # the Generate form, urlencoded or multipart with pictures
        body = draw(st.fixed_dictionaries({}, optional=GENERATE_FIELDS))
        body.setdefault("profile_0", "{profile}")
        if draw(st.integers(0, 4)) == 0:
            files = draw(st.lists(st.sampled_from(["jpeg", "png", "gif"]), max_size=3))
            raw = seeds()
            return ApiCase("POST", "/generate/", "page-multipart", body,
                           files=[(f"c.{k}", raw[k]) for k in files])  # fmt: skip
        return ApiCase("POST", "/generate/", "page-form", body)
    if kind <= 4:  # the live preview's JSON
        row = draw(
            st.fixed_dictionaries(
                {"profile": st.sampled_from(["{profile}"] * 4 + [0, "x", None])},
                optional={"cluster": JSON_NUMBERS, "weight": JSON_NUMBERS},
            )
        )
        body = draw(
            st.fixed_dictionaries(
                {"ingredients": st.just([row]) | st.lists(JSON_VALUES, max_size=3)},
                optional={"content": st.sampled_from(["{image}", 0, "x", None, 2**70]),
                          "strength": JSON_NUMBERS},
            )
        )  # fmt: skip
        if draw(st.integers(0, 4)) == 0:
            return ApiCase(
                "POST", "/generate/preview/", "raw-json", _nested(draw(st.integers(1, 50_000)))
            )
        return ApiCase("POST", "/generate/preview/", "json", body)
    if kind <= 6:  # reorder: ids, numbers that aren't, deep and long lists
        choice = draw(st.integers(0, 5))
        if choice == 0:
            return ApiCase(
                "POST",
                "/boards/{board}/reorder/",
                "raw-json",
                _nested(draw(st.integers(1, 50_000))),
            )
        if choice == 1:
            text = (
                '{"order": ['
                + ",".join(["1e400", "NaN", "-Infinity", "1" * 400][: draw(st.integers(1, 4))])
                + "]}"
            )
            return ApiCase("POST", "/boards/{board}/reorder/", "raw-json", text)
        if choice == 2:
            count = draw(st.sampled_from([10_000, 10_001, 50_000]))
            return ApiCase(
                "POST", "/boards/{board}/reorder/", "json", {"order": list(range(1, count + 1))}
            )
        order = draw(
            st.lists(st.one_of(st.sampled_from(["{image}"] * 3), JSON_NUMBERS), max_size=12)
        )
        return ApiCase("POST", "/boards/{board}/reorder/", "json", {"order": order})  # fmt: skip
    if kind <= 7:  # invite
        body = draw(
            st.fixed_dictionaries(
                {"identifier": st.one_of(FIELDS["identifier"], st.text(max_size=300)),
                 "role": FIELDS["role"]}
            )
        )  # fmt: skip
        return ApiCase("POST", "/teams/{team}/invite/", "page-form", body)
    files = draw(upload_batches())  # the board page's upload endpoint
    return ApiCase("POST", "/boards/{board}/upload/", "multipart", {}, files=files)


def _page_rows() -> dict[str, int]:
    from moodboards.models import Invitation

    return {**row_counts(), "Invitation": Invitation.objects.count()}


def check_page(client, case: ApiCase, ids: dict[str, int]) -> str:
    """Never a 5xx; a refused request changes no row; an invitation never adds a member."""
    from moodboards.models import Membership

    before = _page_rows()
    members = Membership.objects.count()
    if case.encoding in ("page-form", "page-multipart"):
        body = {k: fill_value(v, ids) for k, v in (case.body or {}).items()}
        body = {k: [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in body.items()}
        if case.encoding == "page-multipart":
            from django.core.files.uploadedfile import SimpleUploadedFile

            body["content_files"] = [SimpleUploadedFile(n, d) for n, d in case.files]
        response = client.post(fill_path(case.path, ids), body)
    else:
        response = send(client, case, ids)
    status = response.status_code
    assert status < 500, f"{status} for {case.method} {case.path}"
    assert Membership.objects.count() == members, "a page request added a member"
    refused = status >= 400 or (
        status == 302
        and case.path == "/generate/"
        and response["Location"].startswith("/generate/")
    )
    if refused:
        assert _page_rows() == before, f"a refused {case.path} changed rows"
        if status >= 400 and response["Content-Type"].startswith("application/json"):
            _assert_message(json.loads(response.content)["error"], f"the {status} error")
    if status == 429:
        assert int(response["Retry-After"]) > 0
    return f"{case.path.split('/')[1] or '/'} {status // 100}xx" + (" refused" if refused else "")
