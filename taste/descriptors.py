"""Pixel descriptors: what an image's colour, tone and texture measure as.

These are first-class evidence for keywords (see DESIGN.md): every descriptor-licensed
keyword names the fields below, so a profile can say *why* it calls a board "muted".

The image is downsized to at most `ANALYSIS_SIDE` px on its long side for the
colour/tone/edge measurements (they describe the look, not the pixels). Grain is the
exception: downsizing averages noise away, so it is measured on a native-resolution
centre crop. Everything is vectorised numpy; ~13 ms per image on one core.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import color, feature

ANALYSIS_SIDE = 256
PALETTE_K = 5
PALETTE_SAMPLE_SIDE = 48

# Hue bands in Lab hue angle (degrees, atan2(b*, a*)). Lab hue is not HSV hue:
# red sits near 30°, yellow near 90°, green near 140°, blue near 270-300°.
HUE_BANDS: dict[str, tuple[float, float]] = {
    "red": (10.0, 45.0),
    "orange": (45.0, 70.0),
    "yellow": (70.0, 105.0),
    "green": (105.0, 170.0),
    "cyan": (170.0, 245.0),
    "blue": (245.0, 300.0),
    "purple": (300.0, 335.0),
    "pink": (335.0, 370.0),  # wraps through 0° to 10°
}
CHROMATIC_MIN = 12.0  # C* below this reads as grey to most people


@dataclass
class Descriptors:
    """Scalar measurements of one image plus its Lab palette.

    `VECTOR_FIELDS` fixes the order of `as_vector()`; the embedding cache depends on it,
    so append new fields at the end and bump the encoder id.
    """

    # --- colour ---
    colourfulness: float  # Hasler-Süsstrunk M on 0-255 RGB: 0 grey, ~15 muted, >80 vivid
    saturation_mean: float  # HSV saturation (faded out in near-blacks), 0-1
    saturation_p90: float  # 90th percentile HSV saturation: the strongest colour present
    chroma_mean: float  # mean Lab C*
    warmth: float  # mean (b* + 0.5 a*): >0 warm (orange/yellow), <0 cool (blue/teal)
    tint: float  # mean a*: >0 magenta cast, <0 green cast
    shadow_warmth: float  # warmth of the darkest quarter of pixels
    highlight_warmth: float  # warmth of the brightest quarter of pixels
    hue_concentration: float  # chroma-weighted resultant length of hue angles, 0-1
    palette_entropy: float  # entropy of an 8x8x8 RGB histogram / 9 bits, 0-1
    # --- tone / light ---
    key: float  # mean L* (0-100): low key < 35, high key > 65
    contrast: float  # L* p95 - p5
    black_level: float  # L* p2: lifted blacks read as faded/matte
    white_level: float  # L* p98
    shadow_clip: float  # fraction of pixels with L* < 4
    highlight_clip: float  # fraction of pixels with L* > 96
    # --- texture ---
    grain: float  # noise sigma in L* units (Immerkaer estimator, native-resolution crop)
    edge_density: float  # fraction of Canny edge pixels
    flat_fraction: float  # fraction of pixels with almost no local gradient (negative space)
    # --- composition ---
    centre_focus: float  # gradient energy in the central third / overall
    symmetry: float  # correlation of the image with its mirror image, -1..1
    # --- hue band shares (fraction of all pixels that are chromatic and in the band) ---
    hue_red: float
    hue_orange: float
    hue_yellow: float
    hue_green: float
    hue_cyan: float
    hue_blue: float
    hue_purple: float
    hue_pink: float
    # --- derived ---
    split_tone: float  # highlight_warmth - shadow_warmth: >15 reads as teal/orange grading
    # --- not in the vector: board-level tone and palette pooling ---
    lab_mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    lab_std: tuple[float, float, float] = (0.0, 0.0, 0.0)
    l_quantiles: tuple[float, float, float, float, float] = (0.0,) * 5  # p5,p25,p50,p75,p95
    palette_lab: list[list[float]] = field(default_factory=list)  # (k, 3) Lab centres
    palette_share: list[float] = field(default_factory=list)  # (k,) pixel shares

    VECTOR_FIELDS: ClassVar[tuple[str, ...]] = ()  # filled in below

    def as_vector(self) -> np.ndarray:
        return np.array([getattr(self, f) for f in self.VECTOR_FIELDS], dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Descriptors:
        kwargs = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        for name in ("lab_mean", "lab_std", "l_quantiles"):
            if name in kwargs:
                kwargs[name] = tuple(float(v) for v in kwargs[name])
        return cls(**kwargs)


Descriptors.VECTOR_FIELDS = tuple(
    f.name
    for f in fields(Descriptors)
    if f.name not in ("lab_mean", "lab_std", "l_quantiles", "palette_lab", "palette_share")
)
DESCRIPTOR_DIM = len(Descriptors.VECTOR_FIELDS)

# Typical spread of each field across varied photographs (rough standard deviations,
# measured on the bundled sample photographs in several looks). Clustering divides by
# these instead of by the board's own spread: a coherent board must stay coherent
# rather than having its tiny variations blown up to unit variance. Keyword scoring
# uses them as the width of the soft threshold.
TYPICAL_SCALE: dict[str, float] = {
    "colourfulness": 20.0,
    "saturation_mean": 0.12,
    "saturation_p90": 0.15,
    "chroma_mean": 8.0,
    "warmth": 6.0,
    "tint": 4.0,
    "shadow_warmth": 6.0,
    "highlight_warmth": 6.0,
    "hue_concentration": 0.2,
    "palette_entropy": 0.08,
    "key": 10.0,
    "contrast": 12.0,
    "black_level": 6.0,
    "white_level": 6.0,
    "shadow_clip": 0.05,
    "highlight_clip": 0.05,
    "grain": 1.0,
    "edge_density": 0.03,
    "flat_fraction": 0.12,
    "centre_focus": 0.25,
    "symmetry": 0.2,
    **{f"hue_{band}": 0.08 for band in HUE_BANDS},
    "split_tone": 8.0,
}
assert set(TYPICAL_SCALE) == set(Descriptors.VECTOR_FIELDS)


# Median of each field over the untouched sample photographs (skimage/sklearn colour
# photos): shown next to a board's value in keyword evidence as "a typical photo".
REFERENCE_TYPICAL: dict[str, float] = {
    "colourfulness": 37.7, "saturation_mean": 0.43, "saturation_p90": 0.65,
    "chroma_mean": 20.5, "warmth": 13.7, "tint": 4.7, "shadow_warmth": 6.6,
    "highlight_warmth": 4.7, "hue_concentration": 0.85, "palette_entropy": 0.47,
    "key": 47.8, "contrast": 51.2, "black_level": 3.5, "white_level": 77.1,
    "shadow_clip": 0.025, "highlight_clip": 0.0, "grain": 0.87, "edge_density": 0.10,
    "flat_fraction": 0.22, "centre_focus": 1.05, "symmetry": 0.12, "hue_red": 0.04,
    "hue_orange": 0.14, "hue_yellow": 0.04, "hue_green": 0.0, "hue_cyan": 0.0,
    "hue_blue": 0.0, "hue_purple": 0.0, "hue_pink": 0.0, "split_tone": -0.35,
}  # fmt: skip
assert set(REFERENCE_TYPICAL) == set(Descriptors.VECTOR_FIELDS)


# The "look space" that clustering uses. Sub-styles are about how images are graded
# (colour strength, cast, split-tone, lifted blacks, grain), not about what they show,
# so composition and hue-band fields are left out: they mostly identify the subject.
# Each field is divided by its typical spread *between images of the same look*
# (pooled within-look standard deviation, measured on the bundled photographs rendered
# in the six looks of taste/looks.py); one unit therefore means "as different as two
# images of one look usually are". Colour strength is compared on a log scale because
# vivid looks vary multiplicatively, and casts on a signed log scale because a
# cast of 20 and one of 60 are both simply "warm". (transform, within-look scale)
LOOK_FEATURES: dict[str, tuple[str, float]] = {
    "colourfulness": ("log1p", 0.23),
    "saturation_mean": ("", 0.12),
    "saturation_p90": ("", 0.125),
    "chroma_mean": ("log1p", 0.31),
    "warmth": ("slog", 0.50),
    "shadow_warmth": ("slog", 0.56),
    "highlight_warmth": ("slog", 0.46),
    "hue_concentration": ("", 0.155),
    "black_level": ("", 4.5),
    "grain": ("", 0.89),
}


def look_space(vectors: np.ndarray) -> np.ndarray:
    """(n, DESCRIPTOR_DIM) descriptor vectors -> (n, len(LOOK_FEATURES)) in within-look
    units, divided by sqrt(#features) so a distance is an RMS over features."""
    vectors = np.asarray(vectors, dtype=np.float64).reshape(-1, DESCRIPTOR_DIM)
    cols = []
    for name, (transform, scale) in LOOK_FEATURES.items():
        col = vectors[:, Descriptors.VECTOR_FIELDS.index(name)]
        if transform == "log1p":
            col = np.log1p(np.maximum(col, 0.0))
        elif transform == "slog":  # signed log: a cast of 20 vs 60 is "warm" either way
            col = np.sign(col) * np.log1p(np.abs(col) / 10.0)
        cols.append(col / scale)
    return np.stack(cols, axis=1) / np.sqrt(len(LOOK_FEATURES))


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.floating | np.integer):
        return value.item()
    return value


