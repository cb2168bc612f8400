"""Bench for grade recovery and the grade backend, on real third-party LUTs and photos.

    nice -n 10 .venv/bin/python bench/grade.py [--split validation|tune|both] [--quick]
    .venv/bin/python bench/grade.py prior      # rebuild taste/data/grade_prior.npz
    .venv/bin/python bench/grade.py sweep      # shrink weights and models, on tune

Protocol, per LUT of a split (bench/realdata; the shipped prior is built from *tune*
photos only). Validation: the prior is the shipped one; the validation photos are
halved (every other one): the *board* is the first half graded by the LUT, the
*held-out* photos are the other half, ungraded and graded by the same LUT (the truth).
Tune, one fold per collection of tune photos (endless-sky-data's, opencv-doc's, the PyPI
packages' samples, stellarium-data's): the prior is the *other* collections (the shipped
prior's own samples of them), the board and the held-out photos are that collection's,
halved the same way. Validation's photos come from collections the prior never saw, and
so do a user's: a tune protocol that draws prior and board from one collection (as this
bench did until 2026-12) rewards grades that fit the collection's own tone and colour
(tune ratio 0.62 while validation was 1.01). Figures are over (LUT, fold) pairs. The app
sees only the graded board. Printed:

- LUT recovery ratio: mean CIEDE2000 between held-out photos graded by the recovered
  33³ .cube (full strength) and the truth, over the same for the ungraded photos
  (0 = perfect, 1 = no better than doing nothing); mean and worst over the LUTs;
- the grade backend at strength 1 (grade + tone + measured grain), the same ratio, and
  the SSIM of its luminance against the truth's;
- strength linearity: R² of a line through mean ΔE-from-content at strengths 0..1, and
  the ΔE at strength 0;
- diverse batch of 4: mean pairwise ΔE between the outputs;
- fidelity: Spearman between the style-fidelity score and -ΔE to the truth, over
  outputs at strengths 0, .25, .5, .75, 1 and the stylize output (per photo, averaged);
- preview p50 at 384 px and one full-resolution 2048² render.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench.realdata as rd
from taste import grading
from taste.grade_models import _fitter

SIDE = 384  # evaluation resolution: colour statistics, not detail
PRIOR_SAMPLES = 512  # per tune photo


def collections(items: list[rd.Item]) -> list[str]:
    """Each photo's collection: its Debian package, or "pypi" for the PyPI packages'
    sample photos (a handful each, and alike in kind: people, animals, objects)."""
    ecosystems = {s["package"]: s["ecosystem"] for s in rd.load_sources()}
    return ["pypi" if ecosystems.get(i.source) == "pypi" else i.source for i in items]


def build_prior() -> None:
    photos = rd.photos("tune")
    rd.require(photos)
    samples = [
        grading.lab_samples(rd.open_image(p, max_side=1024), n=PRIOR_SAMPLES, seed=i)
        for i, p in enumerate(photos)
    ]
    lab = np.concatenate(samples)
    q = np.round(lab * grading.STORE_SCALE).astype(np.int16)
    grading.PRIOR_PATH.parent.mkdir(parents=True, exist_ok=True)
    groups = np.array(collections(photos))
    np.savez_compressed(
        grading.PRIOR_PATH, lab=q, sources=np.array([p.id for p in photos]), collections=groups
    )
    names, counts = np.unique(groups, return_counts=True)
    print(f"wrote {grading.PRIOR_PATH} ({len(lab)} samples from {len(photos)} tune photos: "
          + ", ".join(f"{n} {c}" for n, c in zip(names, counts, strict=True)) + ")")  # fmt: skip


def _arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _img(arr: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.color import deltaE_ciede2000, rgb2lab

    return float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean())


def luminance(a: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(a)[..., 0]


def ssim_l(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(luminance(a), luminance(b), data_range=100.0))


def old_cube(board: list[np.ndarray]) -> np.ndarray:
    """Today's export: the global Lab mean/std + L* quantile LUT at its default strength."""
    from skimage.color import rgb2lab

    from taste import exports

    labs = [rgb2lab(a).reshape(-1, 3) for a in board]
    means = np.array([x.mean(0) for x in labs])
    stds = np.array([x.std(0) for x in labs])
    quants = np.array([np.percentile(x[:, 0], exports.QUANTILES) for x in labs])
    pooled = np.sqrt((stds**2).mean(0) + means.var(0))
    tone = exports.ToneStats(tuple(means.mean(0)), tuple(pooled), tuple(quants.mean(0)))
    return exports.build_lut(tone)


