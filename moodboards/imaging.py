"""Decoding, validating and deriving board images. No Django models here.

Everything a user can upload goes through `inspect_image` before it is stored:
it decodes the whole file (a truncated file fails here, not in a worker later),
refuses formats we don't serve, and guards against decompression bombs.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass
from typing import IO

import imagehash
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

# Formats we accept, as Pillow names them. MPO is how Pillow reads many camera JPEGs.
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "TIFF", "HEIF", "AVIF")
FORMAT_CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "HEIF": "image/heif",
    "AVIF": "image/avif",
}
FORMAT_EXTENSIONS = {
    "JPEG": "jpg",
    "MPO": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "TIFF": "tif",
    "HEIF": "heic",
    "AVIF": "avif",
}

# Never guess at a broken file: a truncated upload must be rejected.
ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageRejected(ValueError):
    """A file that is not an image we can keep; the message is shown to the user."""


@dataclass(frozen=True)
class InspectedImage:
    format: str
    content_type: str
    extension: str
    width: int  # after EXIF orientation
    height: int
    sha256: str
    phash: str  # 16 hex digits


def _openable_formats() -> list[str]:
    # Pillow registers most plugins lazily; HEIF comes from pillow-heif's opener.
    Image.init()
    return [fmt for fmt in ACCEPTED_FORMATS if fmt in Image.OPEN]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes, *, max_pixels: int, draft: tuple[int, int] | None = None) -> Image.Image:
    """Decode `data` fully (first frame only, as stored: not turned upright), or raise
    ImageRejected. With ``draft``, a JPEG is decoded at the smallest DCT scale at least
    that large: every byte is still decoded (a truncated file still fails), at a
    fraction of the memory and time. ``image.info["full_size"]`` is the header's size."""
    if not data:
        raise ImageRejected("The file is empty (0 bytes).")
    try:
        # Pillow's own bomb check warns at MAX_IMAGE_PIXELS and raises at twice that;
        # we read the header size ourselves first so the limit is exact and configurable.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_openable_formats())
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected(
                    f"The image is {width}×{height} pixels, over the {_limit(max_pixels)}."
                )
            if width < 1 or height < 1:
                raise ImageRejected("The image has no pixels.")
            image.seek(0)
            if draft is not None and image.format in ("JPEG", "MPO"):
                image.draft(image.mode if image.mode in ("RGB", "L") else None, draft)
            image.load()
            image.info["full_size"] = (width, height)
            return image
    except ImageRejected:
        raise
    except UnidentifiedImageError:
        raise ImageRejected(
            "Not an image we can read. Accepted: JPEG, PNG, WebP, GIF, TIFF, HEIC/HEIF, "
            "or a ZIP of those."
        ) from None
    except Image.DecompressionBombError:
        # Pillow's own guard fired first (at twice its default limit).
        raise ImageRejected(
            f"The image has too many pixels, over the {_limit(max_pixels)}."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError, TypeError) as exc:
        # Truncated or corrupt data: Pillow raises OSError("image file is truncated")
        # and friends only when it actually decodes the pixels; its AVIF decoder says
        # RuntimeError("Failed to decode frame 0: …"), and a TIFF tag of the wrong type
        # (strip offsets as a fraction) TypeError from inside load().
        raise ImageRejected(f"The image is damaged or incomplete ({_short(exc)}).") from None


def open_first_frame(data: bytes, *, max_pixels: int) -> Image.Image:
    """Decode `data` fully (first frame only) with orientation applied, or raise ImageRejected."""
    image = _decode(data, max_pixels=max_pixels)
    oriented = _upright(image)
    oriented.format = image.format
    return oriented


def header_pixels(stream: IO[bytes]) -> int | None:
    """Width × height from a file's header, decoding no pixel (None if unreadable: the
    full check rejects it later). The stream is left where it was."""
    position = stream.tell()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream, formats=_openable_formats()) as image:
                width, height = image.size
        return width * height
    except Image.DecompressionBombError:
        return None
    except Exception:  # any unreadable header: the full decode says why
        return None
    finally:
        stream.seek(position)