def _downsized(image: Image.Image, side: int) -> np.ndarray:
    image = image.convert("RGB")
    scale = side / max(image.size)
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(image, dtype=np.float32) / 255.0


def _native_centre_crop(image: Image.Image, side: int) -> np.ndarray:
    w, h = image.size
    cw, ch = min(w, side), min(h, side)
    left, top = (w - cw) // 2, (h - ch) // 2
    crop = image.crop((left, top, left + cw, top + ch)).convert("L")
    return np.asarray(crop, dtype=np.float32) * (100.0 / 255.0)  # ~L* units


def _noise_sigma(grey: np.ndarray) -> float:
    """Immerkaer's noise estimate with a median instead of a mean, so edges and texture
    (a minority of pixels) do not count as grain."""
    if min(grey.shape) < 3:
        return 0.0
    g = grey
    r = (
        g[:-2, :-2] - 2 * g[:-2, 1:-1] + g[:-2, 2:]
        - 2 * g[1:-1, :-2] + 4 * g[1:-1, 1:-1] - 2 * g[1:-1, 2:]
        + g[2:, :-2] - 2 * g[2:, 1:-1] + g[2:, 2:]
    )  # fmt: skip
    # The kernel's L2 norm is 6: white noise of sigma s gives residual sigma 6s.
    return float(1.4826 * np.median(np.abs(r)) / 6.0)


