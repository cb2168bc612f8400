"""Analyze Board through the app, on a board of N images: time, worker memory, progress.

    .venv/bin/python bench/analyze_board.py [--images 200]
    .venv/bin/python bench/analyze_board.py --images 10000      # the large-board target

The board is filled through the upload services (rendered looks from testkit.looks,
JPEG, processed like an upload), once per size: it is kept under var/bench/board-N/ and
reused by later runs (`--fresh` refills it). Each analysis then runs in a *fresh process*,
as a worker would, through `taste.services.analysis_run` (the code the Celery task runs:
embed what is not cached, cluster, describe, recover the grade, save the version):

- cold: nothing cached (the first analysis after an encoder change);
- warm: every embedding cached, as after upload (images are embedded when they are
  processed) or after a re-analysis; what is left is reading the cache and building.

Printed per run: wall time, images/s of the embedding stage, the process's peak
resident memory (ru_maxrss) and what it was before the analysis started (Python,
Django and the model), the number of progress updates and the longest time between two
(how live the progress bar stays), and the sub-styles found against the looks.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOK_COUNT = 4


def _rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries
    ru_maxrss over exec, so a child would report the parent's peak (the rendered board)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def fill(n: int) -> None:
    """Fill the bench board with n processed images (skipped when it already has them)."""
    from moodboards import services as board_services
    from moodboards.models import Board, BoardImage
    from moodboards.samples import encode
    from testkit.looks import LOOKS, SUBJECTS, render

    if Board.objects.filter(title="Bench").exists():
        return
    user = board_services.user_signup(
        username="bench", email="b@example.com", password="bench-pass-123"
    )
    board = board_services.board_create(
        team=board_services.personal_team_for(user), user=user, title="Bench"
    )
    looks = list(LOOKS)[:LOOK_COUNT]
    print(f"filling a board with {n} images in {len(looks)} looks …", flush=True)
    t0 = time.perf_counter()
    # Interleaved (one of each look in turn), as a board collected over time would be;
    # rendered one at a time (testkit.looks.make_board's images) so memory stays flat.
    seed = 7
    for count in range(n):
        i, li = divmod(count, len(looks))
        subject = SUBJECTS[(i + seed) % len(SUBJECTS)]
        image = render(subject, looks[li], seed=seed * 1000 + i * 7 + li)
        board_services.board_add_image(
            board=board,
            user=user,
            name=f"{looks[li]}-{i:05d}-{subject}.jpg",
            data=encode(image, "JPEG", quality=90),
        )
        if (count + 1) % 1000 == 0:
            print(f"  {count + 1} uploaded ({time.perf_counter() - t0:.0f} s)", flush=True)
    for image_id in BoardImage.objects.filter(board=board).values_list("pk", flat=True):
        board_services.image_process(image_id=image_id)
    print(f"filled in {time.perf_counter() - t0:.0f} s", flush=True)


def child(phase: str) -> None:
    """One analysis in this (fresh) process; prints one JSON line."""
    from moodboards.models import Board
    from taste import services
    from taste.clustering import adjusted_rand
    from taste.encoders import DEFAULT_ENCODER_ID, get_encoder
    from taste.models import ImageEmbedding, TasteProfile

    board = Board.objects.get(title="Bench")
    TasteProfile.objects.filter(board=board).delete()
    if phase == "cold":
        ImageEmbedding.objects.all().delete()
    get_encoder(DEFAULT_ENCODER_ID).predictor  # noqa: B018 - a worker has the model loaded
    before = _rss_mb()
    updates: list[tuple[float, str]] = []
    original = services._progress

    def progress(analysis_id: int, stage: str, done: int, total: int) -> None:
        updates.append((time.perf_counter(), stage))
        original(analysis_id, stage, done, total)

    services._progress = progress
    analysis = services.analysis_start(board=board, user=None, encoder_id=DEFAULT_ENCODER_ID)
    t0 = time.perf_counter()
    analysis = services.analysis_run(analysis_id=analysis.pk)
    seconds = time.perf_counter() - t0
    assert analysis is not None and analysis.status == "done", analysis and analysis.error
    embedded = [t for t, stage in updates if stage == "embedding"]
    stamps = [t0, *(t for t, _ in updates), t0 + seconds]
    data = analysis.profile.data
    looks = {str(i.pk): i.original_name.split("-")[0] for i in board.images.all()}
    labels = {p["key"]: p["cluster"] for p in data["map"]}
    keys = sorted(labels)
    print(
        json.dumps(
            {
                "phase": phase,
                "images": data["n_images"],
                "seconds": seconds,
                "embed_seconds": (embedded[-1] - t0) if embedded else 0.0,
                "rss_before_mb": before,
                "rss_peak_mb": _rss_mb(),
                "progress_updates": len(updates),
                "longest_silence": max(b - a for a, b in itertools.pairwise(stamps)),
                "clusters": len(data["clusters"]),
                "outliers": len(data["outliers"]),
                "ari": adjusted_rand([looks[k] for k in keys], [labels[k] for k in keys]),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--fresh", action="store_true", help="refill the board")
    parser.add_argument("--warm-runs", type=int, default=2)
    parser.add_argument("--no-cold", action="store_true", help="only the warm runs")
    parser.add_argument("--child", choices=["cold", "warm"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    var = ROOT / "var" / "bench" / f"board-{args.images}"
    if args.child:
        os.environ["TASTEBASE_VAR_DIR"] = str(var)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _django import setup

        setup(fresh_db=False)
        child(args.child)
        return
    if args.fresh and var.exists():
        shutil.rmtree(var)
    var.mkdir(parents=True, exist_ok=True)
    os.environ["TASTEBASE_VAR_DIR"] = str(var)
    # Rendered looks repeat their subjects, so near-identical pictures would be dropped
    # as duplicates: only byte-identical files are, here.
    os.environ["TASTEBASE_PHASH_DUPLICATE_DISTANCE"] = "-1"
    from _django import setup

    setup()
    fill(args.images)
    for phase in ([] if args.no_cold else ["cold"]) + ["warm"] * args.warm_runs:
        out = subprocess.run(
            [sys.executable, __file__, "--images", str(args.images), "--child", phase],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        embed = (
            f"embed {r['embed_seconds']:.1f} s = {r['images'] / r['embed_seconds']:.0f} images/s, "
            if phase == "cold" and r["embed_seconds"]
            else ""
        )
        print(
            f"{phase}: {r['seconds']:.1f} s ({embed}{r['images']} images); "
            f"peak memory {r['rss_peak_mb']:.0f} MB (before: {r['rss_before_mb']:.0f} MB); "
            f"{r['progress_updates']} progress updates, longest gap {r['longest_silence']:.1f} s; "
            f"{r['clusters']} sub-styles, {r['outliers']} outliers, ARI vs looks {r['ari']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
