"""Taste search at library scale: query time and recall against exact search.

    nice -n 10 .venv/bin/python bench/search.py                  # both runs below
    DATABASE_URL=postgres://…/db nice -n 10 .venv/bin/python bench/search.py --backend pgvector --n 100000
    nice -n 10 .venv/bin/python bench/search.py --backend numpy --n 10000
    nice -n 10 .venv/bin/python bench/search.py --quality        # retrieval quality, real images
    nice -n 10 .venv/bin/python bench/search.py --choose-weight  # the Magenta weight, on tune

Scale runs: a library of N image embeddings on one board of a bench user, searched
through the app's own path (`taste.search_index.nearest`, filtered by the user's visible
images as every search is). The library is drawn around the embeddings of the 441 real
images of bench/realdata's media set (each vector a real one moved part of the way
toward another, plus noise), since no 100,000 real images are at hand; queries are
fresh draws. Recall@10 is measured against the exact search of the same rows. A second
user sees one board of a tenth of the library: the filtered query a team member makes.

--quality: on the real images themselves, per split, how often "find similar" returns
the same medium (precision@5, leave-one-out) and how well "rank by fit" puts a medium's
images first (mean average precision over the six media): on the tune part, profiles of
half the tune images rank the other half; on validation, profiles of the tune images
rank the validation images. --choose-weight sweeps the Magenta block's search weight
(taste.vectors.MAGENTA_SEARCH_WEIGHT) and picks it on the tune part only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TASTEBASE_BENCH_CACHE", "/tmp/tastebase-bench-search"))
QUERIES = 200
EXACT_TIMED = 10
K = 10


def real_embeddings() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joined embeddings, medium labels, splits) of bench/realdata's media images,
    embedded once and cached."""
    sys.path.insert(0, str(ROOT))
    CACHE.mkdir(parents=True, exist_ok=True)
    from taste.encoders import DEFAULT_ENCODER_ID

    path = CACHE / f"media-{DEFAULT_ENCODER_ID}.npz"
    if path.exists():
        d = np.load(path)
        return d["emb"], d["labels"], d["splits"]
    import bench.realdata as rd
    from taste.profile import embed_images

    rd.require()
    named, labels, splits = [], [], []
    for label, items in rd.media().items():
        for item in items:
            named.append((item.id, rd.open_image(item, max_side=1024)))
            labels.append(label)
            splits.append(item.split)
    print(f"embedding {len(named)} real images once (cached in {path}) …", flush=True)
    out = []
    for start in range(0, len(named), 32):
        out += embed_images(named[start : start + 32])[0]
    emb = np.stack([p.embedding for p in out]).astype(np.float32)
    np.savez(path, emb=emb, labels=np.array(labels), splits=np.array(splits))
    return emb, np.array(labels), np.array(splits)