# EXIF orientation -> the transpose that shows the picture upright.
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image) -> Image.Image:
    """The image with its EXIF orientation applied."""
    try:
        oriented = ImageOps.exif_transpose(image)
        return image if oriented is None else oriented
    except (TypeError, ValueError, KeyError, struct.error):
        # exif_transpose rotates, then re-writes the EXIF block into the copy; a corrupt
        # tag (a rational stored as raw bytes…) breaks that re-write, not the picture.
        # We serve no metadata anyway, so turn the pixels ourselves.
        try:
            orientation = image.getexif().get(ExifTags.Base.Orientation)
        except (TypeError, ValueError, KeyError, struct.error, OSError, SyntaxError):
            orientation = None
        method = _ORIENTATION_TRANSPOSE.get(orientation)
        return image.transpose(method) if method is not None else image.copy()


def _limit(max_pixels: int) -> str:
    return f"{max_pixels / 1e6:g} megapixel limit"


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:120]


HASH_SIDE = 256


def inspect_image(data: bytes, *, max_pixels: int) -> InspectedImage:
    """Validate an uploaded file and measure what we store about it.

    It runs in the web request, so it holds one decoded copy at most: the picture is
    shrunk in place for the hash and only the small copy is turned upright (a JPEG is
    decoded at a reduced DCT scale to begin with).
    """
    image = _decode(data, max_pixels=max_pixels, draft=(HASH_SIDE, HASH_SIDE))
    fmt = image.format or "JPEG"
    width, height = image.info["full_size"]
    orientation = _orientation(image)
    if orientation in (5, 6, 7, 8):  # turned a quarter: the upright picture is tall
        width, height = height, width
    small = _for_hashing(image, orientation)
    return InspectedImage(
        format=fmt,
        content_type=FORMAT_CONTENT_TYPES[fmt],
        extension=FORMAT_EXTENSIONS[fmt],
        width=width,
        height=height,
        sha256=sha256_bytes(data),
        phash=str(imagehash.phash(small)),
    )


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(ExifTags.Base.Orientation)
    except (TypeError, ValueError, KeyError, struct.error, OSError, SyntaxError):
        return None


def _for_hashing(image: Image.Image, orientation: int | None) -> Image.Image:
    """The picture as pHash sees it: grey, upright, at most HASH_SIDE px. Shrinks
    ``image`` in place (the caller is done with it): no second full-size copy."""
    # Pillow can't shrink the 16-bit modes (I;16, I;16B…) by uneven factors ("image has
    # wrong mode"): widen them to 32-bit I first, which loses nothing.
    small = image.convert("I") if image.mode.startswith("I;16") else image
    small.thumbnail((HASH_SIDE, HASH_SIDE))
    method = _ORIENTATION_TRANSPOSE.get(orientation)
    if method is not None:
        small = small.transpose(method)
    return _flatten(small).convert("L")


def phash_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB (or RGBA kept for PNG output); palette and CMYK images made displayable."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # 16-bit greyscale TIFFs/PNGs: scale to 8 bits rather than clip to white. Pillow's
        # point() takes only I, I;16 and F, so big-endian I;16B (scientific TIFFs) goes
        # through I first, losslessly.
        wide = image if image.mode in ("I", "I;16", "F") else image.convert("I")
        return wide.point(lambda v: v / 256).convert("L").convert("RGB")
    return image.convert("RGB")


@dataclass(frozen=True)
class Derived:
    content: bytes
    extension: str
    content_type: str


def _encode(image: Image.Image, *, quality: int) -> Derived:
    # No `exif=` and no `info` carried over: GPS and every other tag are dropped.
    # The ICC profile is kept so colours look the same as the original.
    icc = image.info.get("icc_profile")
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "WEBP", quality=quality, method=4, icc_profile=icc)
        return Derived(out.getvalue(), "webp", "image/webp")
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True, icc_profile=icc)
    return Derived(out.getvalue(), "jpg", "image/jpeg")


def make_derivatives(
    data: bytes, *, max_pixels: int, thumb_size: int, display_max: int
) -> tuple[Derived, Derived]:
    """The served image (oriented, metadata stripped) and its grid thumbnail."""
    image = open_first_frame(data, max_pixels=max_pixels)
    icc = image.info.get("icc_profile")
    flat = _flatten(image)
    if icc:
        flat.info["icc_profile"] = icc
    display = flat.copy()
    display.thumbnail((display_max, display_max), Image.Resampling.LANCZOS)
    display.info["icc_profile"] = icc
    thumb = flat.copy()
    thumb.thumbnail((thumb_size, thumb_size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    thumb.info["icc_profile"] = icc
    return _encode(display, quality=92), _encode(thumb, quality=82)
