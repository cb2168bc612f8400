"""The vector index: exact numpy search is exact; the database's index (pgvector HNSW when
the extension is there) agrees with it and never leaves the visible set."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from django.db import connection

from moodboards.models import BoardImage
from taste import search_index
from taste.models import SearchVector
from taste.vectors import distance_for_score, exact_nearest, scores, space_id

SPACE_ENCODER = "bench-encoder"


def test_exact_nearest_matches_brute_force():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 16)).astype(np.float32)
    q = rng.standard_normal(16).astype(np.float32)
    idx, _ = exact_nearest(x, q, 10)
    truth = np.argsort(np.linalg.norm(x - q, axis=1))[:10]
    assert list(idx) == list(truth)
    rows = np.arange(0, 500, 7)
    idx, _ = exact_nearest(x, q, 5, rows=rows)
    assert set(idx) <= set(rows)


def test_scores_and_thresholds_agree():
    d = distance_for_score(0.5)
    assert scores(np.array([d]))[0] == pytest.approx(0.5)
    assert scores(np.array([0.0]))[0] == 1.0


@pytest.mark.django_db
def test_database_index_agrees_with_exact_and_filters():
    vendor_vector = False
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
            vendor_vector = c.fetchone() is not None
    search_index.reset_cache()
    # With pgvector installed, the migration enabled the column and the index is HNSW.
    assert search_index.pgvector_enabled() == vendor_vector
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 24)).astype(np.float32)
    shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(300)]
    space = space_id(SPACE_ENCODER)
    search_index.index_vectors(space, shas, x)
    assert SearchVector.objects.filter(space=space).count() == 300
    visible = shas[::3]
    # A queryset, as searches pass it: the sha256 of the rows a user may see.
    qs = SearchVector.objects.filter(space=space, sha256__in=visible).values_list(
        "sha256", flat=True
    )
    q = rng.standard_normal(24).astype(np.float32)
    approx = search_index.nearest(SPACE_ENCODER, q, qs, k=10)
    exact = search_index.nearest(SPACE_ENCODER, q, qs, k=10, exact=True)
    assert {n.sha256 for n in approx} <= set(visible)
    assert len(approx) == 10
    truth_rows, truth_d = exact_nearest(x, q, 10, rows=np.arange(0, 300, 3))
    assert [n.sha256 for n in exact] == [shas[i] for i in truth_rows]
    assert np.allclose([n.distance for n in exact], truth_d, atol=1e-3)
    assert len({n.sha256 for n in approx} & {n.sha256 for n in exact}) >= 9
    assert not BoardImage.objects.exists()  # nothing here depends on boards


@pytest.mark.django_db
def test_the_numpy_matrix_follows_rows_added_out_of_order():
    """A row committed with a lower id than one already read (two workers indexing at
    once) is still found: the per-process matrix notices the count and re-reads."""
    if search_index.pgvector_enabled():
        pytest.skip("the numpy path only")
    space = space_id(SPACE_ENCODER)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 8)).astype(np.float32)
    shas = [hashlib.sha256(f"o{i}".encode()).hexdigest() for i in range(3)]
    rows = [
        SearchVector(sha256=s, space=space, vector=v.astype("<f4").tobytes())
        for s, v in zip(shas, x, strict=True)
    ]
    rows[0].save()
    rows[2].id = rows[0].id + 5
    rows[2].save()
    qs = SearchVector.objects.filter(space=space).values_list("sha256", flat=True)
    assert len(search_index.nearest(SPACE_ENCODER, x[1], qs, k=3)) == 2
    rows[1].id = rows[0].id + 2  # committed late, below the last id read
    rows[1].save()
    found = search_index.nearest(SPACE_ENCODER, x[1], qs, k=3)
    assert found[0].sha256 == shas[1] and len(found) == 3