def draw(base: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    a = base[rng.integers(0, len(base), n)]
    b = base[rng.integers(0, len(base), n)]
    t = rng.uniform(0.0, 0.5, (n, 1))
    noise = rng.standard_normal((n, base.shape[1])) * (0.1 * base.std(0))
    return (a + t * (b - a) + noise).astype(np.float32)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def _fresh_postgres(url: str) -> None:
    """Drop and re-create the bench database named by DATABASE_URL (bench data only)."""
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("tastebase_bench"):
        raise SystemExit(f"refusing to re-create {name!r}: use a tastebase_bench* database")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def scale_run(backend: str, n: int) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    from _django import setup

    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        _fresh_postgres(os.environ["DATABASE_URL"])
    setup()
    from django.db import connection

    from moodboards import services as board_services
    from moodboards.models import BoardImage, ImageStatus
    from taste import search_index
    from taste.encoders import DEFAULT_ENCODER_ID
    from taste.search import visible_shas
    from taste.vectors import search_space, space_id

    if (
        search_index.backend_name()
        != {"pgvector": "pgvector HNSW", "numpy": "exact (numpy)"}[backend]
    ):
        raise SystemExit(f"this database gives {search_index.backend_name()}, not {backend}")
    base, _, _ = real_embeddings()
    rng = np.random.default_rng(15)
    library = search_space(draw(base, n, rng), DEFAULT_ENCODER_ID)
    queries = search_space(draw(base, QUERIES, rng), DEFAULT_ENCODER_ID)
    shas = [hashlib.sha256(f"bench-{i}".encode()).hexdigest() for i in range(n)]

    # 1. A bench user with the whole library on one board, a second who sees a tenth.
    owner = board_services.user_signup(
        username="owner", email="o@x.org", password=secrets.token_urlsafe(16)
    )
    member = board_services.user_signup(
        username="member", email="m@x.org", password=secrets.token_urlsafe(16)
    )
    big = board_services.board_create(team=owner.personal_team, user=owner, title="Library")
    team = board_services.team_create(user=owner, name="Team")
    board_services.membership_add(team=team, user=member, role="viewer")
    small = board_services.board_create(team=team, user=owner, title="A tenth")

    def rows(board, picked):
        return [
            BoardImage(
                board=board, original=f"bench/{s[:16]}.jpg", status=ImageStatus.READY,
                original_name=f"{s[:16]}.jpg", content_type="image/jpeg", byte_size=1,
                width=1, height=1, sha256=s, phash="0" * 16, position=i,
            )
            for i, s in enumerate(picked)
        ]  # fmt: skip

    t0 = time.perf_counter()
    BoardImage.objects.bulk_create(rows(big, shas), batch_size=5000)
    BoardImage.objects.bulk_create(rows(small, shas[::10]), batch_size=5000)
    space = space_id(DEFAULT_ENCODER_ID)
    if backend == "pgvector":
        # Rows first, then the HNSW index in one build (as a migration of an existing
        # library would); index_vectors keeps it up to date afterwards.
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO taste_searchvector (sha256, space, vector, embedding) "
                "VALUES (%s, %s, %s, %s::vector)",
                [
                    (s, space, v.astype("<f4").tobytes(), search_index._literal(v))
                    for s, v in zip(shas, library, strict=True)
                ],
            )
        loaded = time.perf_counter() - t0
        t1 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
        search_index.ensure_hnsw(space, library.shape[1])
        built = time.perf_counter() - t1
    else:
        search_index.index_vectors(space, shas, library)
        loaded = time.perf_counter() - t0
        t1 = time.perf_counter()
        search_index._matrix(space)  # the per-process matrix, read once
        built = time.perf_counter() - t1

    # 2. Queries through the app's path, approximate and exact, for both users.
    out = {"backend": search_index.backend_name(), "n": n, "dim": int(library.shape[1]),
           "load_s": round(loaded, 1), "index_build_s": round(built, 1), "queries": QUERIES}  # fmt: skip
    from taste.vectors import exact_nearest

    row_of = {sha: i for i, sha in enumerate(shas)}
    for who, user, rows in (
        ("owner", owner, np.arange(n)),
        ("member (sees 10 %)", member, np.arange(0, n, 10)),
    ):
        visible = visible_shas(user)
        times, recalls = [], []
        for q in queries:
            t = time.perf_counter()
            approx = search_index.nearest(DEFAULT_ENCODER_ID, q, visible, k=K)
            times.append(time.perf_counter() - t)
            # The truth: exact search of the same vectors over the same visible rows.
            truth_rows, _ = exact_nearest(library, q, K, rows=rows)
            got = {row_of[x.sha256] for x in approx}
            recalls.append(len(got & set(truth_rows.tolist())) / K)
        # The database's own exact search (no index), on a few queries: what the index saves.
        exact_times = []
        for q in queries[:EXACT_TIMED]:
            t = time.perf_counter()
            search_index.nearest(DEFAULT_ENCODER_ID, q, visible, k=K, exact=True)
            exact_times.append(time.perf_counter() - t)
        out[who] = {
            "visible": len(rows),
            "p50_ms": round(pct(times, 50), 1),
            "p95_ms": round(pct(times, 95), 1),
            "recall_at_10": round(float(np.mean(recalls)), 4),
            f"exact_p50_ms_over_{EXACT_TIMED}": round(pct(exact_times, 50), 1),
        }
    return out


