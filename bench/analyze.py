"""Bench for Analyze Board: clustering quality, encoder throughput, profile build time.

    .venv/bin/python bench/analyze.py [--quick]

(a) adjusted Rand index of the sub-styles against the true looks on boards that mix
    2, 3 and 4 looks over the *same* subjects (so grouping by subject scores ~0);
(b) images/second of the embedded encoder against the bare onnxruntime session;
(c) build_profile time for 200 images from cached embeddings, and cold (embed + build).

The taste core is plain Python, so Django is not set up.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from taste.clustering import adjusted_rand, cluster_embeddings
from taste.encoders import DEFAULT_ENCODER_ID, MagentaDescriptorEncoder, get_encoder
from taste.looks import LOOKS, make_board
from taste.magenta import PREDICT_SIZE, SessionConfig, StylePredictor, center_square
from taste.profile import ProfileInput, build_profile


def bench_clustering(per_look: int, seeds: list[int]) -> None:
    print(f"(a) sub-style ARI vs true look, {per_look} images per look, seeds {seeds}")
    encoder = get_encoder(DEFAULT_ENCODER_ID)
    assert isinstance(encoder, MagentaDescriptorEncoder)
    for size in (2, 3, 4):
        scores, k_right, subject_ari = [], 0, []
        combos = list(itertools.combinations(LOOKS, size))
        for seed in seeds:
            cache = {}
            for look in LOOKS:
                board = make_board([look], per_look, seed=seed)
                styles, descs = encoder.embed_parts([b.image for b in board])
                cache[look] = (encoder.join(styles, descs), [b.subject for b in board])
            for combo in combos:
                x = np.vstack([cache[look][0] for look in combo])
                truth = [look for look in combo for _ in range(per_look)]
                subjects = [s for look in combo for s in cache[look][1]]
                result = cluster_embeddings(x, encoder.blocks)
                scores.append(adjusted_rand(truth, result.labels))
                k_right += result.n_clusters == size
                subject_ari.append(adjusted_rand(truth, [hash(s) % 10_000 for s in subjects]))
        scores_a = np.array(scores)
        print(
            f"    {size} looks: {len(scores)} boards, ARI mean {scores_a.mean():.3f}, "
            f"median {np.median(scores_a):.3f}, min {scores_a.min():.3f}, "
            f"ARI>=0.8 on {np.mean(scores_a >= 0.8):.0%}, right number of clusters on "
            f"{k_right / len(scores):.0%}; grouping by subject would score "
            f"{np.mean(subject_ari):.3f}"
        )
    singles = []
    for look in LOOKS:
        board = make_board([look], per_look, seed=seeds[0])
        x = encoder.embed([b.image for b in board])
        singles.append(f"{look}={cluster_embeddings(x, encoder.blocks).n_clusters}")
    print("    single-look boards -> clusters: " + ", ".join(singles))


def bench_throughput(n: int) -> None:
    print(f"(b) encoder throughput on {os.cpu_count()} CPU cores, {n} images")
    images = [b.image for b in make_board(list(LOOKS), max(1, n // len(LOOKS)), seed=9)][:n]
    batch = np.stack([center_square(im, PREDICT_SIZE) for im in images])

    def raw(threads: int) -> tuple[str, float]:
        predictor = StylePredictor(SessionConfig(intra_op_threads=threads))
        predictor.predict_array(batch[:2])
        start = time.perf_counter()
        predictor.predict_array(batch)
        label = f"raw onnxruntime session (intra_op_threads={threads})"
        return label, n / (time.perf_counter() - start)

    # The multi-threaded session is measured last: onnxruntime's idle worker threads
    # spin for a while after a run and would steal the second core from what follows.
    rows = [raw(1)]
    encoder = MagentaDescriptorEncoder()
    encoder.embed(images[:2])
    start = time.perf_counter()
    encoder.style_vectors(images)
    rows.append(
        ("app Magenta path (PIL -> crop/resize -> session)", n / (time.perf_counter() - start))
    )
    start = time.perf_counter()
    encoder.embed(images)
    rows.append(("app full encoder (Magenta + descriptors)", n / (time.perf_counter() - start)))
    rows.append(raw(0))
    raw_best = max(rows[0][1], rows[-1][1])
    for label, ips in rows:
        print(f"    {label:<58} {ips:7.1f} img/s  ({ips / raw_best:6.1%} of raw best)")


def bench_profile(n: int) -> None:
    print(f"(c) build_profile for {n} images")
    looks = ["mono_contrast", "warm_film", "teal_orange", "pastel"]
    board = make_board(looks, n // len(looks), seed=11)
    encoder = MagentaDescriptorEncoder()
    encoder.embed([b.image for b in board[:2]])  # load the session
    start = time.perf_counter()
    styles, descs = encoder.embed_parts([b.image for b in board])
    joined = encoder.join(styles, descs)
    items = [ProfileInput(b.key, joined[i], descs[i], styles[i]) for i, b in enumerate(board)]
    profile = build_profile(items, encoder_id=DEFAULT_ENCODER_ID)
    cold = time.perf_counter() - start
    build_profile(items, encoder_id=DEFAULT_ENCODER_ID)  # warm imports and caches
    times = []
    for _ in range(3):
        start = time.perf_counter()
        build_profile(items, encoder_id=DEFAULT_ENCODER_ID)
        times.append(time.perf_counter() - start)
    print(f"    from cached embeddings: {min(times):.3f} s (best of 3; aim < 1 s)")
    print(f"    cold (embed + build):   {cold:.2f} s (aim < 20 s)")
    truth = [b.look for b in board]
    labels = np.full(len(board), -1)
    index = {b.key: i for i, b in enumerate(board)}
    for c in profile.clusters:
        labels[[index[k] for k in c.members]] = c.index
    print(
        f"    {len(profile.clusters)} sub-styles, {len(profile.outliers)} outliers, "
        f"ARI {adjusted_rand(truth, labels):.3f}"
    )
    print(f"    summary: {profile.summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, fewer images")
    args = parser.parse_args()
    print("command: .venv/bin/python bench/analyze.py" + (" --quick" if args.quick else ""))
    bench_clustering(per_look=12, seeds=[0] if args.quick else [0, 1, 2])
    bench_profile(200)
    bench_throughput(60 if args.quick else 120)


if __name__ == "__main__":
    main()
