"""Analyze Board through the app: a 200-image board, cold and warm.

    .venv/bin/python bench/analyze_board.py [--images 200]

Cold: nothing cached; images are decoded from storage, embedded, cached in the
database, then clustered and described. Warm: every embedding is cached (the
re-analysis after a small change); what is left is reading the cache and building
the profile. Both through the same code the Celery task runs.
"""

from __future__ import annotations

import argparse
import time

from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    setup()
    from django.db import connection

    from moodboards import services as board_services
    from moodboards.models import BoardImage
    from moodboards.samples import encode
    from taste import services
    from taste.encoders import DEFAULT_ENCODER_ID, get_encoder
    from taste.models import ImageEmbedding
    from taste.profile import build_profile
    from testkit.looks import LOOKS, make_board

    looks = list(LOOKS)[:4]
    user = board_services.user_signup(
        username="bench", email="b@example.com", password="bench-pass-123"
    )
    board = board_services.board_create(
        team=board_services.personal_team_for(user), user=user, title="Bench"
    )
    print(f"filling a board with {args.images} images in {len(looks)} looks …", flush=True)
    per_look = -(-args.images // len(looks))
    for item in make_board(looks, per_look, seed=7)[: args.images]:
        board_services.board_add_image(
            board=board, user=user, name=item.key, data=encode(item.image, "JPEG", quality=90)
        )
    for image_id in BoardImage.objects.filter(board=board).values_list("pk", flat=True):
        board_services.image_process(image_id=image_id)
    images = list(board.images.filter(status="ready").order_by("position", "id"))
    get_encoder(DEFAULT_ENCODER_ID).predictor  # noqa: B018 - load the model outside the timings

    def run() -> tuple[float, float, int]:
        t0 = time.perf_counter()
        items, _ = services.embed_images_cached(images, encoder_id=DEFAULT_ENCODER_ID)
        t1 = time.perf_counter()
        profile = build_profile(items, encoder_id=DEFAULT_ENCODER_ID)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, len(profile.clusters)

    ImageEmbedding.objects.all().delete()
    cold_embed, cold_build, k = run()
    warm = [run() for _ in range(3)]
    warm_embed = min(w[0] for w in warm)
    warm_build = min(w[1] for w in warm)
    n = len(images)
    print(f"database: {connection.vendor}; images: {n}; sub-styles found: {k}")
    print(
        f"cold: {cold_embed + cold_build:.2f} s (embed + cache {cold_embed:.2f} s = {n / cold_embed:.1f} images/s, build {cold_build:.2f} s)"
    )
    print(
        f"warm: {warm_embed + warm_build:.2f} s (read cache {warm_embed:.3f} s, build {warm_build:.2f} s)"
    )


if __name__ == "__main__":
    main()