def _split_quality(x: np.ndarray, labels: np.ndarray, pool: np.ndarray, ref_of, cand_of) -> dict:
    """precision@5 of "find similar" among the `pool` images (leave-one-out), and the
    mean average precision of "rank by fit": per medium, a profile of its `ref_of`
    images ranks the `cand_of` candidates (taste.search.ProfileTarget.fit's rule)."""
    xp, lp = x[pool], labels[pool]
    d = np.linalg.norm(xp[:, None] - xp[None], axis=2)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1)[:, :5]
    p5 = float((lp[nn] == lp[:, None]).mean())
    cand = cand_of()
    aps = {}
    for label in np.unique(labels):
        ref = ref_of(label)
        if not ref.any():
            continue
        dist = np.sort(np.linalg.norm(x[cand][:, None] - x[ref][None], axis=2), axis=1)
        score = -dist[:, :3].mean(1)
        rel = labels[cand][np.argsort(-score)] == label
        aps[str(label)] = round(float((np.cumsum(rel)[rel] / (np.flatnonzero(rel) + 1)).mean()), 3)
    return {
        "images": int(pool.sum()),
        "similar_same_medium_precision_at_5": round(p5, 3),
        "rank_by_fit_mean_average_precision": round(float(np.mean(list(aps.values()))), 3),
        "rank_by_fit_average_precision": aps,
    }


def quality(weight: float | None = None) -> dict:
    """Search quality on the real media images, per split. Tune: among the tune images,
    profiles from every other tune image of a medium rank the remaining tune images.
    Validation: among the validation images; profiles from the tune images rank the
    validation images. `weight` overrides the Magenta block's search weight."""
    sys.path.insert(0, str(ROOT))
    import taste.vectors as vectors
    from taste.encoders import DEFAULT_ENCODER_ID

    emb, labels, splits = real_embeddings()
    if weight is not None:
        vectors.MAGENTA_SEARCH_WEIGHT = weight
    x = vectors.search_space(emb, DEFAULT_ENCODER_ID).astype(np.float64)
    tune, val = splits == "tune", splits == "validation"
    half = np.zeros(len(x), dtype=bool)
    half[np.flatnonzero(tune)[::2]] = True
    return {
        "magenta_search_weight": vectors.MAGENTA_SEARCH_WEIGHT,
        "tune": _split_quality(
            x, labels, tune, lambda m: half & (labels == m), lambda: tune & ~half
        ),
        "validation": _split_quality(x, labels, val, lambda m: tune & (labels == m), lambda: val),
    }


def choose_weight() -> None:
    """The Magenta block's weight in search space, chosen on the tune part only (mean
    of precision@5 and rank MAP); the validation figures are printed beside, not used."""
    rows = []
    for w in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0):
        q = quality(w)
        t, v = q["tune"], q["validation"]
        score = (
            t["similar_same_medium_precision_at_5"] + t["rank_by_fit_mean_average_precision"]
        ) / 2
        rows.append((score, w))
        print(
            f"weight {w:3.1f}: tune p@5 {t['similar_same_medium_precision_at_5']:.3f} "
            f"MAP {t['rank_by_fit_mean_average_precision']:.3f} | validation p@5 "
            f"{v['similar_same_medium_precision_at_5']:.3f} MAP {v['rank_by_fit_mean_average_precision']:.3f}",
            flush=True,
        )
    print(f"best on tune: {max(rows)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["pgvector", "numpy"])
    parser.add_argument("--n", type=int)
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--choose-weight", action="store_true")
    args = parser.parse_args()
    if args.choose_weight:
        choose_weight()
        return
    if args.quality:
        print(json.dumps(quality(), indent=2))
        return
    if args.backend:
        print(json.dumps(scale_run(args.backend, args.n or 10_000), indent=2))
        return
    # Both: numpy on the embedded SQLite, pgvector on PGVECTOR_URL (default: .ci/run's).
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TASTEBASE_VAR_DIR")}
    subprocess.run(
        [sys.executable, __file__, "--backend", "numpy", "--n", "10000"], env=env, check=True
    )
    url = os.environ.get(
        "PGVECTOR_URL", "postgres://postgres@127.0.0.1:5433/tastebase_bench_search"
    )
    subprocess.run(
        [sys.executable, __file__, "--backend", "pgvector", "--n", "100000"],
        env={**env, "DATABASE_URL": url}, check=True,
    )  # fmt: skip


if __name__ == "__main__":
    main()
