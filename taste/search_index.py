"""The vector index behind taste search: pgvector HNSW in PostgreSQL, exact numpy elsewhere.

Search vectors (taste.vectors.search_space of each cached ImageEmbedding) live in
SearchVector, one row per (search space, image bytes). They are derived data: `index_sync`
adds whatever a search needs and is missing, so a new encoder id or space version simply
indexes afresh and two spaces are never mixed.

* PostgreSQL with pgvector (migration 0003 added the ``embedding vector`` column): one
  partial HNSW index per space, on ``embedding::vector(dim)`` (each encoder has its own
  dimension, so the column is untyped and the index is an expression index). Queries
  join the user's visible images as a filter and use pgvector's iterative scan, so a
  filter that hides most of the library still fills the top k.
* Anywhere else: every vector of the space in one float32 matrix per process, refreshed
  when rows are added, and an exact matrix-vector search over the visible rows.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db import connections, transaction
from django.db.models import Count, Max, QuerySet

from .models import ImageEmbedding, SearchVector
from .vectors import exact_nearest, from_bytes, search_space, space_id, to_bytes

HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 100
# Rows the iterative scan may visit before giving up (pgvector's default is 20,000): a
# user who sees 1 % of a 100k library still gets a full page of results.
HNSW_MAX_SCAN_TUPLES = 100_000
SYNC_BATCH = 2000
# The widest HNSW scan before a search falls back to an exact one over the visible rows.
MAX_CANDIDATES = 2560
_SAFE_SPACE = re.compile(r"^[A-Za-z0-9_.+\-|/:]+$")


@dataclass(frozen=True)
class Neighbour:
    sha256: str
    distance: float


# --- which backend ------------------------------------------------------------------------

_pgvector: dict[str, bool] = {}


def pgvector_enabled(using: str = "default") -> bool:
    """Whether this database has the pgvector column (decided by migration 0003)."""
    connection = connections[using]
    key = f"{using}:{connection.settings_dict.get('NAME')}"
    if key not in _pgvector:
        enabled = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM information_schema.columns "
                    "WHERE table_name = 'taste_searchvector' AND column_name = 'embedding'"
                )
                enabled = cursor.fetchone() is not None
        _pgvector[key] = enabled
    return _pgvector[key]


def backend_name(using: str = "default") -> str:
    return "pgvector HNSW" if pgvector_enabled(using) else "exact (numpy)"


# --- keeping the index filled ---------------------------------------------------------------


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{float(v):.6g}" for v in vector) + "]"


def _space_sql(space: str) -> str:
    if not _SAFE_SPACE.match(space):
        raise ValueError(f"unexpected characters in search space {space!r}")
    return "'" + space + "'"


_ensured: set[tuple[str, str, int]] = set()
# (space, visibility query, k) -> how many HNSW candidates the last search needed.
_widths: dict[tuple, int] = {}


def ensure_hnsw(space: str, dim: int, using: str = "default") -> None:
    """The partial HNSW index for one space (made once, then kept up to date by
    PostgreSQL as rows are added)."""
    connection = connections[using]
    key = (str(connection.settings_dict.get("NAME")), space, dim)
    if key in _ensured:
        return
    name = "taste_sv_hnsw_" + hashlib.sha256(f"{space}:{dim}".encode()).hexdigest()[:12]
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON taste_searchvector USING hnsw "
            f"((embedding::vector({dim})) vector_l2_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
            f"WHERE space = {_space_sql(space)}"
        )
    _ensured.add(key)


def index_vectors(space: str, shas: list[str], vectors: np.ndarray, using: str = "default") -> None:
    """Store search vectors (existing rows win: the same bytes give the same vector)."""
    if not shas:
        return
    if pgvector_enabled(using):
        ensure_hnsw(space, vectors.shape[1], using)
        with connections[using].cursor() as cursor:
            cursor.executemany(
                "INSERT INTO taste_searchvector (sha256, space, vector, embedding) "
                "VALUES (%s, %s, %s, %s::vector) ON CONFLICT DO NOTHING",
                [
                    (sha, space, to_bytes(v), _literal(v))
                    for sha, v in zip(shas, vectors, strict=True)
                ],
            )
        return
    SearchVector.objects.using(using).bulk_create(
        [
            SearchVector(sha256=sha, space=space, vector=to_bytes(v))
            for sha, v in zip(shas, vectors, strict=True)
        ],
        ignore_conflicts=True,
        batch_size=500,
    )


def index_sync(encoder_id: str, shas: QuerySet | Iterable[str]) -> int:
    """Index the cached embeddings among ``shas`` that have no search vector yet."""
    space = space_id(encoder_id)
    missing = (
        ImageEmbedding.objects.filter(encoder_id=encoder_id, sha256__in=shas)
        .exclude(sha256__in=SearchVector.objects.filter(space=space).values("sha256"))
        .values_list("sha256", "vector")
    )
    added = 0
    batch: list[tuple[str, bytes]] = []
    for row in missing.iterator(chunk_size=SYNC_BATCH):
        batch.append(row)
        if len(batch) >= SYNC_BATCH:
            added += _sync_batch(encoder_id, space, batch)
            batch = []
    if batch:
        added += _sync_batch(encoder_id, space, batch)
    return added


def _sync_batch(encoder_id: str, space: str, rows: list[tuple[str, bytes]]) -> int:
    vectors = search_space(from_bytes([v for _, v in rows]), encoder_id)
    index_vectors(space, [s for s, _ in rows], vectors)
    return len(rows)


def vectors_for(encoder_id: str, shas: Iterable[str]) -> dict[str, np.ndarray]:
    """Search vectors of particular images (indexing them first if needed)."""
    shas = list(dict.fromkeys(shas))
    index_sync(encoder_id, shas)
    rows = SearchVector.objects.filter(space=space_id(encoder_id), sha256__in=shas).values_list(
        "sha256", "vector"
    )
    return {sha: np.frombuffer(bytes(v), dtype="<f4").copy() for sha, v in rows}


# --- the exact numpy path -------------------------------------------------------------------


@dataclass
class _Matrix:
    max_id: int
    count: int
    ids: np.ndarray  # SearchVector ids, ascending: row i is ids[i]
    shas: list[str]
    rows: dict[str, int]
    matrix: np.ndarray
    norms: np.ndarray  # squared row lengths


_matrices: dict[tuple[str, str], _Matrix] = {}
_lock = threading.Lock()


def reset_cache() -> None:
    """Forget the per-process matrices (tests roll rows back; production never deletes)."""
    with _lock:
        _matrices.clear()
        _pgvector.clear()
        _ensured.clear()
        _widths.clear()


def _matrix(space: str, using: str = "default") -> _Matrix:
    qs = SearchVector.objects.using(using).filter(space=space)
    stats = qs.aggregate(max_id=Max("id"), n=Count("id"))
    max_id, count = stats["max_id"] or 0, stats["n"]
    key = (f"{using}:{connections[using].settings_dict.get('NAME')}", space)
    with _lock:
        cached = _matrices.get(key)
        if cached is not None and cached.max_id == max_id and cached.count == count:
            return cached
        fresh = True
        if cached is not None and cached.max_id < max_id:
            new = list(
                qs.filter(id__gt=cached.max_id).order_by("id").values_list("id", "sha256", "vector")
            )
            # Only rows past the last id arrived (two processes indexing at once can
            # commit a lower id later: then the counts differ and everything is re-read).
            if cached.count + len(new) == count:
                fresh = False
                ids = np.concatenate([cached.ids, np.array([r[0] for r in new], dtype=np.int64)])
                shas = cached.shas + [r[1] for r in new]
                matrix = np.concatenate([cached.matrix, from_bytes([r[2] for r in new])])
        if fresh:
            rows = list(qs.order_by("id").values_list("id", "sha256", "vector"))
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            shas = [r[1] for r in rows]
            matrix = from_bytes([r[2] for r in rows])
        norms = np.einsum("ij,ij->i", matrix, matrix)
        built = _Matrix(
            max_id, len(shas), ids, shas, {s: i for i, s in enumerate(shas)}, matrix, norms
        )
        _matrices[key] = built
        return built


# --- queries --------------------------------------------------------------------------------


def nearest(
    encoder_id: str,
    query: np.ndarray,
    visible_shas: QuerySet,
    *,
    k: int = 20,
    exact: bool = False,
    using: str = "default",
) -> list[Neighbour]:
    """The k visible images nearest ``query`` (a search vector), nearest first.

    ``visible_shas`` is a queryset of sha256 values (what the user may see); nothing
    outside it is ever returned. ``exact`` forces a full scan (the benchmark's truth)."""
    space = space_id(encoder_id)
    query = np.asarray(query, dtype=np.float32).reshape(-1)
    if pgvector_enabled(using):
        return _nearest_pg(space, query, visible_shas, k=k, exact=exact, using=using)
    m = _matrix(space, using)
    if m.count == 0:
        return []
    if m.matrix.shape[1] != query.shape[0]:
        raise ValueError(
            f"query has {query.shape[0]} values, the {space} index {m.matrix.shape[1]}"
        )
    # The visible hashes straight from the cursor (Django's per-row iteration costs as
    # much as the query on a 10,000-image library), mapped to matrix rows.
    sql, params = visible_shas.query.sql_with_params()
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        visible = cursor.fetchall()
    get = m.rows.get
    pos = np.fromiter(
        (r for r in map(get, (v[0] for v in visible)) if r is not None), dtype=np.int64
    )
    pos = np.unique(pos)  # an image on two boards is one row
    idx, dist = exact_nearest(m.matrix, query, k, rows=pos, norms=m.norms)
    return [Neighbour(m.shas[i], float(d)) for i, d in zip(idx, dist, strict=True)]


def _nearest_pg(
    space: str, query: np.ndarray, visible_shas: QuerySet, *, k: int, exact: bool, using: str
) -> list[Neighbour]:
    """Nearest first from the HNSW index, then keep the visible ones; widen the index
    scan until k are visible (a user who sees a small part of a large library), and
    search the visible rows exactly when even the widest scan finds too few (then they
    are few, and the exact join is cheap).

    The visibility check runs on the candidates (an index lookup by hash each), not
    as a join in the vector query: joined, PostgreSQL's planner prefers to collect
    every visible row and sort them, which took 1.5 s at 100,000 images."""
    dim = int(query.shape[0])
    ensure_hnsw(space, dim, using)
    literal = _literal(query)
    distance = f"(sv.embedding::vector({dim}) <-> %s::vector({dim}))"
    if exact:
        return _exact_pg(space, distance, literal, visible_shas, k, using)
    # Start as wide as this user's last search had to go (a user who sees a tenth of
    # the library needs ~10x the candidates every time).
    visible_sql, visible_params = visible_shas.query.sql_with_params()
    width_key = (space, visible_sql, tuple(visible_params), k)
    candidates = max(4 * k, 40, _widths.get(width_key, 0))
    while True:
        sql = (
            f"SELECT sv.sha256, {distance} FROM taste_searchvector sv "
            f"WHERE sv.space = {_space_sql(space)} ORDER BY {distance} LIMIT %s"
        )
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(
                f"SET LOCAL hnsw.ef_search = {min(max(candidates, HNSW_EF_SEARCH), 1000)}"
            )
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cursor.execute(f"SET LOCAL hnsw.max_scan_tuples = {HNSW_MAX_SCAN_TUPLES}")
            cursor.execute(sql, [literal, literal, candidates])
            rows = cursor.fetchall()
        shown = set(visible_shas.filter(sha256__in=[sha for sha, _ in rows]))
        found = [Neighbour(sha, float(d)) for sha, d in rows if sha in shown]
        if len(found) >= k or len(rows) < candidates:
            _widths[width_key] = candidates
            if len(_widths) > 10_000:
                _widths.clear()
            break  # enough, or the whole space was scanned
        if candidates >= MAX_CANDIDATES:
            return _exact_pg(space, distance, literal, visible_shas, k, using)
        candidates *= 8
    # relaxed_order may return neighbours slightly out of order: sort them.
    return sorted(found, key=lambda n: n.distance)[:k]


def _exact_pg(
    space: str, distance: str, literal: str, visible_shas: QuerySet, k: int, using: str
) -> list[Neighbour]:
    visible_sql, visible_params = visible_shas.query.sql_with_params()
    # "+ 0" hides the expression from the planner: a sequential, exact scan.
    sql = (
        f"SELECT sv.sha256, {distance} FROM taste_searchvector sv "
        f"WHERE sv.space = {_space_sql(space)} AND sv.sha256 IN ({visible_sql}) "
        f"ORDER BY {distance} + 0 LIMIT %s"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [literal, *visible_params, literal, k])
        return [Neighbour(sha, float(d)) for sha, d in cursor.fetchall()]
