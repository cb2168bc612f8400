"""Generation backend timings on this machine.

    .venv/bin/python bench/generate.py [--skip-upscale]

Prints: slider preview latency (p50/p95, one cached content, 384 px), full-resolution
stylize of a 2048 px image, and Real-ESRGAN x4 of a 512 px image.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image
from skimage import data

from generation.stylize import _predictor, preview, stylize
from generation.upscale import upscale


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-upscale", action="store_true")
    parser.add_argument("--moves", type=int, default=30, help="slider moves to time")
    args = parser.parse_args()

    predictor = _predictor()
    style = np.mean(
        [
            predictor.predict(Image.fromarray(data.camera()).convert("RGB")),
            predictor.predict(Image.fromarray(data.coffee())),
        ],
        axis=0,
    )
    content = Image.fromarray(data.rocket())

    # 1. Slider: the first call fills the cache (own style vector + network array).
    start = time.perf_counter()
    preview(content, style, 0.5)
    first = time.perf_counter() - start
    times = []
    for i in range(args.moves):
        start = time.perf_counter()
        preview(content, style, (i % 10 + 1) / 10)
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"preview 384 px: first {_ms(first)}, slider p50 {_ms(statistics.median(times))}, "
        f"p95 {_ms(p95)} ({args.moves} moves)"
    )

    # 2. Full resolution (2048 px long side).
    big = Image.fromarray(data.astronaut()).resize((2048, 2048), Image.Resampling.LANCZOS)
    start = time.perf_counter()
    stylize(big, style, strength=0.8)
    print(f"stylize 2048x2048 full resolution: {time.perf_counter() - start:.2f} s")

    # 3. Real-ESRGAN x4 of 512 px.
    if not args.skip_upscale:
        start = time.perf_counter()
        out = upscale(Image.fromarray(data.astronaut()))
        print(f"upscale 512x512 -> {out.width}x{out.height}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