def weighted_kmeans(
    points: np.ndarray, k: int, weights: np.ndarray | None = None, *, iters: int = 15
) -> tuple[np.ndarray, np.ndarray]:
    """Small deterministic weighted Lloyd's k-means: (centres, weight shares), largest first.

    Used for palettes (one image: ~2k pixels; a board: ~1k palette colours). sklearn's
    KMeans costs ~20 ms per call in setup alone and its OpenMP pool contends with the
    encoder's threads; for these sizes this loop takes ~1 ms. Seeding is weighted
    k-means++ with a fixed generator, so the same input always gives the same palette.
    """
    points = np.asarray(points, dtype=np.float64)
    n = len(points)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    k = min(k, n)
    rng = np.random.default_rng(0)
    first = int(rng.choice(n, p=w / w.sum()))
    centres = [points[first]]
    d2 = ((points - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = (d2 * w).sum()
        if total <= 1e-9:  # fewer distinct colours than k
            break
        idx = int(rng.choice(n, p=d2 * w / total))
        centres.append(points[idx])
        d2 = np.minimum(d2, ((points - points[idx]) ** 2).sum(1))
    c = np.array(centres, dtype=np.float64)
    p2 = (points**2).sum(1)[:, None]

    def assign(c: np.ndarray) -> np.ndarray:
        return (p2 - 2.0 * points @ c.T + (c**2).sum(1)[None]).argmin(1)

    for _ in range(iters):
        labels = assign(c)
        mass = np.bincount(labels, weights=w, minlength=len(c))
        nonzero = mass > 0
        for ch in range(points.shape[1]):
            sums = np.bincount(labels, weights=w * points[:, ch], minlength=len(c))
            c[nonzero, ch] = sums[nonzero] / mass[nonzero]
    mass = np.bincount(assign(c), weights=w, minlength=len(c))
    keep = mass > 0
    c, share = c[keep], mass[keep] / mass.sum()
    order = np.argsort(-share, kind="stable")
    return c[order], share[order]


def compute_descriptors(image: Image.Image) -> Descriptors:
    """Measure one image (any mode; converted to RGB)."""
    rgb = _downsized(image, ANALYSIS_SIDE)
    lab = color.rgb2lab(rgb).astype(np.float32)
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    Lf = L.ravel()

    # 1. Colour. Hasler & Süsstrunk (2003) colourfulness on 0-255 opponent channels.
    rg = (rgb[..., 0] - rgb[..., 1]) * 255.0
    yb = (0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]) * 255.0
    colourfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    r, g, bl = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx = np.maximum(np.maximum(r, g), bl)  # faster than reducing over the channel axis
    mn = np.minimum(np.minimum(r, g), bl)
    # HSV saturation, except that near-black pixels cannot be "fully saturated": plain
    # HSV calls a pixel at 5% brightness with any tint 100% saturated, which makes dark
    # images look vivid. Dividing by at least 0.25 fades saturation out below 25% value.
    sat = (mx - mn) / np.maximum(mx, 0.25)
    chroma = np.hypot(a, b)
    warm = b + 0.5 * a
    # One sort-based call for all L* quantiles: np.percentile partitions per call.
    p2, p5, p25, p50, p75, p95, p98 = np.percentile(Lf, [2, 5, 25, 50, 75, 95, 98])
    lo_q, hi_q = p25, p75
    shadows, highlights = lo_q >= L, hi_q <= L
    hue = (np.degrees(np.arctan2(b, a)) + 360.0) % 360.0
    w = chroma.ravel()
    if w.sum() > 1e-3 * w.size:
        rad = np.radians(hue.ravel())
        hue_conc = float(np.hypot((w * np.cos(rad)).sum(), (w * np.sin(rad)).sum()) / w.sum())
    else:
        hue_conc = 1.0  # a grey image is as concentrated as a palette gets

    chromatic = chroma >= CHROMATIC_MIN
    hue_c = hue[chromatic]
    hue_c = np.where(hue_c < HUE_BANDS["red"][0], hue_c + 360.0, hue_c)
    bounds = np.array([lo for lo, _ in HUE_BANDS.values()] + [370.0])
    counts = np.bincount(np.searchsorted(bounds, hue_c, side="right") - 1, minlength=9)
    bands = {f"hue_{name}": float(counts[i] / chroma.size) for i, name in enumerate(HUE_BANDS)}

    q = np.clip((rgb * 7.999).astype(np.int32), 0, 7)
    hist = np.bincount((q[..., 0] * 64 + q[..., 1] * 8 + q[..., 2]).ravel(), minlength=512)
    p = hist[hist > 0] / hist.sum()
    entropy = float(-(p * np.log2(p)).sum() / 9.0)

    # 3. Texture and composition on the grey image.
    grey = L / 100.0
    # One Gaussian smoothing serves both Canny (sigma=0: already smoothed) and the
    # gradient map for negative space and centre focus.
    smooth = ndimage.gaussian_filter(grey, 2.0)
    gy, gx = np.gradient(smooth)
    grad = np.hypot(gx, gy)
    edges = feature.canny(smooth, sigma=0.0, low_threshold=0.04, high_threshold=0.1)
    h, wd = grey.shape
    centre = grad[h // 3 : max(h // 3 + 1, 2 * h // 3), wd // 3 : max(wd // 3 + 1, 2 * wd // 3)]
    centre_focus = float(centre.mean() / max(grad.mean(), 1e-6))
    mirror = grey[:, ::-1]
    gs, ms = grey - grey.mean(), mirror - mirror.mean()
    denom = float(np.sqrt((gs**2).sum() * (ms**2).sum()))
    symmetry = float((gs * ms).sum() / denom) if denom > 1e-9 else 1.0

    # 4. Palette: k-means in Lab on a small, evenly spaced pixel sample.
    step = max(1, int(np.ceil(max(h, wd) / PALETTE_SAMPLE_SIDE)))
    sample = lab[::step, ::step].reshape(-1, 3).astype(np.float64)
    centres, shares = weighted_kmeans(sample, PALETTE_K)

    return Descriptors(
        colourfulness=colourfulness,
        saturation_mean=float(sat.mean()),
        saturation_p90=float(np.percentile(sat, 90)),
        chroma_mean=float(chroma.mean()),
        warmth=float(warm.mean()),
        tint=float(a.mean()),
        shadow_warmth=float(warm[shadows].mean()),
        highlight_warmth=float(warm[highlights].mean()),
        hue_concentration=hue_conc,
        palette_entropy=entropy,
        key=float(Lf.mean()),
        contrast=float(p95 - p5),
        black_level=float(p2),
        white_level=float(p98),
        shadow_clip=float((Lf < 4.0).mean()),
        highlight_clip=float((Lf > 96.0).mean()),
        grain=_noise_sigma(_native_centre_crop(image, ANALYSIS_SIDE)),
        edge_density=float(edges.mean()),
        flat_fraction=float((grad < 0.004).mean()),
        centre_focus=centre_focus,
        symmetry=symmetry,
        **bands,
        split_tone=float(warm[highlights].mean() - warm[shadows].mean()),
        lab_mean=(float(L.mean()), float(a.mean()), float(b.mean())),
        lab_std=(float(L.std()), float(a.std()), float(b.std())),
        l_quantiles=(float(p5), float(p25), float(p50), float(p75), float(p95)),
        palette_lab=centres.tolist(),
        palette_share=shares.tolist(),
    )