def spearman(x: list[float], y: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def grade_case(lut_item: rd.Item, photos: list[np.ndarray], *, style: bool) -> dict:
    from generation.fidelity import grade_fidelity
    from generation.grade import GradeSliders, Look, grade, plan_from, preview

    lut = rd.read_lut(lut_item)
    board_src, held = photos[0::2], photos[1::2]
    board = [_img(rd.apply_lut(lut, p)) for p in board_src]
    truth = [rd.apply_lut(lut, p) for p in held]
    keys = [str(i) for i in range(len(board))]
    # 1. What analysis bakes into the profile (the same function, the same inputs).
    recovered = grading.profile_grade(
        lambda k: board[int(k)], keys, [(0, keys)],
        grain=float(np.median([grading.noise_sigma(b) for b in board])),
    )  # fmt: skip
    look = Look(recovered.board.table(33), recovered.grain)
    cube = grading.rgb_table(recovered.board.table(33))
    old = old_cube([_arr(b) for b in board])
    base = [delta_e(h, t) for h, t in zip(held, truth, strict=True)]
    rec = [delta_e(rd.apply_lut(cube, h), t) for h, t in zip(held, truth, strict=True)]
    was = [delta_e(rd.apply_lut(old, h), t) for h, t in zip(held, truth, strict=True)]
    # 2. The grade backend at strength 1 (grade + tone + measured grain).
    outs = [_arr(grade(_img(h), look, GradeSliders(), seed=i)) for i, h in enumerate(held)]
    back = [delta_e(o, t) for o, t in zip(outs, truth, strict=True)]
    ssim = [ssim_l(o, t) for o, t in zip(outs, truth, strict=True)]
    # 3. Strength linearity and strength 0, on the first held-out photos.
    levels = np.linspace(0.0, 1.0, 11)
    r2, zero, full_de = [], [], []
    for h in held[:4]:
        d = [
            delta_e(_arr(grade(_img(h), look, GradeSliders(strength=float(s)))), h) for s in levels
        ]
        fit = np.polyfit(levels, d, 1)
        resid = np.asarray(d) - np.polyval(fit, levels)
        r2.append(1.0 - resid.var() / max(np.var(d), 1e-12))
        zero.append(d[0])
        full_de.append(d[-1])
    # 4. A diverse batch of 4 on one photo: spread over the board's own grades.
    images = [Look(g.table(33), recovered.grain) for _, g in recovered.images]
    batch = plan_from([look], [1.0], images, count=4, cohesion=0.0, seed=0)
    shots = [_arr(grade(_img(held[0]), lk, GradeSliders())) for lk in batch]
    pairwise = [delta_e(shots[i], shots[j]) for i in range(4) for j in range(i + 1, 4)]
    # 5. Fidelity against truth: outputs at several strengths and, with --stylize, the
    #    painterly backend's output; the score must order them as ΔE to the truth does.
    rho, stylize_ratio = [], []
    for k, (h, t) in enumerate(zip(held[:4], truth[:4], strict=True)):
        content = _img(h)
        reference = grade(content, look, GradeSliders(texture=0.0), max_side=256)
        candidates = [
            grade(content, look, GradeSliders(strength=s), seed=k)
            for s in (0, 0.25, 0.5, 0.75, 1.0)
        ]
        if style:
            candidates.append(_stylized(content, board))
            stylize_ratio.append(delta_e(_arr(candidates[-1]), t) / max(delta_e(h, t), 1e-6))
        scores = [grade_fidelity(c, content, reference).output for c in candidates]
        dist = [delta_e(_arr(c), t) for c in candidates]
        same = np.ptp(scores) < 1e-9  # a grade shrunk to nothing: no order to check
        rho.append(float("nan") if same else spearman(scores, [-d for d in dist]))
    # 6. Speed: the slider preview at 384 px and one 2048² render.
    content = _img(held[0]).resize((1024, 1024))
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        preview(content, look, GradeSliders(strength=0.7))
        times.append(time.perf_counter() - t0)
    big = _img(held[0]).resize((2048, 2048), Image.Resampling.BICUBIC)
    t0 = time.perf_counter()
    grade(big, look, GradeSliders())
    full = time.perf_counter() - t0
    return {
        "id": lut_item.id,
        "ratio": float(np.mean(rec) / max(np.mean(base), 1e-6)),
        "old_ratio": float(np.mean(was) / max(np.mean(base), 1e-6)),
        "backend_ratio": float(np.mean(back) / max(np.mean(base), 1e-6)),
        "ssim": float(np.mean(ssim)),
        "r2": float(np.min(r2)),
        "zero": float(np.max(zero)),
        "full_de": float(np.mean(full_de)),
        "pairwise": float(np.mean(pairwise)),
        "rho": float(np.mean(rho)),
        "stylize_ratio": float(np.mean(stylize_ratio)) if stylize_ratio else float("nan"),
        "p50": float(np.median(times)),
        "full": full,
    }


def _stylized(content: Image.Image, board: list[Image.Image]) -> Image.Image:
    from generation.stylize import stylize
    from taste.magenta import StylePredictor

    predictor = StylePredictor()
    style = np.mean([predictor.predict(b) for b in board[:6]], axis=0)
    return stylize(content, style, strength=1.0)


def split_photos(
    split: str, side: int = SIDE
) -> tuple[list[rd.Item], Iterator[tuple[str, list[np.ndarray]]]]:
    """The split's LUTs and its folds, (name, photos), under the protocol of the module
    docstring. Iterating a tune fold sets this process's prior to the other
    collections (each fold's photos are never in its prior), so use each fold's
    photos before moving to the next."""
    items = rd.photos(split)
    luts = rd.luts(split)
    rd.require(items + luts)
    photos = [_arr(rd.open_image(p, max_side=side)) for p in items]
    if split != "tune":
        return luts, iter([(split, photos)])
    shipped, groups = grading.prior_set()
    assert len(shipped) == len(photos) and list(groups) == collections(items), (
        "rebuild the prior: `bench/grade.py prior`"
    )
    return luts, _tune_folds(shipped, groups, photos)


def _tune_folds(
    shipped: np.ndarray, groups: np.ndarray, photos: list[np.ndarray]
) -> Iterator[tuple[str, list[np.ndarray]]]:
    for name in np.unique(groups):
        rest = groups != name
        prior = (shipped[rest], groups[rest])
        grading.prior_set = lambda prior=prior: prior  # this process only: the tune protocol
        yield str(name), [p for p, g in zip(photos, groups, strict=True) if g == name]


SWEEP_SIZES = (5, 10, 21)  # board sizes: a small board's grade must not vanish either
SWEEP_HELD = 12  # held-out photos scored per fit (the sweep scores 22 variants on each)
# (model, moments weight, IDT weight); a weight pair is (L*, a*b*). The defaults are among them.
SWEEP_VARIANTS: list[tuple[str, float | tuple[float, float], float]] = [
    ("moments", (tone, colour), 0.0)
    for tone in (16, 32, 64, 128, 256)
    for colour in (8, 16, 32, 64, 128)
] + [("moments+idt", 16.0, 8.0), ("idt", 0.0, 8.0)]


def _sweep_lut(item: rd.Item, photos: list[np.ndarray], size: int) -> dict[str, float]:
    """One LUT's recovery ratio (.cube) per SWEEP_VARIANTS on a board of ``size`` photos.
    The fits and their noise are computed once; only the Wiener gain changes."""
    lut = rd.read_lut(item)
    board_src, held = photos[0::2][:size], photos[1::2][:SWEEP_HELD]
    board = [_img(rd.apply_lut(lut, p)) for p in board_src]
    truth = [rd.apply_lut(lut, h) for h in held]
    base = np.mean([delta_e(h, t) for h, t in zip(held, truth, strict=True)])
    samples = [grading.lab_samples(b, seed=i) for i, b in enumerate(board)]
    parts = {}
    for model in ("moments", "idt"):
        fit = _fitter(model, grading.IDT_STEPS, 0)
        transfer = fit(grading.prior_images(), samples)
        raw = grading.bake(transfer)
        noise = grading.fit_noise(samples, raw, fit=fit, smooth=None, seed=0)
        parts[model] = (transfer, raw, noise)

    def grade_of(model: str, weight: float | tuple[float, float]) -> grading.Grade:
        transfer, raw, noise = parts[model]
        return grading.Grade(transfer, grading.shrink_gain(raw, noise, weight))

    out = {}
    for model, wm, wi in SWEEP_VARIANTS:
        if model == "idt":
            g = grade_of("idt", wi)
        else:
            g = grade_of("moments", wm)
            if model == "moments+idt":
                g.others.append(grade_of("idt", wi))
        cube = grading.rgb_table(g.table(33))
        rec = [delta_e(rd.apply_lut(cube, h), t) for h, t in zip(held, truth, strict=True)]
        wname = "/".join(f"{w:g}" for w in np.atleast_1d(wm))
        out[f"{model} m{wname} i{wi:g}"] = float(np.mean(rec) / max(base, 1e-6))
    return out


def sweep(split: str) -> None:
    """Recovery ratio (.cube only) per model and shrink weights, on boards of
    SWEEP_SIZES photos (or all a fold's board has), at 192 px: how the defaults of
    taste.grading were chosen. Run it on tune; never choose on validation."""
    luts, folds = split_photos(split, side=192)
    rows: dict[tuple[str, int], list[float]] = {}
    by_fold: dict[tuple[str, str], list[float]] = {}
    for fold, photos in folds:
        for item in luts:
            for size in SWEEP_SIZES:
                if size > len(photos[0::2]) and size != SWEEP_SIZES[0]:
                    continue  # the fold's board is smaller: counted at the smallest size
                for name, value in _sweep_lut(item, photos, size).items():
                    rows.setdefault((name, size), []).append(value)
                    by_fold.setdefault((name, fold), []).append(value)
            print(f"  {fold}: {item.id}", flush=True)
    names = list(dict.fromkeys(name for name, _ in rows))
    print(f"\n== sweep on {split}: recovery ratio over {len(luts)} LUTs x folds, by board size ==")
    print(
        f"  {'variant':<24}" + "".join(f"  {size:>2} photos: mean worst >1" for size in SWEEP_SIZES)
    )
    for name in sorted(names, key=lambda n: np.mean([np.mean(rows[n, z]) for z in SWEEP_SIZES])):
        cells = []
        for size in SWEEP_SIZES:
            v = np.array(rows[name, size])
            cells.append(f"  {v.mean():>16.3f} {v.max():5.3f} {(v > 1).sum():2d}")
        print(f"  {name:<24}" + "".join(cells))
    folds_seen = list(dict.fromkeys(fold for _, fold in by_fold))
    print("\n  per fold (all sizes), mean / worst:")
    for name in sorted(names, key=lambda n: np.mean([np.mean(rows[n, z]) for z in SWEEP_SIZES])):
        cells = [f"  {fold}: {np.mean(by_fold[name, fold]):.3f} / {np.max(by_fold[name, fold]):.3f}"
                 for fold in folds_seen]  # fmt: skip
        print(f"  {name:<24}" + "".join(cells))


def run(split: str, quick: bool, style: bool) -> None:
    luts, folds = split_photos(split)
    print(f"\n== {split}: {len(luts)} LUTs ==")
    print(f"  {'LUT':<36} {'fold':<17} {'cube':>5} {'old':>5} {'grade':>5} {'SSIM':>5} {'R2':>5} "
          f"{'dE0':>5} {'div':>5} {'rho':>5} {'styl':>5}")  # fmt: skip
    rows = []
    for fold, photos in folds:
        if quick:
            photos = photos[:12]
        for item in luts:
            r = grade_case(item, photos, style=style)
            rows.append(r)
            print(f"  {r['id']:<36} {fold:<17} {r['ratio']:5.3f} {r['old_ratio']:5.3f} "
                  f"{r['backend_ratio']:5.3f} {r['ssim']:5.3f} {r['r2']:5.3f} {r['zero']:5.2f} "
                  f"{r['pairwise']:5.2f} {r['rho']:5.2f} {r['stylize_ratio']:5.2f}", flush=True)  # fmt: skip

    def col(name: str) -> np.ndarray:
        return np.array([r[name] for r in rows])

    print(f"  LUT recovery ratio (.cube, full strength): mean {col('ratio').mean():.3f}, "
          f"worst {col('ratio').max():.3f}   (today's LUT: mean {col('old_ratio').mean():.3f}, "
          f"worst {col('old_ratio').max():.3f})")  # fmt: skip
    print(f"  grade backend at strength 1: mean {col('backend_ratio').mean():.3f}, "
          f"worst {col('backend_ratio').max():.3f}; luminance SSIM to truth mean "
          f"{col('ssim').mean():.3f}, worst {col('ssim').min():.3f}")  # fmt: skip
    visible = col("full_de") >= 1.0
    print(f"  strength linearity R^2: worst {col('r2').min():.3f}; over the {visible.sum()} of "
          f"{len(rows)} grades that move a photo by >= 1 dE at full strength: worst "
          f"{col('r2')[visible].min() if visible.any() else float('nan'):.3f}; strength-0 dE: "
          f"worst {col('zero').max():.2f}")  # fmt: skip
    print(f"  diverse batch of 4: mean pairwise dE {col('pairwise').mean():.2f} "
          f"(min over LUTs {col('pairwise').min():.2f})")  # fmt: skip
    rho = col("rho")
    line = (f"  fidelity Spearman vs -dE to truth: mean {np.nanmean(rho):.3f}, worst "
            f"{np.nanmin(rho):.3f} ({np.isnan(rho).sum()} undefined: a grade shrunk to nothing "
            "makes every output the same)")  # fmt: skip
    if style:
        line += f"; stylize strength 1 ratio: mean {np.nanmean(col('stylize_ratio')):.3f}"
    print(line)
    print(
        f"  preview p50 at 384 px: {np.median(col('p50')) * 1000:.1f} ms; "
        f"2048^2 full render: {np.median(col('full')):.3f} s (max {col('full').max():.3f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="bench", choices=["bench", "prior", "sweep"])
    parser.add_argument("--split", default="both", choices=["validation", "tune", "both"])
    parser.add_argument("--quick", action="store_true", help="12 photos per split")
    parser.add_argument(
        "--no-stylize", action="store_true", help="skip the stylize outputs (faster)"
    )
    args = parser.parse_args()
    if args.command == "prior":
        build_prior()
        return
    if args.command == "sweep":
        sweep("tune" if args.split == "both" else args.split)
        return
    for split in ("tune", "validation") if args.split == "both" else (args.split,):
        run(split, args.quick, style=not args.no_stylize)


if __name__ == "__main__":
    main()
