"""Upload throughput: 100 photos through the real upload endpoint, then the worker's share.

    .venv/bin/python bench/uploads.py [--count 100] [--side 2000]

Prints images/s and MB/s for the request path (decode, validate, hash, store,
duplicate check) and for the worker task (served copy + thumbnail), measured
separately so each can be compared with its own target.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from _django import setup


def make_photos(count: int, side: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """Distinct real photographs: random crops of package sample images, resized."""
    from PIL import Image, ImageEnhance

    from moodboards.samples import SAMPLES, encode, sample_image

    rng = random.Random(seed)
    sources = [sample_image(n).convert("RGB") for n in list(SAMPLES)[:10]]
    photos = []
    for i in range(count):
        src = sources[i % len(sources)]
        w, h = src.size
        cw, ch = int(w * rng.uniform(0.5, 0.9)), int(h * rng.uniform(0.5, 0.9))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = src.crop((x, y, x + cw, y + ch))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crop = ImageEnhance.Color(crop).enhance(rng.uniform(0.6, 1.4))
        scale = side / max(crop.size)
        crop = crop.resize(
            (round(crop.width * scale), round(crop.height * scale)), Image.Resampling.BICUBIC
        )
        photos.append((f"photo-{i:03d}.jpg", encode(crop, "JPEG", quality=90)))
    return photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--side", type=int, default=2000, help="long side of each photo in px")
    args = parser.parse_args()
    setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from moodboards import services
    from moodboards.models import BoardImage

    print(f"making {args.count} photos of {args.side}px …", flush=True)
    photos = make_photos(args.count, args.side)
    total_mb = sum(len(d) for _, d in photos) / 1e6
    user = services.user_signup(
        username="bench", email="bench@example.com", password="bench-pass-123"
    )
    board = services.board_create(team=services.personal_team_for(user), user=user, title="Bench")
    client = Client()
    client.force_login(user)
    url = reverse("board_upload", args=[board.pk])

    # One file per request, as the page sends them.
    per_request = []
    statuses = []
    start = time.perf_counter()
    for name, data in photos:
        t = time.perf_counter()
        response = client.post(url, {"files": [SimpleUploadedFile(name, data)]})
        per_request.append(time.perf_counter() - t)
        statuses += [r["status"] for r in response.json()["results"]]
    upload_s = time.perf_counter() - start

    # The worker's share, run in-process one after another (what one worker process does).
    ids = list(BoardImage.objects.filter(board=board).values_list("pk", flat=True))
    start = time.perf_counter()
    for image_id in ids:
        services.image_process(image_id=image_id)
    worker_s = time.perf_counter() - start

    ms = sorted(x * 1000 for x in per_request)
    print(f"database: {connection.vendor}")
    print(f"photos: {args.count} JPEG, {args.side}px long side, {total_mb:.1f} MB in all")
    print(
        f"results: {statuses.count('added')} added, {statuses.count('duplicate')} duplicate, "
        f"{statuses.count('rejected')} rejected"
    )
    print(
        f"upload requests: {upload_s:.2f} s → {args.count / upload_s:.1f} images/s, "
        f"{total_mb / upload_s:.1f} MB/s; per request p50 {statistics.median(ms):.0f} ms, "
        f"p95 {ms[int(len(ms) * 0.95) - 1]:.0f} ms"
    )
    print(
        f"worker (thumbnail + served copy): {worker_s:.2f} s → {len(ids) / worker_s:.1f} images/s per worker process"
    )


if __name__ == "__main__":
    main()
